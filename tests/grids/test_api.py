"""The grid API under /api/grids/: lookup, versions, cells; who may read it; what bad input gets."""

from base64 import b64encode
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from grids.models import CellAssignment, GridVersion
from tests.factories import PASSWORD, community
from tests.grids.factories import ORIGIN, STEP, cell_centre, square_grid_version

pytestmark = pytest.mark.django_db

ROLES = ["gridworker", "gridleader", "hotline", "dispatcher", "cg_admin", "cg_handler", "sz_admin", "leader",
         "sysadmin"]  # fmt: skip
COMMUNITY = "330211001001"


@pytest.fixture
def version():
    return square_grid_version(n=3)


def urls(version) -> dict[str, str]:
    lng, lat = cell_centre(5)
    return {
        "api-grid-lookup": f"{reverse('api-grid-lookup')}?lat={lat}&lng={lng}",
        "api-grid-versions": reverse("api-grid-versions"),
        "api-grid-version": reverse("api-grid-version", args=[version.pk]),
        "api-grid-version-cells": reverse("api-grid-version-cells", args=[version.pk]),
        "api-grid-cell": reverse("api-grid-cell", args=[f"{COMMUNITY}005"]),
    }


@pytest.mark.parametrize("name", ["api-grid-lookup", "api-grid-versions", "api-grid-version",
                                  "api-grid-version-cells", "api-grid-cell"])  # fmt: skip
def test_anonymous_and_outsider_are_refused_with_json(client, personas, version, name):
    url = urls(version)[name]
    response = client.get(url)
    assert response.status_code in (401, 403)
    assert response.json()["error"]["code"] == "not_authenticated"
    client.force_login(personas["outsider"])
    response = client.get(url)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize("role", ROLES)
def test_every_role_may_read_the_grid(client, personas, version, role):
    client.force_login(personas[role])
    for name, url in urls(version).items():
        assert client.get(url).status_code == 200, name


def test_basic_auth_is_refused(client, personas, version):
    # HTTP Basic is off (docs/security.md): even the right password gets 401, and no invitation to retry.
    token = b64encode(f"dispatcher:{PASSWORD}".encode()).decode()
    response = client.get(urls(version)["api-grid-lookup"], HTTP_AUTHORIZATION=f"Basic {token}")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert "basic" not in response.get("WWW-Authenticate", "").lower()


@pytest.fixture
def hotline(client, personas):
    client.force_login(personas["hotline"])
    return client


def lookup(client, **params):
    return client.get(reverse("api-grid-lookup"), params)


def test_lookup_finds_the_cell_its_version_and_community(hotline, version):
    lng, lat = cell_centre(5)
    assert lookup(hotline, lat=lat, lng=lng).json() == {
        "cell": f"{COMMUNITY}005", "version": version.pk, "community": COMMUNITY,
    }  # fmt: skip


def test_lookup_on_a_shared_corner_answers_the_lowest_code(hotline, version):
    x0, north = ORIGIN
    body = lookup(hotline, lat=repr(north - STEP), lng=repr(x0 + STEP)).json()  # corner of 1, 2, 4, 5
    assert body["cell"] == f"{COMMUNITY}001"


def test_lookup_outside_the_grid_is_null(hotline, version):
    assert lookup(hotline, lat=31.0, lng=121.0).json() == {"cell": None, "version": version.pk, "community": None}


def test_lookup_in_a_named_draft(hotline, version):
    draft = square_grid_version(n=2, status=GridVersion.Status.DRAFT, area=community("330211001002", "望湖社区"))
    lng, lat = cell_centre(1, n=2)
    body = lookup(hotline, lat=lat, lng=lng, version=draft.pk).json()
    assert body == {"cell": "330211001002001", "version": draft.pk, "community": "330211001002"}
    assert lookup(hotline, lat=lat, lng=lng).json()["version"] == version.pk


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({"lat": "95", "lng": "121.5"}, {"lat"}),
        ({"lat": "30", "lng": "east"}, {"lng"}),
        ({"lng": "121.5"}, {"lat"}),
        ({"lat": "nan", "lng": "inf"}, {"lat", "lng"}),
        ({"lat": "30", "lng": "121.5", "version": "999999"}, {"version"}),
        ({"lat": "30", "lng": "121.5", "version": "latest"}, {"version"}),
    ],
)
def test_lookup_bad_input_is_a_structured_400(hotline, version, params, fields):
    response = hotline.get(reverse("api-grid-lookup"), params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert set(error["details"]) == fields


def test_lookup_without_an_active_version_is_404(hotline):
    square_grid_version(n=1, status=GridVersion.Status.DRAFT)
    response = lookup(hotline, lat=30, lng=121.5)
    assert response.status_code == 404
    assert "尚无启用的网格版本" in response.json()["error"]["message"]  # Chinese unless the client asks otherwise


def test_versions_list_newest_first_with_layers(hotline, version):
    draft = square_grid_version(n=1, status=GridVersion.Status.DRAFT, area=community("330211001002", "望湖社区"))
    body = hotline.get(reverse("api-grid-versions")).json()
    assert [v["id"] for v in body["results"]] == [draft.pk, version.pk]
    listed = body["results"][1]
    assert set(listed) == {
        "id", "status", "created_at", "activated_at", "cell_count", "sliver_area_m2", "sliver_width_m", "layers",
    }  # fmt: skip
    assert listed["status"] == "active" and listed["cell_count"] == 9 and listed["layers"] == ["CG v1"]
    assert body["results"][0]["layers"] == ["CG v2"]
    only_active = hotline.get(reverse("api-grid-versions"), {"status": "active"}).json()
    assert [v["id"] for v in only_active["results"]] == [version.pk]


def test_version_detail_summarises_conflicts(hotline, personas, version):
    version.conflicts = {"summary": {"gap": 2, "self_overlap": 0}}
    version.created_by = personas["sysadmin"]
    version.save(update_fields=["conflicts", "created_by"])
    body = hotline.get(reverse("api-grid-version", args=[version.pk])).json()
    assert body["conflict_summary"] == {"gap": 2, "self_overlap": 0}
    assert body["created_by"] == "sysadmin" and body["input_digest"] == "test" and body["layers"] == ["CG v1"]
    assert hotline.get(reverse("api-grid-version", args=[version.pk + 1000])).status_code == 404


def test_cells_are_a_geojson_feature_collection(hotline, version):
    body = hotline.get(reverse("api-grid-version-cells", args=[version.pk])).json()
    assert body["type"] == "FeatureCollection" and body["count"] == 9
    first = body["features"][0]
    assert first["properties"] == {"code": f"{COMMUNITY}001", "community_code": COMMUNITY, "area_m2": 10_700.0}
    assert first["geometry"]["type"] == "MultiPolygon"
    x0, north = ORIGIN
    ring = first["geometry"]["coordinates"][0][0]
    assert [x0, north - STEP] in ring and [x0 + STEP, north] in ring
    assert [f["properties"]["code"][-3:] for f in body["features"]] == [f"{i:03d}" for i in range(1, 10)]


def test_cells_are_paged(hotline, version):
    body = hotline.get(reverse("api-grid-version-cells", args=[version.pk]), {"page_size": 4}).json()
    assert len(body["features"]) == 4 and body["count"] == 9 and body["next"]
    last = hotline.get(body["next"].replace("page=2", "page=3")).json()
    assert [f["properties"]["code"][-3:] for f in last["features"]] == ["009"]


def test_cells_filter_by_community_and_bbox(hotline, version):
    url = reverse("api-grid-version-cells", args=[version.pk])
    assert hotline.get(url, {"community": COMMUNITY}).json()["count"] == 9
    assert hotline.get(url, {"community": "330211001002"}).json()["count"] == 0
    lng, lat = cell_centre(5)
    box = f"{lng - STEP / 4},{lat - STEP / 4},{lng + STEP / 4},{lat + STEP / 4}"
    body = hotline.get(url, {"in_bbox": box}).json()
    assert [f["properties"]["code"] for f in body["features"]] == [f"{COMMUNITY}005"]
    wide = f"{lng - STEP},{lat - STEP / 4},{lng + STEP},{lat + STEP / 4}"  # reaches into 4 and 6
    assert [f["properties"]["code"][-3:] for f in hotline.get(url, {"in_bbox": wide}).json()["features"]] == [
        "004", "005", "006",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("params", "field"),
    [({"in_bbox": "1,2,3"}, "in_bbox"), ({"in_bbox": "3,2,1,4"}, "in_bbox"), ({"in_bbox": "a,b,c,d"}, "in_bbox"),
     ({"in_bbox": "0,0,200,1"}, "in_bbox"), ({"community": "33"}, "community")],
)  # fmt: skip
def test_cells_bad_filters_are_a_structured_400(hotline, version, params, field):
    response = hotline.get(reverse("api-grid-version-cells", args=[version.pk]), params)
    assert response.status_code == 400
    assert set(response.json()["error"]["details"]) == {field}


def test_cells_of_an_unknown_version_is_404(hotline, version):
    response = hotline.get(reverse("api-grid-version-cells", args=[version.pk + 1000]))
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_one_cell_with_crosswalk_and_assignees(hotline, version):
    cell = version.cells.get(code=f"{COMMUNITY}005")
    user_model = get_user_model()
    lee = user_model.objects.create_user("lee", first_name="Lee")
    wu = user_model.objects.create_user("wu")
    CellAssignment.objects.create(cell=cell, user=wu, duty=CellAssignment.Duty.WORKER)
    CellAssignment.objects.create(cell=cell, user=lee, duty=CellAssignment.Duty.LEADER)
    body = hotline.get(reverse("api-grid-cell", args=[cell.code])).json()
    assert body["type"] == "Feature" and body["geometry"]["type"] == "MultiPolygon"
    assert body["properties"] == {
        "code": cell.code,
        "version": version.pk,
        "community_code": COMMUNITY,
        "area_m2": 10_700.0,
        "fallback_owner": None,
        "crosswalk": [{"department": "CG", "polygon_code": "CG-0005", "polygon_name": "5", "share": 1.0}],
        "assignees": [
            {"username": "lee", "name": "Lee", "duty": "grid_leader"},
            {"username": "wu", "name": "", "duty": "grid_worker"},
        ],
    }


def test_one_cell_by_version(hotline, version):
    draft = square_grid_version(n=2, status=GridVersion.Status.DRAFT, area=community("330211001002", "望湖社区"))
    url = reverse("api-grid-cell", args=["330211001002004"])
    assert hotline.get(url).status_code == 404  # not in the active version
    body = hotline.get(url, {"version": draft.pk}).json()
    assert body["properties"]["version"] == draft.pk
    assert hotline.get(url, {"version": "x"}).status_code == 400
    assert hotline.get(reverse("api-grid-cell", args=["nope"])).json()["error"]["code"] == "not_found"


def test_routes_are_in_the_schema_and_it_has_no_warnings(hotline, tmp_path):
    paths = hotline.get(reverse("api-schema"), HTTP_ACCEPT="application/json").json()["paths"]
    for route in ("/api/grids/lookup", "/api/grids/versions/", "/api/grids/versions/{id}/",
                  "/api/grids/versions/{id}/cells/", "/api/grids/cells/{code}/"):  # fmt: skip
        assert route in paths
    # The command as CI runs it: any warning anywhere in the schema fails it.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"),
                 stderr=StringIO())  # fmt: skip
