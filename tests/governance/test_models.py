import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import connection

from governance import services
from governance.checks import check_spatialite_indexes
from governance.models import Department, Region, Role, StaffProfile
from governance.roles import ROLE_PERMISSIONS
from tests.factories import UserFactory, community, district

pytestmark = pytest.mark.django_db


def test_fresh_database_has_the_fifteen_departments():
    assert Department.objects.count() == 15
    assert Department.objects.get(code="JD").name == "街道办事处"


def test_every_role_is_a_group_with_exactly_its_permissions():
    for role, names in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=role)
        granted = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
        assert granted == set(names), role


def test_every_declared_permission_exists():
    for names in ROLE_PERMISSIONS.values():
        for name in names:
            app_label, codename = name.split(".")
            assert Permission.objects.filter(content_type__app_label=app_label, codename=codename).exists(), name


@pytest.mark.parametrize(
    "code, level, parent_code, message",
    [
        ("33021", Region.Level.DISTRICT, None, "6"),
        ("330211001", Region.Level.STREET, None, "parent"),
        ("330212001", Region.Level.STREET, "330211", "330211"),
    ],
)
def test_region_codes_are_validated(code, level, parent_code, message):
    parent = district() if parent_code else None
    region = Region(code=code, name="x", level=level, parent=parent)
    with pytest.raises(ValidationError) as excinfo:
        region.full_clean()
    assert message in str(excinfo.value)


def test_staff_role_moves_groups_and_admin_access():
    user = UserFactory(username="zhang")
    cg = Department.objects.get(code="CG")
    services.staff_upsert(username="zhang", role=Role.DEPARTMENT_HANDLER, department=cg)
    user.refresh_from_db()
    assert list(user.groups.values_list("name", flat=True)) == ["department_handler"]
    assert user.is_staff
    services.staff_upsert(username="zhang", role=Role.HOTLINE_AGENT)
    user.refresh_from_db()
    assert list(user.groups.values_list("name", flat=True)) == ["hotline_agent"]
    assert not user.is_staff


def test_department_staff_need_a_department_and_nothing_is_half_saved():
    with pytest.raises(ValidationError):
        services.staff_upsert(username="li", role=Role.DEPARTMENT_ADMIN)
    assert not StaffProfile.objects.filter(user__username="li").exists()
    assert not UserFactory._meta.model.objects.filter(username="li").exists()


def test_grid_worker_needs_a_region():
    with pytest.raises(ValidationError):
        services.staff_upsert(username="wang", role=Role.GRID_WORKER)
    assert (
        services.staff_upsert(username="wang", role=Role.GRID_WORKER, region=community()).region.code == "330211001001"
    )


def test_phone_numbers_are_validated():
    with pytest.raises(ValidationError):
        services.staff_upsert(username="zhao", role=Role.LEADER, phone="call me")


@pytest.mark.django_db
def test_spatialite_indexes_are_on_and_a_disabled_one_is_reported():
    assert check_spatialite_indexes(databases=["default"]) == []
    if connection.vendor != "sqlite":
        return  # PostGIS keeps GiST indexes through table changes
    with connection.cursor() as cursor:
        cursor.execute("SELECT DisableSpatialIndex('grids_cell', 'geometry')")
    warnings = check_spatialite_indexes(databases=["default"])
    assert [w.id for w in warnings] == ["governance.W002"] and "grids_cell.geometry" in warnings[0].msg
