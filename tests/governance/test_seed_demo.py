import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from cases.models import Case
from governance.models import Department, Region, Role, StaffProfile
from grids.models import CellAssignment, GridVersion, Layer

pytestmark = pytest.mark.django_db


def test_seed_demo_builds_the_city_and_is_idempotent(settings, capsys, english):
    settings.DEBUG = True
    call_command("seed_demo")
    first = capsys.readouterr().out
    call_command("seed_demo")
    second = capsys.readouterr().out
    assert Region.objects.filter(level="district").count() == 1
    assert Region.objects.filter(level="street").count() >= 3
    assert Region.objects.filter(level="community").count() >= 12
    assert {p.role for p in StaffProfile.objects.all()} == {r.value for r in Role}
    assert get_user_model().objects.count() == StaffProfile.objects.count()
    assert "demo-pass-2026" in first and "gridworker" in first
    assert Department.objects.get(code="CG").head.username == "cg_admin"
    # The printed password works.
    assert get_user_model().objects.get(username="dispatcher").check_password("demo-pass-2026")
    # The grid: six departmental layers unified into one active version, once.
    assert Layer.objects.count() == 6 and GridVersion.objects.count() == 1
    version = GridVersion.objects.active().get()
    assert version.cells.filter(community__code="330211001001").exists()
    worker_cells = CellAssignment.objects.filter(user__username="gridworker", duty="grid_worker")
    assert worker_cells.count() == 6
    assert set(worker_cells.values_list("cell__community__code", flat=True)) == {"330211001001"}
    leader_cells = CellAssignment.objects.filter(user__username="gridleader", duty="grid_leader")
    assert leader_cells.count() == 24 and worker_cells.first().cell in {a.cell for a in leader_cells}
    formats = set(Layer.objects.values_list("source_format", flat=True))
    assert formats == {"GeoJSON", "ESRI Shapefile", "GPKG"}
    # The cases (tests/cases/test_demo_cases.py has the details), loaded once.
    assert Case.objects.filter(external_system="demo").count() == 300 == Case.objects.count()
    assert "Demo cases: 300 over the last 60 days" in first and "Demo cases: 300 already loaded" in second


def test_community_boundaries_tile_their_street():
    from governance.demo import seed_regions

    seed_regions()
    for street in Region.objects.filter(level="street"):
        parts = [c.boundary for c in street.children.all()]
        union = parts[0]
        for part in parts[1:]:
            union = union.union(part)
        assert abs(union.area - street.boundary.area) < 1e-12
        assert sum(p.area for p in parts) == pytest.approx(street.boundary.area)


def test_seed_demo_refuses_in_production(settings):
    settings.DEBUG = False
    settings.DEMO_MODE = False
    with pytest.raises(CommandError, match="DEMO_MODE"):
        call_command("seed_demo")
    assert not get_user_model().objects.exists()
