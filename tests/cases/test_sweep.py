"""The SLA sweep: yellow at 80 %, red and one escalation per breach, never a closed or suspended case.

Times are Monday 23 November 2026 in Shanghai, inside office hours, so a
normal report's 2 working hours of registration are also 2 natural hours.
"""

import dataclasses
import datetime
import threading
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import redis
import time_machine
from django.conf import settings
from django.db import connection, transaction

from cases import services, sweep, tasks
from cases.models import OPEN_STATUSES, Case, Category, Escalation, Notification, SlaLevel, Stage, Status
from governance.calendar import Unit
from governance.celery import app
from governance.models import Department, Role
from tests.factories import person

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=SHANGHAI)


MONDAY_10 = at(2026, 11, 23, 10, 0)


@pytest.fixture
def rubbish():
    return Category.objects.create(
        kind="event", code="9901", name="测试暴露垃圾", default_department=Department.objects.get(code="CG"),
        default_severity="normal", handling_amount=Decimal(4), handling_unit=Unit.WORKING_HOURS,
    )  # fmt: skip


@pytest.fixture
def people(db):
    people = {
        "worker": person("w", Role.GRID_WORKER),
        "dispatcher": person("d", Role.DISPATCHER),
        "dispatcher2": person("d2", Role.DISPATCHER),
        "head": person("cg_head", Role.DEPARTMENT_ADMIN, department_code="CG"),
        "handler": person("h", Role.DEPARTMENT_HANDLER, department_code="CG"),
    }
    Department.objects.filter(code="CG").update(head=people["head"])
    return people


def report(people, when=MONDAY_10) -> Case:
    """Registration due two hours later (12:00); yellow from 11:36."""
    with time_machine.travel(when, tick=False):
        return services.case_report(channel="grid_worker", description="路边暴露垃圾", reporter=people["worker"])


def dispatched(people, category) -> Case:
    """Handling (4 working hours) from 10:00, due 15:30 after the lunch break."""
    case = report(people, at(2026, 11, 23, 9, 0))
    with time_machine.travel(at(2026, 11, 23, 9, 30), tick=False):
        services.case_register(case=case, actor=people["dispatcher"], category=category)
    with time_machine.travel(at(2026, 11, 23, 10, 0), tick=False):
        services.case_dispatch(case=case, actor=people["dispatcher"])
    assert case.handling_due == at(2026, 11, 23, 15, 30)
    return case


def run(when: datetime.datetime, **kwargs) -> sweep.SweepResult:
    with time_machine.travel(when, tick=False):
        return sweep.sla_sweep(**kwargs)


def level(case: Case) -> str:
    case.refresh_from_db()
    return case.sla_level


def test_yellow_from_80_percent_of_the_allowed_time(people):
    case = report(people)
    assert run(at(2026, 11, 23, 11, 35)).scanned == 0 and level(case) == SlaLevel.GREEN
    result = run(at(2026, 11, 23, 11, 36))  # 96 of 120 minutes
    assert (result.scanned, result.yellow, result.red) == (1, 1, 0) and level(case) == SlaLevel.YELLOW
    assert run(at(2026, 11, 23, 11, 50)).scanned == 0, "a yellow case is not read again"
    assert not Escalation.objects.exists() and not Notification.objects.exists()


def test_at_the_deadline_itself_it_is_yellow_and_just_after_it_is_red(people):
    case = report(people)
    run(at(2026, 11, 23, 12, 0))
    assert level(case) == SlaLevel.YELLOW
    result = run(at(2026, 11, 23, 12, 0, 1))
    assert (result.red, result.escalated, result.escalated_cases) == (1, 1, [case.number])
    assert level(case) == SlaLevel.RED


def test_a_breach_escalates_to_the_department_head_and_every_dispatcher(people, rubbish):
    gone = person("gone", Role.DISPATCHER)
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    case = dispatched(people, rubbish)
    result = run(at(2026, 11, 23, 15, 31))
    assert (result.red, result.escalated, result.notifications) == (1, 1, 3)
    escalation = Escalation.objects.get()
    assert (escalation.case, escalation.stage, escalation.due) == (case, Stage.HANDLING, at(2026, 11, 23, 15, 30))
    notes = Notification.objects.filter(case=case)
    assert sorted(n.recipient.username for n in notes) == ["cg_head", "d", "d2"]
    assert {(n.kind, n.department.code, n.delivered_at) for n in notes} == {("escalation", "CG", None)}
    assert all(case.number in n.subject for n in notes)


def test_without_a_head_the_command_centre_still_hears(people):
    case = report(people)  # no category, no department yet
    result = run(at(2026, 11, 23, 12, 1))
    assert result.notifications == 2
    assert sorted(case.notifications.values_list("recipient__username", flat=True)) == ["d", "d2"]


def test_escalation_exactly_once_across_repeated_sweeps(people):
    case = report(people)
    first = run(at(2026, 11, 23, 12, 1))
    assert (first.escalated, first.notifications) == (1, 2)
    for minute in (2, 3, 6):
        again = run(at(2026, 11, 23, 12, minute))
        assert again == sweep.SweepResult(), "idempotent: nothing read, nothing changed"
    # Later it only asks again for the delivery that never happened here (no commit in this test).
    assert dataclasses.replace(run(at(2026, 11, 23, 13, 0)), requeued=0) == sweep.SweepResult()
    assert Escalation.objects.filter(case=case).count() == 1 and Notification.objects.count() == 2


def test_a_restarted_stage_is_a_new_breach_and_escalates_again(people, rubbish):
    case = dispatched(people, rubbish)
    run(at(2026, 11, 23, 15, 31))
    with time_machine.travel(at(2026, 11, 23, 16, 0), tick=False):
        services.case_handle(case=case, actor=people["handler"])
    with time_machine.travel(at(2026, 11, 23, 16, 30), tick=False):
        services.case_verify(case=case, actor=people["worker"], passed=False, reason="仍有残留垃圾")
    assert case.status == Status.DISPATCHED and case.handling_due == at(2026, 11, 24, 12, 0)
    # A restarted stage starts green; the sweep leaves it so until the new deadline nears.
    assert level(case) == SlaLevel.GREEN
    assert run(at(2026, 11, 23, 17, 0)).red == 0 and level(case) == SlaLevel.GREEN
    again = run(at(2026, 11, 24, 12, 1))
    assert (again.red, again.escalated) == (1, 1)
    assert list(case.escalations.order_by("due").values_list("stage", "due")) == [
        (Stage.HANDLING, at(2026, 11, 23, 15, 30)),
        (Stage.HANDLING, at(2026, 11, 24, 12, 0)),
    ]


def test_a_new_breach_escalates_even_if_no_sweep_saw_the_restart(people, rubbish):
    """Escalated for the first breach, restarted and breached again while the sweep was down."""
    case = dispatched(people, rubbish)
    run(at(2026, 11, 23, 15, 31))
    with time_machine.travel(at(2026, 11, 23, 16, 0), tick=False):
        services.case_handle(case=case, actor=people["handler"])
    with time_machine.travel(at(2026, 11, 23, 16, 30), tick=False):
        services.case_verify(case=case, actor=people["worker"], passed=False, reason="仍有残留垃圾")
    assert level(case) == SlaLevel.GREEN
    assert run(at(2026, 11, 24, 12, 30)).escalated == 1
    assert case.escalations.count() == 2


def test_suspended_cases_are_skipped(people):
    case = report(people)
    # No suspension service yet (缓办 is another slice); the sweep only reads the column.
    Case.objects.filter(pk=case.pk).update(suspended_at=at(2026, 11, 23, 10, 30))
    assert run(at(2026, 11, 23, 18, 0)) == sweep.SweepResult()
    assert level(case) == SlaLevel.GREEN and not Escalation.objects.exists()


def test_closed_and_rejected_cases_are_never_touched(people, rubbish):
    case = dispatched(people, rubbish)
    for action, when in [
        (lambda: services.case_handle(case=case, actor=people["handler"]), at(2026, 11, 23, 11, 0)),
        (lambda: services.case_verify(case=case, actor=people["worker"], passed=True), at(2026, 11, 23, 11, 30)),
        (lambda: services.case_close(case=case, actor=people["dispatcher"]), at(2026, 11, 23, 11, 45)),
    ]:
        with time_machine.travel(when, tick=False):
            action()
    rejected = report(people)
    services.case_reject(case=rejected, actor=people["dispatcher"], reason="重复上报")
    # Old deadlines stay on the closed rows, all long past by then; a stale verdict stays too.
    Case.objects.filter(pk=case.pk).update(sla_level=SlaLevel.YELLOW)
    assert run(at(2026, 12, 31, 12, 0)) == sweep.SweepResult()
    assert (level(case), level(rejected)) == (SlaLevel.YELLOW, SlaLevel.GREEN)
    assert not Escalation.objects.exists()


def test_every_open_status_is_swept_on_its_own_stage(people, rubbish):
    cases = {Status.REPORTED: report(people), Status.DISPATCHED: dispatched(people, rubbish)}
    result = run(at(2026, 12, 1, 12, 0))
    assert result.escalated == 2
    assert dict(Escalation.objects.values_list("case__status", "stage")) == {
        Status.REPORTED: Stage.REGISTRATION,
        Status.DISPATCHED: Stage.HANDLING,
    }
    assert set(result.escalated_cases) == {c.number for c in cases.values()}


def test_bounded_batches_oldest_deadline_first(people):
    cases = [report(people, at(2026, 11, 23, 9, minute)) for minute in (20, 0, 10)]
    first = run(at(2026, 11, 23, 15, 0), batch_size=1, max_batches=2)
    assert first.escalated_cases == [cases[1].number, cases[2].number]
    assert run(at(2026, 11, 23, 15, 0), batch_size=1, max_batches=2).escalated_cases == [cases[0].number]


def test_a_claim_on_a_row_another_sweep_changed_does_nothing(people):
    """The race the claim exists for: both read the row, one escalates, the other claims late."""
    report(people)
    now = at(2026, 11, 23, 12, 1)
    stale = list(sweep.overdue(Status.REPORTED, now))
    assert run(now).escalated == 1
    late = sweep.SweepResult()
    sweep._breach_batch(Status.REPORTED, stale, sweep.notifications.EscalationRecipients.load(), late)
    assert (late.red, late.escalated, late.notifications) == (0, 0, 0)
    assert Escalation.objects.count() == 1 and Notification.objects.count() == 2


def test_a_claim_after_a_transition_does_nothing(people, rubbish):
    case = report(people)
    now = at(2026, 11, 23, 12, 1)
    stale = list(sweep.overdue(Status.REPORTED, now))
    with time_machine.travel(now, tick=False):
        services.case_register(case=case, actor=people["dispatcher"], category=rubbish)
    late = sweep.SweepResult()
    sweep._breach_batch(Status.REPORTED, stale, sweep.notifications.EscalationRecipients.load(), late)
    assert late.red == 0 and level(case) == SlaLevel.GREEN and not Escalation.objects.exists()


def test_even_a_claimed_red_row_escalates_a_breach_only_once(people):
    """A stale red row passes the claim (red → red); the unique key is what stops it."""
    case = report(people)
    now = at(2026, 11, 23, 12, 1)
    run(now)
    row = {"pk": case.pk, "number": case.number, "department_id": None, "sla_level": SlaLevel.RED,
           "due": at(2026, 11, 23, 12, 0)}  # fmt: skip
    late = sweep.SweepResult()
    sweep._breach_batch(Status.REPORTED, [row], sweep.notifications.EscalationRecipients.load(), late)
    assert (late.red, late.escalated, late.notifications) == (1, 0, 0)
    assert Escalation.objects.count() == 1 and Notification.objects.count() == 2


def test_one_conflict_in_a_batch_does_not_cost_the_others_their_escalation(people):
    first, second = report(people, at(2026, 11, 23, 9, 50)), report(people, at(2026, 11, 23, 9, 55))
    stale = list(sweep.overdue(Status.REPORTED, at(2026, 11, 23, 11, 52)))
    assert run(at(2026, 11, 23, 11, 52)).escalated_cases == [first.number], "due 11:50; the second at 11:55"
    stale = [row | {"sla_level": SlaLevel.RED} for row in stale]  # as if read red, after a restart
    stale += list(sweep.overdue(Status.REPORTED, at(2026, 11, 23, 11, 56)))
    late = sweep.SweepResult()
    sweep._breach_batch(Status.REPORTED, stale, sweep.notifications.EscalationRecipients.load(), late)
    assert (late.red, late.escalated, late.escalated_cases) == (2, 1, [second.number])
    assert sorted(Escalation.objects.values_list("case", flat=True)) == [first.pk, second.pk]


@pytest.fixture
def eager(monkeypatch):
    monkeypatch.setitem(app.conf, "task_always_eager", True)


def test_notifications_are_delivered_after_commit(people, eager, django_capture_on_commit_callbacks):
    report(people)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run(at(2026, 11, 23, 12, 1))
    assert len(callbacks) == 1 and not Notification.objects.filter(delivered_at__isnull=False).exists()
    with time_machine.travel(at(2026, 11, 23, 12, 1, 5), tick=False):
        callbacks[0]()
    assert set(Notification.objects.values_list("delivered_at", flat=True)) == {at(2026, 11, 23, 12, 1, 5)}


def test_undelivered_notifications_are_requeued_by_a_later_sweep(people, eager, django_capture_on_commit_callbacks):
    report(people)
    run(at(2026, 11, 23, 12, 1))  # its delivery hook is never run here: a lost message
    assert run(at(2026, 11, 23, 12, 4)).requeued == 0, "not before five minutes"
    with django_capture_on_commit_callbacks(execute=True):
        assert run(at(2026, 11, 23, 12, 7)).requeued == 2
    assert not Notification.objects.filter(delivered_at__isnull=True).exists()


# --- the periodic task and its lock --------------------------------------------------------


def test_the_sweep_runs_every_minute_from_the_one_schedule():
    entry = app.conf.beat_schedule["cases-sla-sweep"]
    assert entry["task"] == tasks.sla_sweep_task.name and entry["schedule"] == 60.0
    assert sweep.lock_timeout() > app.conf.task_time_limit > app.conf.task_soft_time_limit


@pytest.fixture
def lock_key():
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(sweep.LOCK_NAME)
    yield client
    client.delete(sweep.LOCK_NAME)


@pytest.mark.redis
def test_the_task_sweeps_under_the_lock_and_skips_while_another_holds_it(people, lock_key):
    case = report(people)
    with time_machine.travel(at(2026, 11, 23, 12, 1), tick=False):
        with sweep.sweep_lock() as held:
            assert held is not None and lock_key.ttl(sweep.LOCK_NAME) > app.conf.task_soft_time_limit
            assert tasks.sla_sweep_task.apply().get() is None
        assert level(case) == SlaLevel.GREEN
        done = tasks.sla_sweep_task.apply().get()
    assert (done["escalated"], done["escalated_cases"]) == (1, [case.number])
    assert not lock_key.exists(sweep.LOCK_NAME), "released"


# --- PostGIS: the real race and the real plans ------------------------------------------


@pytest.mark.postgis
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_escalate_each_breach_once(reference_data, people, rubbish, monkeypatch):
    overdue = [report(people, at(2026, 11, 23, 9, 0) + datetime.timedelta(seconds=s)) for s in range(40)]
    overdue.append(dispatched(people, rubbish))
    now, start, results, errors = at(2026, 11, 23, 16, 0), threading.Barrier(2), [], []
    # Both sweeps read their first batch (the same rows) before either claims anything.
    both_read, claim, local = threading.Barrier(2), sweep._claim, threading.local()

    def claim_after_both_read(*args):
        if not getattr(local, "claimed", False):
            local.claimed = True
            both_read.wait(timeout=30)
        return claim(*args)

    monkeypatch.setattr(sweep, "_claim", claim_after_both_read)

    def one_sweep():
        try:
            start.wait()
            results.append(sweep.sla_sweep(now=now, batch_size=3))
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()  # each thread had its own connection

    threads = [threading.Thread(target=one_sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors and len(results) == 2
    assert sum(r.scanned for r in results) > len(overdue), "the two sweeps read the same rows"
    assert sum(r.escalated for r in results) == len(overdue) == Escalation.objects.count()
    assert sorted(n for r in results for n in r.escalated_cases) == sorted(c.number for c in overdue)
    assert Notification.objects.count() == sum(r.notifications for r in results) == 40 * 2 + 3
    assert set(Case.objects.values_list("sla_level", flat=True)) == {SlaLevel.RED}


@pytest.mark.postgis
@pytest.mark.parametrize("status", OPEN_STATUSES)
def test_each_status_is_read_through_its_partial_index(status):
    now = at(2026, 11, 23, 12, 0)
    with transaction.atomic(), connection.cursor() as cursor:
        # An empty table is cheapest to scan; what matters is that the index *can* serve the query.
        cursor.execute("SET LOCAL enable_seqscan = off")
        due = sweep._due(status)
        # On an empty table the planner may serve the yellow read from the not-yet-red index, which
        # holds every green row too; bench/bench_sla_sweep.py shows case_<status>_yellow at scale.
        reads = [(sweep.overdue(status, now), due, [f"case_{status}_due"]),
                 (sweep.turning_yellow(status, now), "yellow_at", [f"case_{status}_yellow", f"case_{status}_due"]),
                 (sweep.misleveled(status, now), due, [f"case_{status}_flagged"])]  # fmt: skip
        for query, key, indexes in reads:
            plan = query.order_by(key, "pk")[:1000].explain()
            assert any(index in plan for index in indexes) and "Seq Scan on cases_case" not in plan, plan


def test_each_stage_keeps_the_moment_it_turns_yellow(people, rubbish):
    case = report(people)  # 10:00, due 12:00: yellow from 11:36
    assert case.yellow_at == at(2026, 11, 23, 11, 36)
    case = dispatched(people, rubbish)  # 10:00 → 15:30 natural: yellow after 80 % of 5.5 h
    assert case.yellow_at == at(2026, 11, 23, 14, 24)
    services.case_request_extension(case=case, actor=people["handler"], reason="需调机械", amount=1,
                                    unit="working_hours")  # fmt: skip
    request = case.requests.get()
    with time_machine.travel(at(2026, 11, 23, 11, 0), tick=False):
        services.case_decide_request(request=request, actor=people["dispatcher"], approve=True)
    case.refresh_from_db()
    assert case.handling_due == at(2026, 11, 23, 16, 30)
    assert case.yellow_at == at(2026, 11, 23, 15, 12), "moved with the deadline: 80 % of 10:00 → 16:30"
    with time_machine.travel(at(2026, 11, 23, 15, 0), tick=False):
        services.case_handle(case=case, actor=people["handler"])
    case.refresh_from_db()
    assert case.yellow_at > at(2026, 11, 23, 15, 0) and case.current_due > case.yellow_at


def test_an_extension_is_a_new_deadline_judged_afresh(people, rubbish):
    """Red and escalated at 15:31; an extension of 1 working hour moves the deadline to 16:30:
    green again, not escalated again until that deadline passes too, then escalated once more."""
    case = dispatched(people, rubbish)
    assert run(at(2026, 11, 23, 15, 31)).escalated == 1 and level(case) == SlaLevel.RED
    services.case_request_extension(case=case, actor=people["handler"], reason="需调机械", amount=1,
                                    unit="working_hours")  # fmt: skip
    with time_machine.travel(at(2026, 11, 23, 15, 40), tick=False):
        services.case_decide_request(request=case.requests.get(), actor=people["dispatcher"], approve=True)
    assert level(case) == SlaLevel.GREEN
    assert run(at(2026, 11, 23, 15, 45)).yellow == 1, "past 80 % of 10:00 → 16:30"
    assert run(at(2026, 11, 23, 16, 0)).escalated == 0
    assert run(at(2026, 11, 23, 16, 31)).escalated == 1
    assert list(case.escalations.order_by("due").values_list("due", flat=True)) == [
        at(2026, 11, 23, 15, 30),
        at(2026, 11, 23, 16, 30),
    ]
