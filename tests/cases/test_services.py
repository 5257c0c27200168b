"""The case lifecycle: every path of the main loop, guards, the clock across a holiday, the history."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction

from cases import services
from cases.models import Case, CaseEvent, Category, EventLogError, Status
from governance.calendar import Unit
from governance.models import Department, Role
from tests.factories import person
from tests.grids.factories import cell_centre, square_grid_version

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture
def rubbish():
    return Category.objects.create(
        kind="event", code="9901", name="测试暴露垃圾", default_department=Department.objects.get(code="CG"),
        default_severity="normal", handling_amount=Decimal(4), handling_unit=Unit.WORKING_HOURS,
    )  # fmt: skip


@pytest.fixture
def people(db):
    return {
        "worker": person("w", Role.GRID_WORKER),
        "dispatcher": person("d", Role.DISPATCHER),
        "handler": person("h", Role.DEPARTMENT_HANDLER, department_code="CG"),
    }


def report(people, **kw):
    lng, lat = cell_centre(5)
    fields = {"channel": "grid_worker", "description": "路边暴露垃圾", "lng": lng, "lat": lat,
              "reporter": people["worker"]} | kw  # fmt: skip
    return services.case_report(**fields)


def test_a_report_keeps_its_cell_and_grid_version_and_gets_a_dated_number(people):
    version = square_grid_version()
    with time_machine.travel(at(2026, 11, 23, 10, 0), tick=False):
        case = report(people)
    assert case.number == f"20261123{case.pk:07d}"
    assert (case.cell.code, case.grid_version) == ("330211001001005", version)
    assert case.status == Status.REPORTED and case.registration_due == at(2026, 11, 23, 12, 0)  # 2 working hours
    assert [(e.action, e.to_status, e.actor) for e in case.events.all()] == [("report", "reported", people["worker"])]
    # A later grid version does not move the case.
    version.status = "retired"
    version.save(update_fields=["status"])
    square_grid_version()
    case.refresh_from_db()
    assert case.grid_version == version


def test_the_whole_loop_across_national_day(people, rubbish):
    square_grid_version()
    d, h, w = people["dispatcher"], people["handler"], people["worker"]
    with time_machine.travel(at(2026, 9, 30, 15, 0), tick=False):
        case = report(people)
    with time_machine.travel(at(2026, 9, 30, 15, 30), tick=False):
        services.case_register(case=case, actor=d, category=rubbish)
    assert (case.department.code, case.severity, case.dispatch_due) == ("CG", "normal", at(2026, 9, 30, 17, 30))
    with time_machine.travel(at(2026, 9, 30, 16, 0), tick=False):
        services.case_dispatch(case=case, actor=d)
    assert case.handling_due == at(2026, 10, 8, 11, 30)  # 4 working hours: 1.5 before, 2.5 after the holiday
    with time_machine.travel(at(2026, 10, 8, 10, 0), tick=False):
        services.case_handle(case=case, actor=h, note="已清运")
    assert case.verification_due == at(2026, 10, 9, 10, 0)
    with time_machine.travel(at(2026, 10, 8, 14, 0), tick=False):
        services.case_verify(case=case, actor=w, passed=False, reason="仍有残留垃圾")
    # Rework restarts the handling clock: 3.5 working hours that afternoon, half an hour next morning.
    assert case.status == Status.DISPATCHED and case.handling_due == at(2026, 10, 9, 9, 30)
    with time_machine.travel(at(2026, 10, 8, 16, 0), tick=False):
        services.case_handle(case=case, actor=h)
    with time_machine.travel(at(2026, 10, 9, 9, 0), tick=False):
        services.case_verify(case=case, actor=w, passed=True)
    with time_machine.travel(at(2026, 10, 9, 9, 5), tick=False):
        services.case_close(case=case, actor=d)
    assert case.status == Status.CLOSED and case.closed_at == at(2026, 10, 9, 9, 5)
    history = [(e.action, e.from_status, e.to_status) for e in case.events.order_by("pk")]
    assert history == [
        ("report", "", "reported"), ("register", "reported", "registered"), ("dispatch", "registered", "dispatched"),
        ("handle", "dispatched", "handled"), ("rework", "handled", "dispatched"), ("handle", "dispatched", "handled"),
        ("verify", "handled", "verified"), ("close", "verified", "closed"),
    ]  # fmt: skip
    assert case.events.get(action="rework").reason == "仍有残留垃圾"


def test_rejecting_needs_a_reason_and_closes_the_case(people):
    case = report(people)
    with pytest.raises(ValidationError):
        services.case_reject(case=case, actor=people["dispatcher"], reason="  ")
    services.case_reject(case=case, actor=people["dispatcher"], reason="重复上报")
    assert case.status == Status.REJECTED and case.closed_at and case.stage_started_at is None


@pytest.mark.parametrize(
    ("transition", "kwargs"),
    [
        (services.case_dispatch, {}),
        (services.case_handle, {}),
        (services.case_close, {}),
        (services.case_verify, {"passed": True}),
    ],
)
def test_transitions_from_the_wrong_state_are_refused_and_change_nothing(people, transition, kwargs):
    case = report(people)
    before = (case.status, case.registration_due, case.events.count())
    with pytest.raises(services.CaseTransitionError, match=case.number):
        transition(case=case, actor=people["dispatcher"], **kwargs)
    case.refresh_from_db()
    assert (case.status, case.registration_due, case.events.count()) == before


def test_a_stale_copy_cannot_repeat_a_transition(people, rubbish):
    case = report(people)
    services.case_register(case=case, actor=people["dispatcher"], category=rubbish)
    first, second = Case.objects.get(pk=case.pk), Case.objects.get(pk=case.pk)
    services.case_dispatch(case=first, actor=people["dispatcher"])
    with pytest.raises(services.CaseTransitionError):
        services.case_dispatch(case=second, actor=people["dispatcher"])
    assert case.events.filter(action="dispatch").count() == 1


def test_bad_reports_are_refused_and_nothing_is_saved(people):
    with pytest.raises(ValidationError):
        report(people, description="   ")
    with pytest.raises(ValidationError):
        report(people, lng=200.0, lat=30.0)
    assert not Case.objects.exists() and not CaseEvent.objects.exists()


def test_a_point_outside_the_grid_is_kept_without_a_cell(people):
    square_grid_version()
    case = report(people, lng=100.0, lat=20.0)
    assert case.location is not None and case.cell is None and case.grid_version is None


def test_the_event_log_is_append_only_in_the_model_and_in_the_database(people):
    case = report(people)
    event = case.events.get()
    event.reason = "changed"
    with pytest.raises(EventLogError):
        event.save()
    with pytest.raises(EventLogError):
        event.delete()
    for sql in ["UPDATE cases_caseevent SET reason = 'x'", "DELETE FROM cases_caseevent"]:
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    with pytest.raises(DatabaseError), transaction.atomic():
        CaseEvent.objects.filter(pk=event.pk).update(reason="bulk")
    assert CaseEvent.objects.get(pk=event.pk).reason == ""
