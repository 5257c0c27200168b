import re

import pytest
from django.urls import reverse

from governance.models import Region, StaffProfile
from tests.factories import community

pytestmark = pytest.mark.django_db


def test_admin_is_branded_and_chinese(client, personas):
    client.force_login(personas["sysadmin"])
    html = client.get(reverse("admin:index")).content.decode()
    assert "网格化" in html
    assert "部门" in html


def test_region_map_widget_loads_nothing_from_the_internet(client, personas):
    client.force_login(personas["sysadmin"])
    region = community()
    html = client.get(reverse("admin:governance_region_change", args=[region.pk])).content.decode()
    assert "/static/vendor/ol/ol.js" in html
    assert "new ol.source.OSM" not in html
    external = [u for u in re.findall(r"""(?:src|href)=["'](https?://[^"']+)""", html)]
    assert external == []
    assert "jsdelivr" not in html and "openstreetmap" not in html


def test_tile_layer_only_when_configured(client, personas, settings):
    settings.MAP_TILE_URL = "https://tiles.example.gov.cn/{z}/{x}/{y}.png"
    client.force_login(personas["sysadmin"])
    region = community()
    html = client.get(reverse("admin:governance_region_change", args=[region.pk])).content.decode()
    assert "tiles.example.gov.cn" in html


def test_outsiders_cannot_open_admin(client, personas):
    for name in ["outsider", "gridworker", "hotline", "dispatcher", "leader"]:
        client.force_login(personas[name])
        response = client.get(reverse("admin:governance_department_changelist"))
        assert response.status_code == 302 and "/admin/login/" in response["Location"], name


def test_department_admin_sees_only_own_staff(client, personas):
    client.force_login(personas["cg_admin"])
    response = client.get(reverse("admin:governance_staffprofile_changelist"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "cg_handler" in html and "sz_admin" not in html
    other = StaffProfile.objects.get(user__username="sz_admin")
    assert client.get(reverse("admin:governance_staffprofile_change", args=[other.pk])).status_code == 302


def test_department_admin_cannot_change_departments_or_calendar(client, personas):
    client.force_login(personas["cg_admin"])
    assert client.get(reverse("admin:governance_department_add")).status_code == 403
    assert client.get(reverse("admin:governance_calendaroverride_changelist")).status_code == 403


def test_calendar_override_admin_warns_about_missing_year(client, personas):
    client.force_login(personas["sysadmin"])
    html = client.get(reverse("admin:governance_calendaroverride_changelist")).content.decode()
    assert "chinese-calendar" in html.lower()  # the admin capitalises messages
    assert "2027" in html  # the year without data is named


def test_region_code_must_follow_its_parent(client, personas):
    client.force_login(personas["sysadmin"])
    street = community().parent
    response = client.post(
        reverse("admin:governance_region_add"),
        {"code": "330299001001", "name": "错位社区", "level": "community", "parent": street.pk, "boundary": ""},
    )
    assert response.status_code == 200
    assert "330211001" in response.content.decode()
    assert not Region.objects.filter(code="330299001001").exists()
