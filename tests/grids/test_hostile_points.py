"""Points from callers: report lng/lat and the grid lookup are checked before a Point exists; 400 names the field."""

import math

import pytest
from django.urls import reverse

from grids.validation import GeometryError, check_point

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("lng", "lat", "field"),
    [(math.nan, 30, "lng"), (121.5, math.inf, "lat"), (1e300, 30, "lng"), (121.5, -1e300, "lat"),
     (True, 30, "lng"), ("121.5", 30, "lng"), (121.5, None, "lat"), (10**400, 30, "lng"), (121.5, 95, "lat")],
)  # fmt: skip
def test_the_one_point_check_names_the_field(lng, lat, field):
    with pytest.raises(GeometryError) as caught:
        check_point(lng=lng, lat=lat)
    assert caught.value.field == field and field in str(caught.value)


@pytest.mark.parametrize(
    "body",
    ['{"description": "井盖缺失", "lng": NaN, "lat": 30}', '{"description": "井盖缺失", "lng": 121.5, "lat": Infinity}',
     '{"description": "井盖缺失", "lng": 1e300, "lat": 30}', '{"description": "井盖缺失", "lng": 121.5, "lat": 1e400}',
     '{"description": "井盖缺失", "lng": "东经", "lat": 30}', '{"description": "井盖缺失", "lng": [121.5], "lat": 30}'],
)  # fmt: skip
def test_a_report_with_hostile_coordinates_is_a_400(client, personas, body):
    client.force_login(personas["gridworker"])
    response = client.post(reverse("api-case-create"), body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]


@pytest.mark.parametrize(("lat", "lng"), [("nan", "121.5"), ("30", "inf"), ("1e300", "121.5"), ("30", "-1e400")])
def test_a_lookup_with_hostile_coordinates_is_a_400_naming_the_field(client, personas, lat, lng):
    client.force_login(personas["hotline"])
    response = client.get(reverse("api-grid-lookup"), {"lat": lat, "lng": lng})
    assert response.status_code == 400
    bad = "lat" if lat != "30" else "lng"
    assert bad in response.content.decode()
