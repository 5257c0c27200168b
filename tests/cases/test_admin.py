"""Taxonomy and time-limit admin: system admins edit, department staff read, outsiders are refused."""

from decimal import Decimal

import pytest
from django.urls import reverse

from cases.models import Category, SlaPolicy
from governance.models import Department

pytestmark = pytest.mark.django_db


@pytest.fixture
def category():
    return Category.objects.create(
        kind="event", code="9902", name="测试占道经营", default_department=Department.objects.get(code="CG"),
        default_severity="normal", handling_amount=Decimal("1"), handling_unit="working_days",
    )  # fmt: skip


def test_system_admin_edits_a_category_but_not_its_code(client, personas, category):
    client.force_login(personas["sysadmin"])
    url = reverse("admin:cases_category_change", args=[category.pk])
    page = client.get(url)
    assert page.status_code == 200 and "测试占道经营" in page.content.decode()
    form = {
        "name": "占道经营（改）", "class_name": "街面秩序", "description": "",
        "default_department": category.default_department_id, "default_severity": "urgent",
        "handling_amount": "2", "handling_unit": "hours", "is_active": "on",
        "code": "0000", "kind": "component",  # read-only once made: ignored
    }  # fmt: skip
    assert client.post(url, form).status_code == 302
    category.refresh_from_db()
    assert (category.name, category.default_severity, category.code, category.kind) == (
        "占道经营（改）", "urgent", "9902", "event",
    )  # fmt: skip
    assert client.get(reverse("admin:cases_category_delete", args=[category.pk])).status_code == 403


def test_system_admin_edits_a_time_limit(client, personas):
    client.force_login(personas["sysadmin"])
    row = SlaPolicy.objects.get(stage="dispatch", category=None, severity="critical")
    url = reverse("admin:cases_slapolicy_change", args=[row.pk])
    form = {"stage": "dispatch", "category": "", "severity": "critical", "amount": "20", "unit": "minutes"}
    assert client.post(url, form).status_code == 302
    row.refresh_from_db()
    assert row.amount == 20
    listing = client.get(reverse("admin:cases_slapolicy_changelist")).content.decode()
    assert "派遣" in listing or "dispatch" in listing


def test_department_admin_reads_but_cannot_change(client, personas, category):
    client.force_login(personas["cg_admin"])
    assert client.get(reverse("admin:cases_category_changelist")).status_code == 200
    url = reverse("admin:cases_category_change", args=[category.pk])
    assert client.get(url).status_code == 200  # read-only view
    assert client.post(url, {"name": "x"}).status_code == 403
    assert client.get(reverse("admin:cases_category_add")).status_code == 403
    assert client.get(reverse("admin:cases_slapolicy_add")).status_code == 403


def test_outsider_and_grid_worker_are_kept_out_of_the_admin(client, personas, category):
    for name in ["outsider", "gridworker"]:
        client.force_login(personas[name])
        response = client.get(reverse("admin:cases_category_changelist"))
        assert response.status_code == 302 and "/login/" in response["Location"], name
