"""Who sees which case (cases_visible_to) and who may take which step (can_act), persona by persona.

The world: a 3 × 3 grid; the grid worker and grid leader answer for cell 5;
a CG category and an SZ category. `World.case()` walks a case through the real
services to the status a test needs. test_api and test_photos build on it.
"""

from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser

from cases import selectors, services
from cases.models import Case, Category, Status
from governance.calendar import Unit
from governance.models import Department
from grids.models import Cell, CellAssignment, GridVersion
from grids.services import cell_assign, grid_version_activate
from tests.factories import person
from tests.grids.factories import cell_centre, square_grid_version

pytestmark = pytest.mark.django_db

ROLES = ["gridworker", "gridleader", "hotline", "dispatcher", "cg_admin", "cg_handler", "sz_admin", "leader",
         "sysadmin"]  # fmt: skip
# The main loop's statuses in order: World.case takes the first n steps to reach PATH[n].
PATH = [Status.REPORTED, Status.REGISTERED, Status.DISPATCHED, Status.HANDLED, Status.VERIFIED, Status.CLOSED]


def category(code: str, department_code: str) -> Category:
    return Category.objects.create(
        kind="event", code=code, name=f"测试{code}", default_department=Department.objects.get(code=department_code),
        default_severity="normal", handling_amount=Decimal(4), handling_unit=Unit.WORKING_HOURS,
    )  # fmt: skip


@dataclass
class World:
    personas: dict
    version: GridVersion
    cg: Category
    sz: Category
    cells: dict = field(default_factory=dict)

    def case(self, status: str = Status.DISPATCHED, *, cell: int = 5, category: Category | None = None,
             reporter=None, channel: str = "api") -> Case:  # fmt: skip
        """A case filed in `cell` and walked through the real services up to `status`."""
        p = self.personas
        lng, lat = cell_centre(cell)
        case = services.case_report(channel=channel, description="路边暴露垃圾", lng=lng, lat=lat, reporter=reporter)
        if status == Status.REJECTED:
            return services.case_reject(case=case, actor=p["dispatcher"], reason="重复上报")
        steps = [
            lambda: services.case_register(case=case, actor=p["dispatcher"], category=category or self.cg),
            lambda: services.case_dispatch(case=case, actor=p["dispatcher"]),
            lambda: services.case_handle(case=case, actor=p["cg_handler"] if case.department.code == "CG"
                                         else p["sz_admin"], note="已清运"),
            lambda: services.case_verify(case=case, actor=p["dispatcher"], passed=True),
            lambda: services.case_callback(case=case, actor=p["dispatcher"], reached=True, solved=True, satisfied=True)
            if case.channel == "hotline" else services.case_close(case=case, actor=p["dispatcher"]),
        ]  # fmt: skip
        for step in steps[: PATH.index(status)]:
            step()
        return case


def build_world(personas) -> World:
    version = square_grid_version(n=3)
    world = World(personas=personas, version=version, cg=category("9901", "CG"), sz=category("9902", "SZ"))
    world.cells = {n: Cell.objects.get(version=version, code=f"330211001001{n:03d}") for n in (1, 5)}
    cell_assign(cell=world.cells[5], user=personas["gridworker"], duty=CellAssignment.Duty.WORKER)
    cell_assign(cell=world.cells[5], user=personas["gridleader"], duty=CellAssignment.Duty.LEADER)
    return world


@pytest.fixture
def world(personas):
    return build_world(personas)


def visible(world, who) -> set[int]:
    return set(selectors.cases_visible_to(world.personas[who]).values_list("pk", flat=True))


def test_each_role_sees_its_own_cases(world):
    p = world.personas
    cg_done = world.case(Status.DISPATCHED)  # cell 5, CG
    sz_done = world.case(Status.DISPATCHED, cell=1, category=world.sz)
    reported = world.case(Status.REPORTED, cell=1)  # CG's category, not yet dispatched
    own_report = world.case(Status.REPORTED, cell=1, reporter=p["gridworker"], channel="grid_worker")
    hotline_closed = world.case(Status.CLOSED, cell=1, reporter=p["hotline"], channel="hotline")
    other_closed = world.case(Status.CLOSED, cell=1)
    everything = {c.pk for c in (cg_done, sz_done, reported, own_report, hotline_closed, other_closed)}

    for who in ("dispatcher", "leader", "sysadmin"):
        assert visible(world, who) == everything, who
    # Department staff: what was dispatched to their department, closed ones included.
    assert visible(world, "cg_admin") == visible(world, "cg_handler") == {cg_done.pk, hotline_closed.pk,
                                                                         other_closed.pk}  # fmt: skip
    assert visible(world, "sz_admin") == {sz_done.pk}
    # Grid staff: their cell's cases, and what they reported anywhere.
    assert visible(world, "gridworker") == {cg_done.pk, own_report.pk}
    assert visible(world, "gridleader") == {cg_done.pk}
    # Hotline: every open case (to spot duplicates), and their own, closed or not.
    assert visible(world, "hotline") == {cg_done.pk, sz_done.pk, reported.pk, own_report.pk, hotline_closed.pk}
    assert visible(world, "outsider") == set()


def test_anonymous_sees_nothing(world):
    world.case()
    assert not selectors.cases_visible_to(AnonymousUser()).exists()


def test_a_case_in_several_assignees_cell_is_listed_once(world, personas):
    other = person("worker2", "grid_worker")
    cell_assign(cell=world.cells[5], user=other, duty=CellAssignment.Duty.WORKER)
    case = world.case(Status.REPORTED, reporter=personas["gridworker"], channel="grid_worker")
    assert list(selectors.cases_visible_to(personas["gridworker"]).values_list("pk", flat=True)) == [case.pk]


def test_the_grid_worker_keeps_the_cases_of_a_cell_after_a_new_grid_version(world):
    case = world.case(Status.REPORTED)
    draft = square_grid_version(n=3, status=GridVersion.Status.DRAFT)
    grid_version_activate(version=draft)
    assert case.pk in visible(world, "gridworker")


def test_a_department_loses_a_case_dispatched_elsewhere(world):
    p = world.personas
    case = world.case(Status.REGISTERED)  # CG by its category
    services.case_dispatch(case=case, actor=p["dispatcher"], department=Department.objects.get(code="SZ"))
    assert case.pk in visible(world, "sz_admin")
    assert case.pk not in visible(world, "cg_admin")


# --- can_act ------------------------------------------------------------------------

# role → the steps it may take on a CG case in cell 5 (its state aside).
MAY = {
    "dispatcher": {
        "register",
        "reject",
        "dispatch",
        "close",
        "decide_request",
        "verify",
        "resume",
        "merge",
        "reopen",
        "callback",
    },
    "cg_admin": {"handle", "accept", "request_return", "request_extension", "request_suspension", "resume"},
    "cg_handler": {"handle", "accept", "request_return", "request_extension", "request_suspension", "resume"},
    "gridworker": {"verify"},
    "gridleader": {"verify"},
}


@pytest.mark.parametrize("who", [*ROLES, "outsider"])
def test_who_may_take_which_step(world, who):
    case = world.case(Status.DISPATCHED)
    allowed = {action for action in selectors.ACTORS if selectors.can_act(world.personas[who], case, action)}
    assert allowed == MAY.get(who, set())


def test_the_hotline_calls_back_and_reopens_its_own_channel_s_cases_only(world):
    hotline = world.personas["hotline"]
    called_in = world.case(Status.VERIFIED, channel="hotline")
    assert {a for a in selectors.ACTORS if selectors.can_act(hotline, called_in, a)} == {"callback", "reopen"}
    assert not selectors.can_work_on(hotline, called_in), "calling back is not working on the case: no photos"


def test_grid_staff_verify_only_in_their_cells_and_departments_handle_only_their_cases(world):
    p = world.personas
    elsewhere = world.case(Status.HANDLED, cell=1)
    assert not selectors.can_act(p["gridworker"], elsewhere, "verify")
    assert selectors.can_act(p["dispatcher"], elsewhere, "verify")
    assert not selectors.can_act(p["sz_admin"], elsewhere, "handle")
    sz_case = world.case(Status.DISPATCHED, category=world.sz)
    assert selectors.can_act(p["sz_admin"], sz_case, "handle")
    assert not selectors.can_act(p["cg_admin"], sz_case, "handle")


def test_an_unknown_step_is_a_bug_not_a_refusal(world):
    with pytest.raises(ValueError, match="Unknown case action"):
        selectors.can_act(world.personas["dispatcher"], world.case(), "regsiter")


def test_reporters_and_actors_work_on_a_case_leaders_never(world):
    p = world.personas
    own = world.case(Status.REPORTED, cell=1, reporter=p["hotline"], channel="hotline")
    other = world.case(Status.REPORTED, cell=1)
    assert selectors.can_work_on(p["hotline"], own) and not selectors.can_work_on(p["hotline"], other)
    assert selectors.can_work_on(p["dispatcher"], other)
    assert not selectors.can_work_on(p["leader"], other)
    assert not selectors.can_work_on(p["sysadmin"], other)
    assert [selectors.can_report(p[who]) for who in ("gridworker", "hotline", "leader", "outsider")] == [
        True, True, False, False,
    ]  # fmt: skip
    assert [selectors.report_channel_of(p[who]) for who in ("gridworker", "gridleader", "hotline", "cg_admin")] == [
        "grid_worker", "grid_worker", "hotline", "api",
    ]  # fmt: skip
