"""Notifications: the outbox writer and its delivery.

Writers add Notification rows in the transaction that decided to notify and
queue delivery with transaction.on_commit, so a rolled-back decision sends
nothing and a committed one is never lost: the SLA sweep re-queues rows left
undelivered (a lost message, a worker killed mid-task) through the
`outbox_undelivered` partial index.

Sending the delivery task never fails the writer: when the broker cannot
take it (Redis down) the rows simply wait in the outbox, and the sweep of the
beat schedule re-queues them once Redis is back. `sla_sweep --no-lock` does not
queue at all, for the same reason.

A channel is a callable that takes a Notification and raises DeliveryError
when it should be tried again later. In-app is the only channel so far (the
outbox row is the message); SMS or e-mail plug in by adding to CHANNELS.
Delivery is at least once: a row whose last channel failed goes through all
of them again, so a channel must tolerate a repeat.
"""

import datetime
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError

from cases.models import Escalation, Notification, Stage
from governance.celery import app
from governance.models import Department, Role

logger = logging.getLogger(__name__)

ESCALATION = "escalation"
# By name, not by import: cases.tasks imports this module.
DELIVER_TASK = "cases.tasks.deliver_notifications"
# Older than this and still undelivered: its delivery task was lost or failed.
REQUEUE_AFTER = datetime.timedelta(minutes=5)
DELIVERY_CHUNK = 200


class DeliveryError(Exception):
    """A channel could not deliver now; the notification stays in the outbox for a later try."""


# --- writing --------------------------------------------------------------------------


@dataclass(frozen=True)
class EscalationRecipients:
    """Who hears of a breach: the case department's head and the command centre (every active dispatcher).
    Loaded once per sweep, not once per case."""

    heads: dict  # department id → head
    command_centre: tuple

    @classmethod
    def load(cls) -> "EscalationRecipients":
        heads = Department.objects.filter(head__is_active=True).select_related("head")
        dispatchers = get_user_model().objects.filter(is_active=True, profile__role=Role.DISPATCHER).order_by("pk")
        return cls(heads={d.pk: d.head for d in heads}, command_centre=tuple(dispatchers))

    def for_department(self, department_id: int | None) -> list:
        head = self.heads.get(department_id)
        people = [head] if head else []
        return people + [u for u in self.command_centre if head is None or u.pk != head.pk]


def escalation_notices(
    *, escalation: Escalation, number: str | None, department_id: int | None, recipients: EscalationRecipients
) -> list[Notification]:
    """Unsaved outbox rows for one breach, one per person."""
    # The product's language, whoever triggered the sweep.
    with translation.override(settings.LANGUAGE_CODE):
        stage = str(Stage(escalation.stage).label)
        due = timezone.localtime(escalation.due).strftime("%Y-%m-%d %H:%M")
        subject = _("Overdue (督办): case %(number)s, %(stage)s") % {"number": number, "stage": stage}
        body = _(
            "The %(stage)s deadline of case %(number)s was %(due)s and has passed. "
            "The department head and the command centre are notified."
        ) % {"stage": stage, "number": number, "due": due}
    return [
        Notification(case_id=escalation.case_id, recipient=person, department_id=department_id, kind=ESCALATION,
                     subject=subject, body=body)
        for person in recipients.for_department(department_id)
    ]  # fmt: skip


def notifications_write(notices: Sequence[Notification]) -> list[int]:
    """Save outbox rows; call inside the deciding transaction, then queue_delivery()."""
    return [n.pk for n in Notification.objects.bulk_create(notices)] if notices else []


def queue_delivery(ids: list[int]) -> None:
    """Deliver after the current transaction commits (at once outside one)."""
    if ids:
        ids = list(ids)
        transaction.on_commit(lambda: _send_task(ids))


def _send_task(ids: list[int]) -> bool:
    # ignore_result: nobody reads a delivery's result, and expecting one makes the sender subscribe
    # to the result store first, which with Redis down retries for ~20 s and then raises RuntimeError.
    try:
        app.signature(DELIVER_TASK, args=(ids,)).apply_async(ignore_result=True)
    except OperationalError as error:
        # The rows are committed: they wait in the outbox for the sweep to re-queue them.
        logger.warning("Delivery of %s notification(s) not queued, they stay in the outbox: %s", len(ids), error)
        return False
    return True


def notifications_requeue(*, now=None, older_than: datetime.timedelta = REQUEUE_AFTER, limit: int = 1000) -> int:
    """Queue delivery again for the oldest rows still undelivered after `older_than`."""
    now = now or timezone.now()
    stale = Notification.objects.filter(delivered_at__isnull=True, created_at__lt=now - older_than)
    ids = list(stale.order_by("created_at").values_list("pk", flat=True)[:limit])
    queue_delivery(ids)
    return len(ids)


def notifications_waiting() -> int:
    """How many rows are still undelivered (the outbox_undelivered partial index)."""
    return Notification.objects.filter(delivered_at__isnull=True).count()


# --- delivering -------------------------------------------------------------------------


def in_app(notification: Notification) -> None:
    """The product's own channel: the recipient reads the outbox row itself; nothing to send."""


Channel = Callable[[Notification], None]
CHANNELS: tuple[Channel, ...] = (in_app,)


def notifications_deliver(*, ids: Iterable[int], channels: Sequence[Channel] = CHANNELS) -> int:
    """Send the undelivered ones among `ids` through every channel and mark them delivered.

    Idempotent: delivered rows are skipped. Two workers given the same ids do
    not both send a row (the row lock, skip_locked). A channel that raises
    DeliveryError leaves its row undelivered, for the sweep to re-queue.
    """
    ids = list(ids)
    delivered = 0
    for start in range(0, len(ids), DELIVERY_CHUNK):
        with transaction.atomic():
            pending = (
                Notification.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(pk__in=ids[start : start + DELIVERY_CHUNK], delivered_at__isnull=True)
                .select_related("recipient", "case")
                .order_by("pk")
            )
            sent = [n.pk for n in pending if _send(n, channels)]
            delivered += Notification.objects.filter(pk__in=sent).update(delivered_at=timezone.now())
    return delivered


def _send(notification: Notification, channels: Sequence[Channel]) -> bool:
    try:
        for channel in channels:
            channel(notification)
    except DeliveryError as error:
        logger.warning("Notification %s not delivered, will retry: %s", notification.pk, error)
        return False
    return True
