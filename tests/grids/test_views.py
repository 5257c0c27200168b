"""The grid map page and the GeoJSON it reads: who may see what, and what it weighs."""

import json
import re

import pytest
from django.contrib.gis.geos import MultiPolygon, Polygon
from django.urls import reverse

from governance.models import Role
from grids.models import Cell, CellAssignment, GridVersion
from tests.factories import person
from tests.grids.factories import cell_centre, layer, square_grid_version

pytestmark = pytest.mark.django_db

ROLE_PERSONAS = ["gridworker", "gridleader", "hotline", "dispatcher", "cg_admin", "cg_handler", "leader", "sysadmin"]


def geojson(response):
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/geo+json"
    return json.loads(response.content)


def test_map_page_for_every_role(client, personas):
    square_grid_version()
    for name in ROLE_PERSONAS:
        client.force_login(personas[name])
        assert client.get(reverse("grids:map")).status_code == 200, name


def test_outsider_and_anonymous_are_refused(client, personas):
    version = square_grid_version()
    cell = version.cells.first()
    urls = [
        reverse("grids:map"),
        reverse("grids:map-cells"),
        reverse("grids:map-cell", args=[cell.pk]),
        reverse("grids:map-layer", args=["CG"]),
    ]
    for url in urls:
        anonymous = client.get(url)
        assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("login")), url
    client.force_login(personas["outsider"])
    for url in urls:
        assert client.get(url).status_code == 403, url


def test_map_page_loads_only_local_files(client, personas):
    square_grid_version()
    client.force_login(personas["gridworker"])
    html = client.get(reverse("grids:map")).content.decode()
    assert "/static/vendor/ol/ol.js" in html and "/static/js/grids/map.js" in html
    assert re.findall(r"""(?:src|href)=["']\s*(?:https?:)?//""", html) == []
    assert "http://" not in html and "https://" not in html
    # Scripts are files; the only inline one is the JSON configuration.
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert 'id="grid-map-config"' in html


def test_map_page_config_names_the_active_version(client, personas):
    version = square_grid_version()
    GridVersion.objects.create(status=GridVersion.Status.DRAFT, sliver_area_m2=50, input_digest="x")
    client.force_login(personas["gridworker"])
    response = client.get(reverse("grids:map"))
    config = response.context["config"]
    assert config["cellsUrl"] == reverse("grids:map-cells") + f"?version={version.pk}"
    assert config["tileUrl"] == ""
    assert config["layers"] == []  # grid workers may not see departmental layers


def test_map_page_without_active_version_says_so(client, personas):
    client.force_login(personas["gridworker"])
    response = client.get(reverse("grids:map"))
    assert response.status_code == 200
    assert response.context["config"]["cellsUrl"] is None


def test_layer_toggles_follow_department_scope(client, personas):
    square_grid_version()  # CG layer v1
    layer("SZ")
    layer("CG")  # CG v2 is CG's current layer
    client.force_login(personas["cg_admin"])
    toggles = client.get(reverse("grids:map")).context["config"]["layers"]
    assert [(t["code"], t["url"]) for t in toggles] == [("CG", reverse("grids:map-layer", args=["CG"]) + "?version=2")]
    client.force_login(personas["dispatcher"])
    assert [t["code"] for t in client.get(reverse("grids:map")).context["config"]["layers"]] == ["CG", "SZ"]


def test_cells_geojson_of_the_active_version(client, personas):
    version = square_grid_version()
    client.force_login(personas["hotline"])
    response = client.get(reverse("grids:map-cells"))
    data = geojson(response)
    assert data["type"] == "FeatureCollection" and data["version"] == version.pk
    assert [f["properties"]["code"] for f in data["features"]] == [f"330211001001{n:03d}" for n in range(1, 10)]
    assert data["features"][0]["properties"]["community"] == "330211001001"
    assert data["features"][0]["geometry"]["type"] == "MultiPolygon"
    assert data["communities"] == {"330211001001": "湖滨社区"}
    # "The active version" moves on: revalidate each time, which costs a 304.
    assert "no-cache" in response["Cache-Control"]
    again = client.get(reverse("grids:map-cells"), headers={"if-none-match": response["ETag"]})
    assert again.status_code == 304


def test_cells_geojson_of_a_named_version_is_cacheable(client, personas):
    square_grid_version()
    draft = square_grid_version(status=GridVersion.Status.DRAFT)
    client.force_login(personas["gridworker"])
    response = client.get(reverse("grids:map-cells"), {"version": draft.pk})
    data = geojson(response)
    assert data["version"] == draft.pk
    assert {f["id"] for f in data["features"]} == set(draft.cells.values_list("pk", flat=True))
    assert "max-age=3600" in response["Cache-Control"]
    assert client.get(reverse("grids:map-cells"), {"version": 99999}).status_code == 404
    assert client.get(reverse("grids:map-cells"), {"version": "x"}).status_code == 404


def test_cells_geojson_bbox_filter(client, personas):
    square_grid_version()
    client.force_login(personas["gridworker"])
    lng, lat = cell_centre(5)
    bbox = f"{lng - 0.0001},{lat - 0.0001},{lng + 0.0001},{lat + 0.0001}"
    data = geojson(client.get(reverse("grids:map-cells"), {"bbox": bbox}))
    assert [f["properties"]["code"] for f in data["features"]] == ["330211001001005"]
    for bad in ["1,2,3", "a,b,c,d", "121.6,30,121.5,30.1", "0,0,200,1"]:
        assert client.get(reverse("grids:map-cells"), {"bbox": bad}).status_code == 400, bad


def test_coordinates_are_rounded_to_six_decimals(client, personas):
    version = square_grid_version()
    ring = ((121.4, 30.0), (121.412345678, 30.0), (121.412345678, 30.012345678), (121.4, 30.012345678), (121.4, 30.0))
    Cell.objects.create(
        version=version,
        code="330211001001099",
        community=version.cells.first().community,
        geometry=MultiPolygon(Polygon(ring), srid=4326),
        area_m2=1.0,
    )
    client.force_login(personas["gridworker"])
    body = client.get(reverse("grids:map-cells")).content.decode()
    assert "121.412346" in body and "30.012346" in body
    assert "121.4123456" not in body
    assert ": " not in body  # compact separators


def test_layer_geojson_is_scoped_to_the_department(client, personas):
    square_grid_version()  # CG v1, 9 polygons
    sz = layer("SZ")
    client.force_login(personas["cg_admin"])
    data = geojson(client.get(reverse("grids:map-layer", args=["CG"])))
    assert data["department"] == "CG" and data["version"] == 1
    assert len(data["features"]) == 9
    assert data["features"][0]["properties"] == {"code": "CG-0001", "name": "1"}
    assert client.get(reverse("grids:map-layer", args=["SZ"])).status_code == 404
    client.force_login(personas["sz_admin"])
    assert geojson(client.get(reverse("grids:map-layer", args=["SZ"])))["version"] == sz.version
    assert client.get(reverse("grids:map-layer", args=["CG"])).status_code == 404
    for name in ["dispatcher", "leader", "sysadmin"]:
        client.force_login(personas[name])
        assert client.get(reverse("grids:map-layer", args=["CG"])).status_code == 200, name
        assert client.get(reverse("grids:map-layer", args=["SZ"])).status_code == 200, name
    for name in ["gridworker", "gridleader", "hotline"]:
        client.force_login(personas[name])
        assert client.get(reverse("grids:map-layer", args=["CG"])).status_code == 404, name


def test_layer_geojson_current_or_named_version(client, personas):
    square_grid_version()
    layer("CG")  # v2, no polygons
    client.force_login(personas["dispatcher"])
    current = geojson(client.get(reverse("grids:map-layer", args=["CG"])))
    assert current["version"] == 2 and current["features"] == []
    first = geojson(client.get(reverse("grids:map-layer", args=["CG"]), {"version": 1}))
    assert len(first["features"]) == 9
    assert client.get(reverse("grids:map-layer", args=["CG"]), {"version": 7}).status_code == 404
    assert client.get(reverse("grids:map-layer", args=["XX"])).status_code == 404


def test_cell_detail_for_the_panel(client, personas):
    version = square_grid_version()
    cell = version.cells.get(code="330211001001002")
    leader = person("lee", Role.GRID_LEADER, full_name="李网格长")
    CellAssignment.objects.create(cell=cell, user=leader, duty=CellAssignment.Duty.LEADER)
    CellAssignment.objects.create(cell=cell, user=personas["gridworker"], duty=CellAssignment.Duty.WORKER)
    client.force_login(personas["gridworker"])
    detail = client.get(reverse("grids:map-cell", args=[cell.pk])).json()
    assert detail["code"] == "330211001001002"
    assert detail["community"] == {"code": "330211001001", "name": "湖滨社区"}
    assert detail["area_m2"] == 10700
    assert detail["crosswalk"] == [
        {"department": "CG", "department_name": cell.crosswalk.get().department.name, "polygon": "CG-0002",
         "polygon_name": "2", "share": 100.0}
    ]  # fmt: skip
    assignees = [(a["name"], a["duty"]) for a in detail["assignees"]]
    assert assignees == [("李网格长", "grid_leader"), ("gridworker", "grid_worker")]
    assert client.get(reverse("grids:map-cell", args=[99999])).status_code == 404


def test_tiles_only_when_configured(client, personas, settings):
    square_grid_version()
    client.force_login(personas["gridworker"])
    assert client.get(reverse("grids:map")).context["config"]["tileUrl"] == ""
    settings.MAP_TILE_URL = "https://tiles.example.gov.cn/{z}/{x}/{y}.png"
    assert client.get(reverse("grids:map")).context["config"]["tileUrl"] == settings.MAP_TILE_URL


def test_geojson_is_gzipped_for_clients_that_accept_it(client, personas):
    square_grid_version(n=6)
    client.force_login(personas["gridworker"])
    plain = client.get(reverse("grids:map-cells"))
    packed = client.get(reverse("grids:map-cells"), HTTP_ACCEPT_ENCODING="gzip")
    assert packed["Content-Encoding"] == "gzip"
    assert len(packed.content) * 3 < len(plain.content)


def test_grid_workers_workspace_lists_their_cells_with_map_links(client, personas):
    version = square_grid_version()
    cell = version.cells.get(code="330211001001005")
    CellAssignment.objects.create(cell=cell, user=personas["gridworker"], duty=CellAssignment.Duty.WORKER)
    client.force_login(personas["gridworker"])
    html = client.get(reverse("workspace-grid")).content.decode()
    assert f'href="{reverse("grids:map")}?cell=330211001001005"' in html
    assert "330211001001004" not in html
    client.force_login(personas["gridleader"])
    html = client.get(reverse("workspace-grid")).content.decode()
    assert "330211001001005" not in html and reverse("grids:map") in html
