"""The side paths (退单, 延期, 缓办, 并单, reopen) and their clock rules, across the 2026 National Day holiday.

2026-09-30 (Wednesday) is the last working day before the holiday; 10-01 … 10-07
are off and 10-08 is the first working day after it. Office hours 09:00–12:00,
13:30–17:30; the test category is handled in 4 working hours.
"""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from cases import services
from cases.models import Case, CaseEvent, CaseRequest, Category, Status
from governance.calendar import Unit
from governance.models import Department, Role
from tests.factories import person

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
SHANGHAI = ZoneInfo("Asia/Shanghai")
Kind, Decision = CaseRequest.Kind, CaseRequest.Decision


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


@pytest.fixture
def dispatched(people, rubbish):
    """A case dispatched to CG at a given moment, by the main loop's own services."""

    def make(when: datetime.datetime, severity: str | None = None) -> Case:
        with time_machine.travel(when, tick=False):
            case = services.case_report(channel="grid_worker", description="路边暴露垃圾", reporter=people["worker"])
            services.case_register(case=case, actor=people["dispatcher"], category=rubbish, severity=severity)
            return services.case_dispatch(case=case, actor=people["dispatcher"])

    return make


def request_at(when, service, **kwargs):
    with time_machine.travel(when, tick=False):
        return service(**kwargs)


def decide_at(when, people, request, **kwargs):
    with time_machine.travel(when, tick=False):
        return services.case_decide_request(request=request, actor=people["dispatcher"], **kwargs)


def history(case) -> list[str]:
    return list(case.events.order_by("pk").values_list("action", flat=True))


# --- 退单 return ---------------------------------------------------------------------


def test_an_approved_return_goes_back_for_dispatch_and_the_wrong_assignment_is_not_charged(people, dispatched):
    case = dispatched(at(2026, 11, 23, 10, 0))  # a Monday
    request = request_at(at(2026, 11, 23, 11, 0), services.case_request_return, case=case, actor=people["handler"],
                         reason="不属于本部门职责")  # fmt: skip
    assert (request.kind, request.decision, case.events.get(action="request_return").data) == (
        Kind.RETURN, Decision.PENDING, {"request": request.pk}
    )  # fmt: skip
    decide_at(at(2026, 11, 23, 14, 0), people, request, approve=True)
    case.refresh_from_db()
    request.refresh_from_db()
    assert (case.status, case.department) == (Status.REGISTERED, None)
    assert case.dispatch_due == at(2026, 11, 23, 16, 0)  # the dispatch clock restarts: 2 working hours
    assert (request.decision, request.decided_by, request.decided_at) == (
        Decision.APPROVED, people["dispatcher"], at(2026, 11, 23, 14, 0)
    )  # fmt: skip
    returned = case.events.get(action="return")
    assert (returned.from_status, returned.to_status) == ("dispatched", "registered")
    assert returned.actor == people["dispatcher"]
    assert returned.reason == "不属于本部门职责"
    # Four hours on the clock, of which 2.5 in office hours (10:00–12:00, 13:30–14:00).
    assert returned.data | {"dispatched_at": None} == {
        "request": request.pk, "department": "CG", "dispatched_at": None,
        "not_charged_seconds": 4 * 3600, "not_charged_working_seconds": int(2.5 * 3600),
    }  # fmt: skip
    assert datetime.datetime.fromisoformat(returned.data["dispatched_at"]) == at(2026, 11, 23, 10, 0)
    with pytest.raises(ValidationError):  # back to registered: the dispatcher must choose a department
        services.case_dispatch(case=case, actor=people["dispatcher"])


def test_a_return_can_be_redispatched_at_once_and_the_new_department_starts_a_fresh_clock(people, dispatched):
    case = dispatched(at(2026, 11, 23, 10, 0))
    request = request_at(at(2026, 11, 23, 10, 30), services.case_request_return, case=case, actor=people["handler"],
                         reason="应由市政处理")  # fmt: skip
    cg, sz = Department.objects.get(code="CG"), Department.objects.get(code="SZ")
    with pytest.raises(ValidationError):  # not back to the department that disputed it
        decide_at(at(2026, 11, 23, 14, 0), people, request, approve=True, department=cg)
    request = decide_at(at(2026, 11, 23, 14, 0), people, request, approve=True, department=sz)
    case = request.case
    assert (case.status, case.department, case.stage_started_at) == (Status.DISPATCHED, sz, at(2026, 11, 23, 14, 0))
    assert case.handling_due == at(2026, 11, 24, 9, 30)  # 4 working hours from 14:00, not from 10:00
    assert history(case)[-4:] == ["dispatch", "request_return", "return", "dispatch"]
    assert case.events.order_by("pk").last().data == {"department": "SZ"}
    # The new department has a window of its own.
    second = request_at(at(2026, 11, 23, 15, 0), services.case_request_return, case=case, actor=people["handler"],
                        reason="也不是我们")  # fmt: skip
    assert second.decision == Decision.PENDING


def test_the_return_window_runs_on_working_time_across_the_holiday(people, dispatched, english):
    case = dispatched(at(2026, 9, 30, 16, 0))  # 1.5 working hours left before the holiday, 0.5 after it
    early = request_at(at(2026, 10, 8, 9, 20), services.case_request_return, case=case, actor=people["handler"],
                       reason="非本部门")  # fmt: skip
    decide_at(at(2026, 10, 8, 9, 25), people, early, approve=False, note="属于城管职责")
    late = dispatched(at(2026, 9, 30, 16, 0))
    with pytest.raises(services.CaseTransitionError, match=r"within 2 working hours .* until 2026-10-08 09:30"):
        request_at(at(2026, 10, 8, 9, 31), services.case_request_return, case=late, actor=people["handler"],
                   reason="非本部门")  # fmt: skip
    assert not late.requests.exists() and history(late)[-1] == "dispatch"


def test_a_window_can_be_configured(people, dispatched, settings):
    settings.CASE_RETURN_WINDOW_WORKING_HOURS = 0.5
    case = dispatched(at(2026, 11, 23, 10, 0))
    with pytest.raises(services.CaseTransitionError):
        request_at(at(2026, 11, 23, 10, 31), services.case_request_return, case=case, actor=people["handler"],
                   reason="非本部门")  # fmt: skip


def test_no_return_after_a_refusal_rework_or_reopen(people, dispatched):
    h = people["handler"]
    case = dispatched(at(2026, 11, 23, 10, 0))
    refused = request_at(at(2026, 11, 23, 10, 5), services.case_request_return, case=case, actor=h, reason="非本部门")
    decide_at(at(2026, 11, 23, 10, 10), people, refused, approve=False, note="属于城管职责")
    with pytest.raises(services.CaseTransitionError):
        request_at(at(2026, 11, 23, 10, 15), services.case_request_return, case=case, actor=h, reason="再试一次")
    reworked = dispatched(at(2026, 11, 23, 10, 0))
    with time_machine.travel(at(2026, 11, 23, 10, 20), tick=False):
        services.case_handle(case=reworked, actor=h)
        services.case_verify(case=reworked, actor=people["worker"], passed=False, reason="未清理干净")
        with pytest.raises(services.CaseTransitionError):
            services.case_request_return(case=reworked, actor=h, reason="非本部门")
    assert not reworked.requests.exists()


# --- requests in general -----------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "kwargs"),
    [
        (services.case_request_return, {}),
        (services.case_request_extension, {"amount": 1, "unit": Unit.WORKING_DAYS}),
        (services.case_request_suspension, {}),
    ],
)
def test_a_second_pending_request_of_a_kind_is_a_clear_validation_error(people, dispatched, service, kwargs):
    case = dispatched(at(2026, 11, 23, 10, 0))
    with time_machine.travel(at(2026, 11, 23, 10, 30), tick=False):
        first = service(case=case, actor=people["handler"], reason="第一次", **kwargs)
        with pytest.raises(ValidationError, match="already waiting"):
            service(case=case, actor=people["handler"], reason="重复点击", **kwargs)
    assert list(case.requests.values_list("pk", flat=True)) == [first.pk]
    assert history(case).count(f"request_{first.kind}") == 1


def test_requests_of_different_kinds_may_wait_together(people, dispatched):
    case = dispatched(at(2026, 11, 23, 10, 0))
    with time_machine.travel(at(2026, 11, 23, 10, 30), tick=False):
        services.case_request_return(case=case, actor=people["handler"], reason="非本部门")
        services.case_request_extension(case=case, actor=people["handler"], reason="材料未到", amount=2, unit="hours")
        services.case_request_suspension(case=case, actor=people["handler"], reason="等待审批")
    assert case.requests.filter(decision=Decision.PENDING).count() == 3


@pytest.mark.parametrize(
    ("service", "kwargs"),
    [
        (services.case_request_return, {}),
        (services.case_request_extension, {"amount": 1, "unit": Unit.WORKING_DAYS}),
        (services.case_request_suspension, {}),
        (services.case_resume, {}),
    ],
)
def test_side_paths_need_a_dispatched_case(people, rubbish, service, kwargs):
    case = services.case_report(channel="hotline", description="噪音扰民")
    services.case_register(case=case, actor=people["dispatcher"], category=rubbish)
    if service is not services.case_resume:
        kwargs = kwargs | {"reason": "理由"}
    with pytest.raises(services.CaseTransitionError, match=case.number):
        service(case=case, actor=people["handler"], **kwargs)
    assert not CaseRequest.objects.exists() and history(case) == ["report", "register"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"amount": 0, "unit": "working_days"},
        {"amount": -1, "unit": "working_days"},
        {"amount": "abc", "unit": "working_days"},
        {"amount": Decimal("1.234"), "unit": "working_days"},
        {"amount": None, "unit": "working_days"},
        {"amount": 1, "unit": "fortnights"},
        {"amount": 1, "unit": ""},
        {"amount": 1, "unit": "hours", "reason": "  "},
    ],
)
def test_bad_extension_requests_are_refused_and_nothing_is_saved(people, dispatched, kwargs):
    case = dispatched(at(2026, 11, 23, 10, 0))
    with pytest.raises(ValidationError):
        services.case_request_extension(case=case, actor=people["handler"], **({"reason": "材料未到"} | kwargs))
    assert not CaseRequest.objects.exists() and history(case)[-1] == "dispatch"


def test_a_refusal_needs_a_note_records_who_and_when_and_leaves_the_deadline(people, dispatched):
    case = dispatched(at(2026, 11, 23, 10, 0))
    due = case.handling_due
    request = request_at(at(2026, 11, 23, 10, 30), services.case_request_extension, case=case,
                         actor=people["handler"], reason="材料未到", amount=1, unit="working_days")  # fmt: skip
    with pytest.raises(ValidationError):
        decide_at(at(2026, 11, 23, 11, 0), people, request, approve=False, note="  ")
    request.refresh_from_db()
    assert request.decision == Decision.PENDING and request.decided_at is None
    decide_at(at(2026, 11, 23, 11, 0), people, request, approve=False, note="时间充足")
    case.refresh_from_db()
    request.refresh_from_db()
    assert (request.decision, request.decided_by, request.decided_at, request.decision_note) == (
        Decision.REFUSED, people["dispatcher"], at(2026, 11, 23, 11, 0), "时间充足"
    )  # fmt: skip
    assert (case.handling_due, case.extension_count) == (due, 0)
    refusal = case.events.get(action="refuse_extension")
    assert (refusal.actor, refusal.reason, refusal.data) == (people["dispatcher"], "时间充足", {"request": request.pk})
    with pytest.raises(services.CaseTransitionError):  # decided once, for good
        decide_at(at(2026, 11, 23, 11, 5), people, request, approve=True)
    # Refused is no longer pending: the department may ask again.
    again = request_at(at(2026, 11, 23, 11, 10), services.case_request_extension, case=case,
                       actor=people["handler"], reason="确需延期", amount=2, unit="working_hours")  # fmt: skip
    assert again.decision == Decision.PENDING


def test_leaving_the_assignment_withdraws_pending_requests(people, dispatched):
    case = dispatched(at(2026, 11, 23, 10, 0))
    with time_machine.travel(at(2026, 11, 23, 10, 30), tick=False):
        extension = services.case_request_extension(
            case=case, actor=people["handler"], reason="材料未到", amount=1, unit="working_days"
        )
        services.case_handle(case=case, actor=people["handler"])
    extension.refresh_from_db()
    assert (extension.decision, extension.decided_by) == (Decision.REFUSED, people["handler"])
    assert extension.decision_note
    assert case.events.get(action="handle").data == {"withdrawn_requests": [extension.pk]}
    with pytest.raises(services.CaseTransitionError):
        decide_at(at(2026, 11, 23, 11, 0), people, extension, approve=True)


# --- 延期 extension --------------------------------------------------------------------


def test_an_extension_of_two_working_days_from_30_september_lands_after_the_holiday(people, dispatched):
    case = dispatched(at(2026, 9, 29, 15, 0))
    assert case.handling_due == at(2026, 9, 30, 10, 30)
    request = request_at(at(2026, 9, 30, 9, 0), services.case_request_extension, case=case, actor=people["handler"],
                         reason="需协调产权单位", amount=2, unit=Unit.WORKING_DAYS)  # fmt: skip
    assert case.events.get(action="request_extension").data == {
        "request": request.pk, "amount": "2", "unit": "working_days"
    }  # fmt: skip
    decide_at(at(2026, 9, 30, 9, 30), people, request, approve=True, note="同意")
    case.refresh_from_db()
    # 14 working hours from 09-30 10:30: 5.5 that day, 7 on 10-08, 1.5 on 10-09.
    assert (case.handling_due, case.extension_count) == (at(2026, 10, 9, 10, 30), 1)
    event = case.events.get(action="extend")
    assert (event.actor, event.reason, event.data["amount"]) == (people["dispatcher"], "需协调产权单位", "2")
    assert datetime.datetime.fromisoformat(event.data["old_due"]) == at(2026, 9, 30, 10, 30)
    assert datetime.datetime.fromisoformat(event.data["new_due"]) == at(2026, 10, 9, 10, 30)


def test_a_second_extension_counts_and_moves_from_the_current_deadline(people, dispatched):
    case = dispatched(at(2026, 11, 23, 10, 0))
    for hours in (1, 2):
        request = request_at(at(2026, 11, 23, 10, 30), services.case_request_extension, case=case,
                             actor=people["handler"], reason="材料未到", amount=hours, unit="hours")  # fmt: skip
        decide_at(at(2026, 11, 23, 10, 40), people, request, approve=True)
    case.refresh_from_db()
    assert (case.handling_due, case.extension_count) == (at(2026, 11, 23, 18, 30), 2)  # 15:30 + 1 h + 2 h


# --- 缓办 suspension ---------------------------------------------------------------------


def suspend(people, case, *, asked, approved):
    request = request_at(asked, services.case_request_suspension, case=case, actor=people["handler"], reason="等待审批")
    decide_at(approved, people, request, approve=True)
    case.refresh_from_db()
    return request


def test_a_suspension_over_the_holiday_credits_only_working_time(people, dispatched):
    case = dispatched(at(2026, 9, 30, 9, 0))
    assert case.handling_due == at(2026, 9, 30, 14, 30)
    suspend(people, case, asked=at(2026, 9, 30, 10, 0), approved=at(2026, 9, 30, 11, 0))
    assert case.suspended_at == at(2026, 9, 30, 11, 0)  # the clock stands still from the approval
    assert case.handling_due == at(2026, 9, 30, 14, 30)
    with time_machine.travel(at(2026, 10, 8, 10, 0), tick=False):
        services.case_resume(case=case, actor=people["handler"])
    # Two working hours were left at 11:00; after 10:00 on 10-08 they are still two.
    assert (case.suspended_at, case.handling_due) == (None, at(2026, 10, 8, 12, 0))
    resumed = case.events.get(action="resume")
    assert resumed.data["paused_seconds"] == (7 * 24 + 23) * 3600
    assert resumed.data["credited_seconds"] == 6 * 3600  # 09-30 11:00–12:00, 13:30–17:30; 10-08 09:00–10:00
    assert history(case)[-4:] == ["dispatch", "request_suspension", "suspend", "resume"]


def test_a_suspension_of_a_natural_time_stage_credits_the_wall_clock(people, dispatched):
    case = dispatched(at(2026, 11, 23, 10, 0), severity="urgent")  # handled in 24 hours
    assert case.handling_due == at(2026, 11, 24, 10, 0)
    suspend(people, case, asked=at(2026, 11, 23, 11, 0), approved=at(2026, 11, 23, 12, 0))
    with time_machine.travel(at(2026, 11, 23, 20, 30), tick=False):
        services.case_resume(case=case, actor=people["handler"])
    assert case.handling_due == at(2026, 11, 24, 18, 30)
    assert case.events.get(action="resume").data["credited_seconds"] == int(8.5 * 3600)


def test_suspension_guards(people, dispatched):
    case = dispatched(at(2026, 11, 23, 10, 0))
    with pytest.raises(services.CaseTransitionError):  # not suspended
        services.case_resume(case=case, actor=people["handler"])
    suspend(people, case, asked=at(2026, 11, 23, 10, 30), approved=at(2026, 11, 23, 11, 0))
    with pytest.raises(services.CaseTransitionError):  # already suspended
        services.case_request_suspension(case=case, actor=people["handler"], reason="再次缓办")


def test_handling_a_suspended_case_ends_the_suspension(people, dispatched):
    case = dispatched(at(2026, 11, 23, 10, 0))
    suspend(people, case, asked=at(2026, 11, 23, 10, 30), approved=at(2026, 11, 23, 11, 0))
    with time_machine.travel(at(2026, 11, 24, 9, 0), tick=False):
        services.case_handle(case=case, actor=people["handler"])
    assert (case.status, case.suspended_at) == (Status.HANDLED, None)
    since = case.events.get(action="handle").data["suspended_since"]
    assert datetime.datetime.fromisoformat(since) == at(2026, 11, 23, 11, 0)


# --- 并单 merge ------------------------------------------------------------------------


def test_a_merged_case_closes_now_and_points_to_the_case_it_joined(people, dispatched):
    main = dispatched(at(2026, 11, 23, 10, 0))
    duplicate = services.case_report(channel="hotline", description="路边有垃圾", citizen_phone="13800000000")
    with time_machine.travel(at(2026, 11, 23, 10, 30), tick=False):
        services.case_merge(case=duplicate, into=main, actor=people["dispatcher"], reason="同一地点同一问题")
    assert (duplicate.status, duplicate.merged_into) == (Status.CLOSED, main)
    assert duplicate.closed_at == at(2026, 11, 23, 10, 30)
    merge = duplicate.events.get(action="merge")
    assert (merge.from_status, merge.to_status, merge.data) == ("reported", "closed", {"into": main.number})
    assert main.events.get(action="absorb").data == {"case": duplicate.number}
    main.refresh_from_db()
    assert main.status == Status.DISPATCHED  # the main case goes on as it was


def test_merge_rules(people, dispatched, rubbish):
    d = people["dispatcher"]
    a, b, c = (services.case_report(channel="hotline", description=f"垃圾{n}") for n in range(3))
    with pytest.raises(ValidationError):
        services.case_merge(case=a, into=a, actor=d, reason="同一问题")
    with pytest.raises(ValidationError):
        services.case_merge(case=a, into=b, actor=d, reason=" ")
    services.case_reject(case=c, actor=d, reason="不属实")
    with pytest.raises(services.CaseTransitionError):  # into a closed case
        services.case_merge(case=a, into=c, actor=d, reason="同一问题")
    with pytest.raises(services.CaseTransitionError):  # a closed case cannot be merged
        services.case_merge(case=c, into=a, actor=d, reason="同一问题")
    services.case_merge(case=a, into=b, actor=d, reason="同一问题")
    with pytest.raises(services.CaseTransitionError):  # into a merged case
        services.case_merge(case=b, into=a, actor=d, reason="同一问题")
    assert CaseEvent.objects.filter(action="merge").count() == 1


def test_merging_a_case_that_others_joined_carries_them_along(people, dispatched):
    d = people["dispatcher"]
    first, second = (services.case_report(channel="hotline", description="垃圾") for _ in range(2))
    main = dispatched(at(2026, 11, 23, 10, 0))
    services.case_merge(case=first, into=second, actor=d, reason="同一问题")
    services.case_merge(case=second, into=main, actor=d, reason="同一问题")
    first.refresh_from_db()
    assert first.merged_into == main and second.merged_into == main
    assert first.events.order_by("pk").last().data == {"into": main.number, "via": second.number}


def test_merging_a_dispatched_case_withdraws_its_requests_and_ends_its_suspension(people, dispatched):
    main, duplicate = dispatched(at(2026, 11, 23, 10, 0)), dispatched(at(2026, 11, 23, 10, 0))
    suspend(people, duplicate, asked=at(2026, 11, 23, 10, 10), approved=at(2026, 11, 23, 10, 20))
    extension = request_at(at(2026, 11, 23, 10, 30), services.case_request_extension, case=duplicate,
                           actor=people["handler"], reason="材料未到", amount=1, unit="hours")  # fmt: skip
    services.case_merge(case=duplicate, into=main, actor=people["dispatcher"], reason="同一问题")
    extension.refresh_from_db()
    assert (duplicate.status, duplicate.suspended_at, extension.decision) == (Status.CLOSED, None, Decision.REFUSED)


# --- reopen ----------------------------------------------------------------------------


def close(people, case, when):
    with time_machine.travel(when, tick=False):
        services.case_handle(case=case, actor=people["handler"])
        services.case_verify(case=case, actor=people["worker"], passed=True)
        services.case_close(case=case, actor=people["dispatcher"])


def test_a_reopened_case_goes_back_to_its_department_with_a_fresh_handling_clock(people, dispatched):
    case = dispatched(at(2026, 9, 29, 10, 0))
    close(people, case, at(2026, 9, 29, 15, 0))
    with pytest.raises(ValidationError):
        services.case_reopen(case=case, actor=people["dispatcher"], reason="")
    with time_machine.travel(at(2026, 9, 30, 16, 0), tick=False):
        services.case_reopen(case=case, actor=people["dispatcher"], reason="回访：问题未解决")
    assert (case.status, case.department.code, case.closed_at) == (Status.DISPATCHED, "CG", None)
    assert (case.stage_started_at, case.handling_due) == (at(2026, 9, 30, 16, 0), at(2026, 10, 8, 11, 30))
    reopen = case.events.order_by("pk").last()
    assert (reopen.action, reopen.from_status, reopen.to_status) == ("reopen", "closed", "dispatched")
    assert (reopen.reason, reopen.data) == ("回访：问题未解决", {"department": "CG"})
    with pytest.raises(services.CaseTransitionError):  # the department had it before: no return now
        services.case_request_return(case=case, actor=people["handler"], reason="非本部门")


def test_only_closed_unmerged_cases_reopen(people, dispatched):
    open_case = dispatched(at(2026, 11, 23, 10, 0))
    with pytest.raises(services.CaseTransitionError):
        services.case_reopen(case=open_case, actor=people["dispatcher"], reason="未解决")
    duplicate = services.case_report(channel="hotline", description="垃圾")
    services.case_merge(case=duplicate, into=open_case, actor=people["dispatcher"], reason="同一问题")
    with pytest.raises(services.CaseTransitionError, match=open_case.number):
        services.case_reopen(case=duplicate, actor=people["dispatcher"], reason="未解决")
    duplicate.refresh_from_db()
    assert duplicate.status == Status.CLOSED and history(duplicate)[-1] == "merge"
