"""Hostile layer files: every one is refused with a clear Chinese message naming the feature, none crashes.

The files are read in a child process (tests/grids/hostile_runner.py): had
GEOS or GDAL aborted, the child's exit code fails the test instead of
killing pytest.
"""

import json
import os
import shutil
import subprocess
import sys
import zipfile

import pytest
from django.conf import settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from grids import validation
from grids.importing import LayerImportError, read_polygons

RING = [[121.50, 29.99], [121.51, 29.99], [121.51, 30.00], [121.50, 30.00], [121.50, 29.99]]


def polygon(coordinates, code="CG-1", kind="Polygon", **extra) -> dict:
    return {"type": "Feature", "properties": {"code": code}, "geometry": {"type": kind, "coordinates": coordinates}}


def collection(*features, **members) -> str:
    return json.dumps({"type": "FeatureCollection", **members, "features": list(features)})


def huge_ring(n: int) -> str:
    # Written as text: building a million Python lists just to dump them would dominate the test.
    points = ",".join(f"[121.{i % 10000:04d},30]" for i in range(n - 1))
    return f"[[{points},[121.0000,30]]]"


DEEP = "[" * 5000 + "]" * 5000
DEEPER = "[" * 100_000 + "]" * 100_000
# name → (file text, what the Chinese message must say); None: imported cleanly (with a report).
GEOJSON = {
    "plus_minus_1e300.geojson": (collection(polygon([[[-1e300, -1e300], [1e300, -1e300], [1e300, 1e300],
                                                      [-1e300, -1e300]]])), "要素 CG-1（第 1 个）：第 1 个环含有点"),
    "nan.geojson": (collection(polygon([[[121.5, "NaN"]]])).replace('"NaN"', "NaN"), "要素 CG-1"),
    "nan_ring.geojson": (collection(polygon([[[121.5, 29.99], [121.51, 29.99], [121.51, 30], [121.5, 29.99]]]))
                         .replace("121.51, 30", "NaN, 30"), "NaN 或无穷大"),
    "infinity.geojson": (collection(polygon([[[121.5, 29.99], [1e400, 29.99], [121.51, 30], [121.5, 29.99]]]))
                         .replace("Infinity", "Infinity"), "NaN 或无穷大"),
    "minus_infinity.geojson": (collection(polygon([RING])).replace("121.51, 29.99", "-Infinity, 29.99", 1),
                               "NaN 或无穷大"),
    "int_beyond_float.geojson": (collection(polygon([RING])).replace("121.51", "1" + "0" * 400, 1), "NaN 或无穷大"),
    "lat_95.geojson": (collection(polygon([RING])).replace("30.0", "95.0"), "超出坐标系的有效范围"),
    "unclosed.geojson": (collection(polygon([RING[:-1] + [[121.5, 29.995]]])), "未闭合"),
    "three_points.geojson": (collection(polygon([[RING[0], RING[1], RING[0]]])), "至少需要 4 个点"),
    "empty_collection.geojson": (collection(), "没有要素"),
    "empty_geometry.geojson": (collection(polygon([])), "没有可导入的"),
    "only_a_point.geojson": (collection(polygon([121.5, 30], kind="Point")), "没有可导入的"),
    "unknown_type.geojson": (collection(polygon([RING], kind="Circle")), "不是 GeoJSON 几何对象"),
    "string_coordinates.geojson": (collection(polygon("121.5,30")), "坐标不是由点组成的环"),
    "string_numbers.geojson": (collection(polygon([[[str(x), str(y)] for x, y in RING]])), "不是一对数值"),
    "booleans.geojson": (collection(polygon([[[True, False]] * 4])), "不是一对数值"),
    "nested_5000.geojson": (collection(polygon(["DEEP"])).replace('"DEEP"', DEEP), "嵌套层级过深"),
    "nested_100000.geojson": (DEEPER, "嵌套层级过深"),
    "features_an_object.geojson": (json.dumps({"type": "FeatureCollection", "features": {"a": 1}}), "没有要素列表"),
    "feature_a_string.geojson": (json.dumps({"type": "FeatureCollection", "features": ["x"]}), "第 1 个要素不是"),
    "top_level_list.geojson": ("[1, 2]", "不是 GeoJSON"),
    "not_utf8.geojson": ("\udcff", "UTF-8"),
    "million_vertices.geojson": (None, "每个要素最多允许 100000 个"),
    "epsg_999999.geojson": (collection(polygon([RING]), crs={"type": "name", "properties": {"name": "EPSG:999999"}}),
                            "未知的坐标系"),
    "crs_file_path.geojson": (collection(polygon([RING]), crs={"type": "name", "properties": {"name": "/etc/passwd"}}),
                              "未知的坐标系"),
    "crs_url.geojson": (collection(polygon([RING]), crs={"type": "name",
                                                          "properties": {"name": "http://example.com/x.prj"}}),
                        "未知的坐标系"),
    "crs_link.geojson": (collection(polygon([RING]), crs={"type": "link", "properties": {"href": "file:///x.prj"}}),
                         "不会访问链接"),
    "projected_far_off.geojson": (collection(polygon([[[x * 1e9, y * 1e9] for x, y in RING]]),
                                             crs={"type": "name", "properties": {"name": "EPSG:4547"}}),
                                  "超出坐标系的有效范围"),
    "self_touching.geojson": (collection(polygon([[[121.5, 29.99], [121.52, 29.99], [121.51, 30.0], [121.515, 29.99],
                                                   [121.505, 29.99], [121.51, 30.0], [121.5, 29.99]]])), None),
}  # fmt: skip


def write(folder, name: str, text: str | None):
    path = folder / name
    if name == "million_vertices.geojson":
        text = '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"BIG"},' \
               f'"geometry":{{"type":"Polygon","coordinates":{huge_ring(1_000_000)}}}}}]}}'
    if name == "not_utf8.geojson":
        path.write_bytes(b'{"type": "\xff"}')
    else:
        path.write_text(text, encoding="utf-8")
    return path


def run_child(paths) -> list[dict]:
    env = os.environ | {"DJANGO_SETTINGS_MODULE": "governance.settings", "DEBUG": "1", "LANGUAGE_CODE": "zh-hans"}
    child = subprocess.run([sys.executable, "-m", "tests.grids.hostile_runner", *map(str, paths)],
                           cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=600)  # fmt: skip
    lines = [json.loads(line) for line in child.stdout.splitlines() if line.startswith("{")]
    started = [line["started"] for line in lines if "started" in line]
    assert child.returncode == 0, f"the reader died (exit {child.returncode}) on {started[-1:]}: {child.stderr[-2000:]}"
    return [line for line in lines if "outcome" in line]


@pytest.fixture(scope="module")
def geojson_outcomes(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    paths = [write(folder, name, text) for name, (text, _) in GEOJSON.items()]
    return {os.path.basename(o["file"]): o for o in run_child(paths)}


@pytest.mark.parametrize("name", list(GEOJSON))
def test_hostile_geojson_is_refused_clearly_never_crashes(geojson_outcomes, name):
    outcome, expected = geojson_outcomes[name], GEOJSON[name][1]
    if expected is None:
        assert outcome["outcome"] == "imported" and [p["kind"] for p in outcome["problems"]] == ["repaired"]
        return
    assert outcome["outcome"] == "refused"
    assert expected in outcome["message"]
    assert "/tmp" not in outcome["message"] and "pytest" not in outcome["message"]


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path):
    path = tmp_path / "huge.geojson"
    with path.open("wb") as out:
        out.truncate(validation.MAX_FILE_BYTES + 1)  # sparse: nothing to parse, only the size is looked at
    with pytest.raises(LayerImportError, match="50 MB"):
        read_polygons(path)


def test_the_vertex_budget_of_a_file(tmp_path, monkeypatch):
    monkeypatch.setattr(validation, "MAX_VERTICES_PER_FILE", 12)
    path = tmp_path / "many.geojson"
    path.write_text(collection(*(polygon([RING], code=f"CG-{i}") for i in range(3))))
    with pytest.raises(LayerImportError, match="CG-2"):
        read_polygons(path)


# --- Shapefile and GeoPackage: GDAL reads them, the checks come before GEOS ----------------------


def ogr2ogr(*args):
    if shutil.which("ogr2ogr") is None:
        pytest.fail("ogr2ogr (Debian package gdal-bin) is required")
    subprocess.run(["ogr2ogr", *args], check=True, capture_output=True)


def zipped(folder, name: str, drop_prj=False, prj_text=None):
    archive = folder / f"{name}.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for part in sorted(folder.glob(f"{name}.*")):
            if part.suffix == ".prj" and (drop_prj or prj_text is not None):
                if prj_text is not None:
                    out.writestr(part.name, prj_text)
                continue
            if part.suffix != ".zip":
                out.write(part, part.name)
    return archive


@pytest.fixture(scope="module")
def ogr_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ogr")
    big = folder / "big.geojson"
    big.write_text(collection(polygon([[[-1e300, -1e300], [1e300, -1e300], [1e300, 1e300], [-1e300, -1e300]]])))
    inf_ring = collection(polygon([[[121.5, 29.99], [1e308, 29.99], [121.51, 30], [121.5, 29.99]]]))
    (folder / "edge.geojson").write_text(inf_ring)
    good = folder / "good.geojson"
    good.write_text(collection(polygon([RING])))
    files = {}
    ogr2ogr("-f", "GPKG", str(folder / "big.gpkg"), str(big))
    files["gpkg_1e300"] = (folder / "big.gpkg", "超出坐标系的有效范围")
    ogr2ogr("-f", "GPKG", str(folder / "edge.gpkg"), str(folder / "edge.geojson"))
    files["gpkg_1e308"] = (folder / "edge.gpkg", "超出坐标系的有效范围")
    ogr2ogr("-f", "ESRI Shapefile", "-a_srs", "EPSG:4547", str(folder / "proj.shp"), str(big))
    files["shp_projected_1e300"] = (zipped(folder, "proj"), "超出坐标系的有效范围")
    ogr2ogr("-f", "ESRI Shapefile", str(folder / "noprj.shp"), str(good))
    files["shp_without_prj"] = (zipped(folder, "noprj", drop_prj=True), "未说明其坐标系")
    ogr2ogr("-f", "ESRI Shapefile", str(folder / "badprj.shp"), str(good))
    files["shp_garbage_prj"] = (zipped(folder, "badprj", prj_text="/etc/passwd"), "坐标系")
    ogr2ogr("-f", "GPKG", "-a_srs", "EPSG:4326", str(folder / "good.gpkg"), str(good))
    files["gpkg_good"] = (folder / "good.gpkg", None)
    (folder / "broken.gpkg").write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)
    files["gpkg_broken"] = (folder / "broken.gpkg", "GDAL")
    (folder / "notzip.zip").write_bytes(b"PK\x03\x04 not really")
    files["zip_broken"] = (folder / "notzip.zip", "无法打开该 .zip")
    return files


def test_hostile_shapefiles_and_geopackages_are_refused_clearly(ogr_files):
    outcomes = {os.path.basename(o["file"]): o for o in run_child(path for path, _ in ogr_files.values())}
    for key, (path, expected) in ogr_files.items():
        outcome = outcomes[path.name]
        if expected is None:
            assert outcome["outcome"] == "imported", key
            continue
        assert outcome["outcome"] == "refused", key
        assert expected in outcome["message"], (key, outcome["message"])
        assert str(path.parent) not in outcome["message"], key  # no server path in what the user reads


# --- A property: any coordinates at all give an import or a LayerImportError, in-process --------

coordinate = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-200, max_value=200),
    st.floats(min_value=121.4, max_value=121.6),
)


@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(points=st.lists(st.tuples(coordinate, coordinate), min_size=0, max_size=8), close=st.booleans())
def test_any_coordinates_import_or_are_refused(tmp_path, points, close):
    ring = [list(p) for p in points] + ([list(points[0])] if close and points else [])
    path = tmp_path / "prop.geojson"
    path.write_text(json.dumps({"type": "Feature", "properties": {"code": "P"},
                                "geometry": {"type": "Polygon", "coordinates": [ring]}}))  # fmt: skip
    try:
        data = read_polygons(path)
    except LayerImportError as error:
        assert str(error)
    else:
        assert all(g.is_valid and not g.is_empty for g in (f.geometry for f in data.features))
