"""Boundaries typed or drawn in the admin: a hostile one is a Chinese form error, never a 500 or a crash.

Django's map widget hands the posted text to GEOS, which aborted the whole
process on ±1e300; governance.geotext now reads and checks it first. Every
hostile text goes through the Region admin's own boundary field in a child
process first (tests/governance/geometry_runner.py): had GEOS aborted, the
child's exit code fails the test instead of killing pytest. Only then is it
posted to the admin here, as a superuser, and the row must be unchanged.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pyproj
import pytest
from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from django.urls import reverse
from PIL import ExifTags

import grids.validation
from cases import photos
from governance import geocheck
from governance.geocheck import WEB_MERCATOR_BOUNDS, GeometryError
from governance.geotext import MAX_TEXT_CHARS, geometry_from_text
from governance.models import Region
from tests.factories import community

TO_MAP = pyproj.Transformer.from_crs(4326, 3857, always_xy=True)
RING = [(121.50, 29.99), (121.51, 29.99), (121.51, 30.00), (121.50, 30.00), (121.50, 29.99)]
BOWTIE = [(121.50, 29.99), (121.51, 30.00), (121.51, 29.99), (121.50, 30.00), (121.50, 29.99)]


def on_map(ring) -> list[list[float]]:
    """A ring as the admin's OpenLayers map sends it: EPSG:3857 metres."""
    return [list(TO_MAP.transform(x, y)) for x, y in ring]


def geojson(coordinates, kind="MultiPolygon", **members) -> str:
    return json.dumps({"type": kind, "coordinates": coordinates, **members})


def wkt(ring, srid=4326, kind="POLYGON") -> str:
    return f"SRID={srid};{kind}((" + ", ".join(f"{x} {y}" for x, y in ring) + "))"


GOOD = geojson([[on_map(RING)]])
GOOD_X = json.dumps(on_map(RING)[1][0])  # the text of a coordinate, to be replaced by something hostile
DEEP = "[" * 5000 + "]" * 5000
DEEPER = "[" * 100_000 + "]" * 100_000

# name → (posted text, what the Chinese form error must say)
HOSTILE = {
    "plus_minus_1e300": (geojson([[[[-1e300, -1e300], [1e300, -1e300], [1e300, 1e300], [-1e300, -1e300]]]]),
                         "第 1 个环含有点 (-1e+300, -1e+300)，超出坐标系的有效范围（-20037508.34..20037508.34"),
    "wkt_1e300": ("POLYGON((-1e300 -1e300, 1e300 -1e300, 1e300 1e300, -1e300 -1e300))", "超出坐标系的有效范围"),
    "1e400": (GOOD.replace(GOOD_X, "1e400", 1), "NaN 或无穷大"),
    "int_beyond_float": (GOOD.replace(GOOD_X, "1" + "0" * 400, 1), "NaN 或无穷大"),
    "nan": (GOOD.replace(GOOD_X, "NaN", 1), "NaN 或无穷大"),
    "infinity": (GOOD.replace(GOOD_X, "Infinity", 1), "NaN 或无穷大"),
    "wkt_minus_inf": (wkt(RING).replace("121.51 29.99", "-inf 29.99"), "NaN 或无穷大"),
    "lat_95": (wkt(RING).replace(" 30.0", " 95.0"), "超出坐标系的有效范围（-180..180, -90..90）"),
    "mercator_y_beyond_the_map": (geojson([[[[0, 0], [1000, 0], [1000, 3e7], [0, 0]]]]), "超出坐标系的有效范围"),
    "unclosed": (geojson([[on_map(RING[:-1])]]), "未闭合"),
    "three_point_ring": (geojson([[on_map([RING[0], RING[1], RING[0]])]]), "至少需要 4 个点"),
    "self_intersecting": (geojson([[on_map(BOWTIE)]]), "多边形无效"),
    "million_vertices_geojson": ('{"type":"Polygon","coordinates":[[' + "[0,0]," * 999_999 + "[0,0]]]}",
                                 f"最多接受 {MAX_TEXT_CHARS} 个"),
    "million_vertices_wkt": ("POLYGON((" + "0 0," * 999_999 + "0 0))", "最多允许 100000 个"),
    "nested_5000": ('{"type":"MultiPolygon","coordinates":' + DEEP + "}", "嵌套层级过深"),
    "nested_100000": ('{"type":"MultiPolygon","coordinates":' + DEEPER + "}", "嵌套层级过深"),
    "a_point": (geojson(on_map(RING)[0], kind="Point"), "此字段需要 MultiPolygon / Polygon 类型的几何图形"),
    "a_linestring_wkt": ("LINESTRING(0 0, 1000 1000)", "此字段需要 MultiPolygon / Polygon 类型的几何图形"),
    "a_collection": ("GEOMETRYCOLLECTION(POINT(0 0))", "此字段需要 MultiPolygon / Polygon 类型的几何图形"),
    "ewkt_other_srid": (wkt(RING, srid=4490), "此处不接受 SRID 4490"),
    "degrees_without_srid": (wkt(RING).removeprefix("SRID=4326;"), "看起来是经纬度"),
    "crs_member": (geojson([[on_map(RING)]], crs={"type": "name", "properties": {"name": "EPSG:4326"}}),
                   "不能带 crs 成员"),
    "garbage": ("robert'); DROP TABLE governance_region;--", "既不是 GeoJSON 也不是 WKT"),
    "unbalanced_wkt": ("POLYGON((0 0, 1000 0, 1000 1000, 0 0)", "既不是 GeoJSON 也不是 WKT"),
    "json_list": ("[[1, 2]]", "既不是 GeoJSON 也不是 WKT"),
    "hex_wkb": (GEOSGeometry(wkt(RING)).hexewkb.decode(), "不接受十六进制 WKB"),
    "booleans": (geojson([[[[True, False]] * 4]]), "不是一对数值"),
    "string_coordinates": (geojson("0,0"), "不是由点组成的环"),
    "empty": ("MULTIPOLYGON EMPTY", "几何图形为空"),
}  # fmt: skip
# Bodies beyond DATA_UPLOAD_MAX_MEMORY_SIZE: posted with that limit lifted, so our own bound is what answers.
LARGE = {"million_vertices_geojson", "million_vertices_wkt", "nested_100000"}
ACCEPTED = {"good_geojson": GOOD, "good_ewkt": wkt(RING)}


@pytest.fixture(scope="module")
def child_outcomes(tmp_path_factory) -> dict:
    cases = tmp_path_factory.mktemp("geometry") / "cases.json"
    cases.write_text(json.dumps({name: text for name, (text, _) in HOSTILE.items()} | ACCEPTED), encoding="utf-8")
    env = os.environ | {"DJANGO_SETTINGS_MODULE": "governance.settings", "DEBUG": "1"}
    command = [sys.executable, "-m", "tests.governance.geometry_runner", str(cases)]
    try:
        child = subprocess.run(command, cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120)
        stdout, died = child.stdout, child.returncode and f"exit {child.returncode}: {child.stderr[-2000:]}"
    except subprocess.TimeoutExpired as timeout:
        # Django's own path spins for minutes in GDAL's transform on ±1e300: a hang fails too.
        stdout, died = (timeout.stdout or b"").decode(), "no answer within 120 s"
    lines = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    started = [line["started"] for line in lines if "started" in line]
    outcomes = {line["name"]: line for line in lines if "outcome" in line}
    return {"outcomes": outcomes, "died": f"{died} (last case started: {started[-1:]})"}


def survived_in_child(child_outcomes, name: str) -> dict:
    outcome = child_outcomes["outcomes"].get(name)
    assert outcome is not None, f"the boundary field died in the child before answering: {child_outcomes['died']}"
    return outcome


@pytest.fixture
def region(db):
    region = community()
    region.boundary = MultiPolygon(GEOSGeometry(wkt(RING)), srid=4326)
    region.save()
    return region


def post_change(client, region, boundary: str, name="改过的名字"):
    data = {"code": region.code, "name": name, "level": region.level, "parent": region.parent_id,
            "boundary": boundary, "_save": "1"}  # fmt: skip
    return client.post(reverse("admin:governance_region_change", args=[region.pk]), data)


# --- Through the admin, as a superuser ---------------------------------------------------------


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_boundary_is_a_chinese_form_error_and_changes_nothing(
    child_outcomes, name, client, personas, region, settings
):
    text, expected = HOSTILE[name]
    outcome = survived_in_child(child_outcomes, name)
    assert outcome["outcome"] == "refused" and expected in outcome["message"], outcome
    assert outcome["message"].startswith("几何图形未被接受：")

    if name in LARGE:
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = None
    before = Region.objects.get(pk=region.pk)
    client.force_login(personas["sysadmin"])
    response = post_change(client, region, text)
    assert response.status_code == 200
    html = response.content.decode()
    assert "几何图形未被接受：" in html and expected in html
    after = Region.objects.get(pk=region.pk)
    assert after.name == before.name and after.boundary.equals_exact(before.boundary, 0)


@pytest.mark.parametrize("name", ["plus_minus_1e300", "nan", "unclosed", "hex_wkb"])
def test_hostile_boundary_on_the_add_form_creates_nothing(child_outcomes, name, client, personas, region):
    survived_in_child(child_outcomes, name)
    client.force_login(personas["sysadmin"])
    data = {"code": "330211001002", "name": "新社区", "level": "community", "parent": region.parent_id,
            "boundary": HOSTILE[name][0], "_save": "1"}  # fmt: skip
    response = client.post(reverse("admin:governance_region_add"), data)
    assert response.status_code == 200 and HOSTILE[name][1] in response.content.decode()
    assert not Region.objects.filter(code="330211001002").exists()


def test_a_body_beyond_the_upload_limit_is_refused_without_a_500(client, personas, region):
    client.force_login(personas["sysadmin"])
    response = post_change(client, region, HOSTILE["million_vertices_geojson"][0])
    assert response.status_code == 413  # governance.errors: the Chinese "too large" page
    assert Region.objects.get(pk=region.pk).name == region.name


@pytest.mark.parametrize("name", list(ACCEPTED))
def test_a_good_boundary_is_saved_in_the_storage_srid(child_outcomes, name, client, personas, region):
    assert survived_in_child(child_outcomes, name)["outcome"] == "accepted"
    region.boundary = None
    region.save()
    client.force_login(personas["sysadmin"])
    response = post_change(client, region, ACCEPTED[name])
    assert response.status_code == 302
    region.refresh_from_db()
    assert region.name == "改过的名字"
    assert region.boundary.srid == settings.STORAGE_SRID and region.boundary.geom_type == "MultiPolygon"
    assert np.allclose(region.boundary.coords[0][0], RING, atol=1e-9)


def test_a_good_boundary_is_drawn_again_after_another_fields_error(client, personas, region):
    client.force_login(personas["sysadmin"])
    response = post_change(client, region, GOOD, name="")
    assert response.status_code == 200
    textarea = response.content.decode().split('name="boundary"', 1)[1].split("</textarea>", 1)[0]
    drawn = json.loads(textarea.split(">", 1)[1].replace("&quot;", '"'))
    assert drawn["type"] == "MultiPolygon"
    assert np.allclose(drawn["coordinates"][0][0], on_map(RING), atol=1e-3)


def test_clearing_the_map_removes_the_boundary(client, personas, region):
    client.force_login(personas["sysadmin"])
    assert post_change(client, region, "").status_code == 302
    region.refresh_from_db()
    assert region.boundary is None


# --- The reader itself ---------------------------------------------------------------------------


def read(text, geom_type="MULTIPOLYGON"):
    return geometry_from_text(text, geom_type=geom_type, map_srid=3857)


@pytest.mark.parametrize(
    "text",
    [
        wkt(RING),
        wkt(RING).lower(),
        "SRID=4326; POLYGON Z ((" + ", ".join(f"{x} {y} 7" for x, y in RING) + "))",
        "SRID=4326;MULTIPOLYGON(((" + ", ".join(f"{x} {y}" for x, y in RING) + ")))",
        "MULTIPOLYGON(((" + ", ".join(f"{x} {y}" for x, y in on_map(RING)) + ")))",
        geojson([on_map(RING)], kind="Polygon"),
        json.dumps({"type": "Feature", "properties": {}, "geometry": json.loads(GOOD)}),
        f"  {GOOD}\n",
    ],
    ids=["ewkt", "lower-case", "z-dropped", "multi-ewkt", "wkt-in-map-metres", "polygon", "feature", "whitespace"],
)
def test_the_reader_accepts_what_a_person_or_the_map_writes(text):
    geometry = read(text)
    assert (geometry.geom_type, geometry.srid, geometry.hasz) == ("MultiPolygon", 4326, False)
    assert np.allclose(geometry.coords[0][0], RING, atol=1e-9)


@pytest.mark.parametrize(
    ("text", "geom_type", "message"),
    [
        ("SRID=4326;MULTIPOLYGON(((" + ", ".join(f"{x} {y}" for x, y in RING) + ")),(("
         + ", ".join(f"{x + 1} {y}" for x, y in RING) + ")))", "POLYGON", "takes Polygon, not 'MultiPolygon'"),
        (wkt(RING), "POINT", "cannot be edited on the map"),
        (wkt(RING) + " trailing", "MULTIPOLYGON", "neither GeoJSON nor WKT"),
        ("SRID=4326;POLYGON((121.5, 29.99))", "MULTIPOLYGON", "not a pair of numbers"),
        ("SRID=4326;POLYGON((((((121.5 29.99))))))", "MULTIPOLYGON", "neither GeoJSON nor WKT"),
        ("POLYGON((0x10 0, 1 1))", "MULTIPOLYGON", "neither GeoJSON nor WKT"),
        ("x" * (MAX_TEXT_CHARS + 1), "MULTIPOLYGON", "characters long"),
        (b"POLYGON EMPTY", "MULTIPOLYGON", "not text"),
        (json.dumps({"type": "Feature", "geometry": None}), "MULTIPOLYGON", "not a geometry object"),
        ('{"type": "Polygon", "coordinates": [[' + "[0,0]," * 120_000 + "[0,0]]]}", "MULTIPOLYGON",
         "at most 100000 vertices"),
    ],
    ids=["two-parts-for-a-polygon", "point-field", "trailing-word", "one-number", "too-deep",
         "hex-number", "too-long", "bytes", "null-feature", "brackets"],
)  # fmt: skip
def test_the_reader_refuses_clearly(text, geom_type, message, english):
    with pytest.raises(GeometryError, match=message):
        read(text, geom_type)


def test_the_map_range_is_the_web_mercator_square():
    x, y = TO_MAP.transform(180, 85.05112877980659)
    assert WEB_MERCATOR_BOUNDS == pytest.approx((-x, -y, x, y))


# --- One set of checks ---------------------------------------------------------------------------


def test_grids_validation_uses_the_governance_checks():
    for name in ["GeometryError", "check_point", "check_ring", "check_rings", "check_counts", "WGS84_BOUNDS",
                 "MAX_VERTICES_PER_FEATURE", "MAX_RINGS_PER_FEATURE"]:  # fmt: skip
        assert getattr(grids.validation, name) is getattr(geocheck, name), name


def test_ring_array_turns_an_integer_beyond_any_float_into_infinity():
    ring = geocheck.ring_array([[10**400, 0], [0, 0]], number=1)
    assert np.isinf(ring[0]).all()


def gps(lat: float, lng: float) -> dict:
    return {ExifTags.GPS.GPSLatitude: (lat, 0, 0), ExifTags.GPS.GPSLatitudeRef: "N",
            ExifTags.GPS.GPSLongitude: (lng, 0, 0), ExifTags.GPS.GPSLongitudeRef: "E"}  # fmt: skip


@pytest.mark.parametrize(("lat", "lng"), [(95, 121.5), (30, 190), (0, 0)])
def test_a_photo_gps_position_off_the_globe_or_at_zero_is_unknown(lat, lng):
    assert photos._taken_where(gps(lat, lng)) is None


def test_a_photo_gps_position_on_the_globe_is_kept():
    point = photos._taken_where(gps(30, 121.5))
    assert (point.x, point.y, point.srid) == (121.5, 30, settings.STORAGE_SRID)
