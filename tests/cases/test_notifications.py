"""The outbox: who hears of a breach, delivery after commit, at most once per row, re-queued when lost."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from cases import notifications, services, tasks
from cases.models import Escalation, Notification, Stage
from governance.celery import app
from governance.models import Department, Role
from tests.factories import person

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOON = datetime.datetime(2026, 11, 23, 12, 0, tzinfo=SHANGHAI)


@pytest.fixture
def people(db):
    return {
        "worker": person("w", Role.GRID_WORKER),
        "d": person("d", Role.DISPATCHER),
        "d2": person("d2", Role.DISPATCHER),
        "head": person("cg_head", Role.DEPARTMENT_ADMIN, department_code="CG"),
        "handler": person("h", Role.DEPARTMENT_HANDLER, department_code="CG"),
    }


@pytest.fixture
def eager(monkeypatch):
    monkeypatch.setitem(app.conf, "task_always_eager", True)


def cg() -> Department:
    return Department.objects.get(code="CG")


def names(users) -> list[str]:
    return [u.username for u in users]


def escalation(people) -> Escalation:
    with time_machine.travel(NOON - datetime.timedelta(hours=3), tick=False):
        case = services.case_report(channel="grid_worker", description="井盖缺失", reporter=people["worker"])
    return Escalation.objects.create(case=case, stage=Stage.REGISTRATION, due=case.registration_due)


def outbox(people, count: int = 3) -> list[int]:
    notices = [Notification(recipient=people["d"], kind="test", subject=f"n{i}") for i in range(count)]
    return notifications.notifications_write(notices)


def test_the_head_first_then_every_active_dispatcher(people):
    Department.objects.filter(code="CG").update(head=people["head"])
    people["d2"].is_active = False
    people["d2"].save(update_fields=["is_active"])
    recipients = notifications.EscalationRecipients.load()
    assert names(recipients.for_department(cg().pk)) == ["cg_head", "d"]
    assert names(recipients.for_department(None)) == ["d"], "no department yet: the command centre alone"
    sz = Department.objects.get(code="SZ")
    assert names(recipients.for_department(sz.pk)) == ["d"], "a department without a head"


def test_a_head_who_is_also_a_dispatcher_hears_once(people):
    Department.objects.filter(code="CG").update(head=people["d2"])
    assert names(notifications.EscalationRecipients.load().for_department(cg().pk)) == ["d2", "d"]


def test_an_inactive_head_is_not_notified(people):
    people["head"].is_active = False
    people["head"].save(update_fields=["is_active"])
    Department.objects.filter(code="CG").update(head=people["head"])
    assert names(notifications.EscalationRecipients.load().for_department(cg().pk)) == ["d", "d2"]


def test_escalation_notices_name_the_case_and_stage(people, english):
    Department.objects.filter(code="CG").update(head=people["head"])
    breach = escalation(people)
    notices = notifications.escalation_notices(
        escalation=breach, number=breach.case.number, department_id=cg().pk,
        recipients=notifications.EscalationRecipients.load(),
    )  # fmt: skip
    assert [n.pk for n in notices] == [None, None, None], "unsaved: the caller writes them in its transaction"
    assert names(n.recipient for n in notices) == ["cg_head", "d", "d2"]
    notice = notices[0]
    assert (notice.case, notice.kind, notice.department) == (breach.case, "escalation", cg())
    assert breach.case.number in notice.subject and breach.case.number in notice.body
    # In the product's language whatever the caller's: the registration stage is 立案.
    assert "立案" in notice.subject and "registration" not in notice.subject and "2026-11-23 11:00" in notice.body


def test_delivery_is_queued_on_commit_and_marks_the_rows_delivered(people, eager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        ids = outbox(people)
        notifications.queue_delivery(ids)
    assert len(callbacks) == 1 and Notification.objects.filter(delivered_at__isnull=True).count() == 3
    with time_machine.travel(NOON, tick=False):
        callbacks[0]()
    assert set(Notification.objects.values_list("delivered_at", flat=True)) == {NOON}


def test_nothing_to_queue_queues_nothing(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        notifications.queue_delivery([])
    assert callbacks == []


def test_the_task_delivers_and_a_second_run_changes_nothing(people):
    ids = outbox(people)
    assert tasks.deliver_notifications.apply(args=[ids]).get() == 3
    first = list(Notification.objects.order_by("pk").values_list("delivered_at", flat=True))
    assert tasks.deliver_notifications.apply(args=[ids + [10**9]]).get() == 0, "delivered and unknown ids are skipped"
    assert list(Notification.objects.order_by("pk").values_list("delivered_at", flat=True)) == first


def test_a_channel_plugs_in_and_a_failing_one_leaves_the_row_for_later(people):
    ids = outbox(people)
    sent = []

    def sms(notification):
        if notification.pk == ids[1]:
            raise notifications.DeliveryError("gateway busy")
        sent.append(notification.pk)

    assert notifications.notifications_deliver(ids=ids, channels=(notifications.in_app, sms)) == 2
    assert sent == [ids[0], ids[2]]
    assert list(Notification.objects.filter(delivered_at__isnull=True).values_list("pk", flat=True)) == [ids[1]]


def test_delivery_goes_in_chunks(people, monkeypatch):
    monkeypatch.setattr(notifications, "DELIVERY_CHUNK", 2)
    assert notifications.notifications_deliver(ids=outbox(people, 5)) == 5


def test_requeue_picks_the_oldest_undelivered_after_five_minutes(people, eager, django_capture_on_commit_callbacks):
    with time_machine.travel(NOON, tick=False):
        old = outbox(people, 3)
    with time_machine.travel(NOON + datetime.timedelta(minutes=4), tick=False):
        fresh = outbox(people, 1)
    notifications.notifications_deliver(ids=old[:1])
    later = NOON + datetime.timedelta(minutes=6)
    assert notifications.notifications_requeue(now=NOON + datetime.timedelta(minutes=5)) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications.notifications_requeue(now=later, limit=1) == 1
    assert list(Notification.objects.filter(delivered_at__isnull=True).order_by("pk").values_list("pk", flat=True)) == [
        old[2],
        fresh[0],
    ]
