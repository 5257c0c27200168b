import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

ENDPOINTS = ["api-me", "api-departments", "api-regions", "api-calendar-deadline", "api-schema", "api-docs"]


@pytest.mark.parametrize("name", ENDPOINTS)
def test_anonymous_is_refused_with_json(client, name):
    response = client.get(reverse(name))
    assert response.status_code in (401, 403)
    if name not in ("api-docs", "api-schema"):
        assert response.json()["error"]["code"] == "not_authenticated"


def test_me(client, personas):
    client.force_login(personas["cg_handler"])
    body = client.get(reverse("api-me")).json()
    assert body == {
        "username": "cg_handler",
        "name": "",
        "role": "department_handler",
        "department": "CG",
        "region": None,
    }


def test_departments_has_the_fifteen(client, personas):
    client.force_login(personas["hotline"])
    codes = [d["code"] for d in client.get(reverse("api-departments")).json()]
    assert sorted(codes) == sorted("CG SZ ZJ SW YL HB SJ JT YJ ZZ MZ WJ RS JY JD".split())


def test_regions_are_geojson(client, personas):
    client.force_login(personas["gridworker"])  # creates 330211 → 001 → 001
    body = client.get(reverse("api-regions"), {"level": "community"}).json()
    assert body["type"] == "FeatureCollection"
    assert [f["properties"]["code"] for f in body["features"]] == ["330211001001"]
    assert body["features"][0]["properties"]["parent"] == "330211001"


def test_deadline_across_national_day(client, personas):
    client.force_login(personas["dispatcher"])
    body = client.get(
        reverse("api-calendar-deadline"),
        {"start": "2026-09-30T16:00:00+08:00", "amount": "8", "unit": "working_hours"},
    ).json()
    assert body["deadline"] == "2026-10-08T17:00:00+08:00"
    assert body["working_time_seconds"] == 8 * 3600


def test_deadline_bad_input_is_structured(client, personas):
    client.force_login(personas["dispatcher"])
    response = client.get(reverse("api-calendar-deadline"), {"start": "yesterday", "amount": "-1", "unit": "weeks"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert set(error["details"]) == {"start", "amount", "unit"}


def test_swagger_ui_is_served_locally(client, personas):
    client.force_login(personas["dispatcher"])
    html = client.get(reverse("api-docs")).content.decode()
    assert "swagger-ui" in html
    assert "cdn" not in html.lower() and "https://" not in html
    assert client.get(reverse("api-schema")).status_code == 200
