"""The SLA sweep (domain.md §6): yellow at 80 % of a stage's time, red and escalated (督办) on breach.

Race-safe in the healthchecks way. Each open status has a partial index on its
running stage's deadline column over the rows not yet red (`case_<status>_due`),
so escalated rows leave the read; the sweep reads through it in bounded batches
ordered by the deadline, then claims each row with a
conditional UPDATE that repeats what it read (status, deadline, level). A row
that a transition or another sweep changed in between matches nothing and is
left alone, so concurrent sweeps are safe without any lock. "Escalated once
per breach" is the database's word: Escalation is unique on (case, stage, due),
and a second insert fails inside a savepoint. A restarted stage has a new due,
hence a new breach that may escalate again.

Yellow is measured in natural time: a stage turns yellow when 80 % of
stage_started_at → due has elapsed. The services store that moment (yellow_at)
whenever a stage starts or its deadline moves, so what turns yellow is a range
of a partial index too (green rows of a status, by yellow_at), and the rows
whose level must go back (a yellow or red case whose deadline moved later) are
a range of a small partial index over the non-green rows.

The Redis lock (sweep_lock) only keeps periodic runs from piling up on each
other; correctness never depends on it.
"""

import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import redis
from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import F, Q, QuerySet, Value
from django.utils import timezone

from cases import notifications
from cases.models import OPEN_STATUSES, STAGE_OF_STATUS, Case, Escalation, SlaLevel

LOCK_NAME = "cases:sla-sweep"


@dataclass
class SweepResult:
    scanned: int = 0  # candidate rows read
    yellow: int = 0  # turned yellow
    red: int = 0  # turned red (claimed for a breach)
    green: int = 0  # back to green: the stage restarted or its deadline moved
    escalated: int = 0
    notifications: int = 0
    requeued: int = 0  # undelivered notifications sent to the delivery task again
    escalated_cases: list[str] = field(default_factory=list)


def sla_sweep(
    *,
    now=None,
    batch_size: int = 1000,
    max_batches: int | None = None,
    heartbeat: Callable[[], object] | None = None,
    queue: bool = True,
) -> SweepResult:
    """One pass over every open status. `max_batches` bounds each status's overdue and
    not-yet-due reads separately, so a backlog in one cannot starve the others;
    `heartbeat` runs before each batch (the periodic task extends its lock there).
    `queue=False` writes the outbox but sends nothing to Celery (Redis is down): a later
    sweep that queues re-queues those rows."""
    now = now or timezone.now()
    result = SweepResult()
    recipients = notifications.EscalationRecipients.load()
    for status in OPEN_STATUSES:
        for rows in _batches(overdue(status, now), _due(status), batch_size, max_batches, heartbeat):
            result.scanned += len(rows)
            _breach_batch(status, rows, recipients, result, queue=queue)
    for status in OPEN_STATUSES:
        reads = ((turning_yellow(status, now), "yellow_at", "key"), (misleveled(status, now), _due(status), "due"))
        for query, key, row_key in reads:
            for rows in _batches(query, key, batch_size, max_batches, heartbeat, row_key=row_key):
                result.scanned += len(rows)
                _relevel_batch(status, rows, result)
    if queue:
        result.requeued = notifications.notifications_requeue(now=now, limit=batch_size)
    return result


# --- the reads: each one a range of a status's partial index ------------------------


def overdue(status: str, now) -> QuerySet:
    """Past their deadline and not yet red. Every change of a deadline (a new stage, an approved
    extension, a resumed suspension) sets the level back to green, so a red row is one whose
    breach was claimed; a new deadline makes a new breach that this read finds again."""
    due = _due(status)
    return (
        Case.objects.filter(status=status, suspended_at__isnull=True, **{f"{due}__lt": now})
        .exclude(sla_level=SlaLevel.RED)
        .values("pk", "number", "department_id", "sla_level", due=F(due))
    )


def turning_yellow(status: str, now) -> QuerySet:
    """Green, not yet due, and past the moment it turns yellow."""
    due = _due(status)
    return (
        Case.objects.filter(
            status=status,
            sla_level=SlaLevel.GREEN,
            yellow_at__lte=now,
            suspended_at__isnull=True,
            **{f"{due}__gte": now},
        )  # fmt: skip
        .annotate(target=Value(SlaLevel.YELLOW, output_field=models.CharField()))
        .values("pk", "sla_level", "target", due=F(due), key=F("yellow_at"))
    )


def misleveled(status: str, now) -> QuerySet:
    """Not yet due, yellow or red, and no longer right: the deadline moved later (an extension,
    a resumed suspension), so the case is yellow again or green."""
    due = _due(status)
    target = models.Case(
        models.When(yellow_at__lte=now, then=Value(SlaLevel.YELLOW)),
        default=Value(SlaLevel.GREEN),
        output_field=models.CharField(),
    )
    return (
        Case.objects.filter(status=status, suspended_at__isnull=True, **{f"{due}__gte": now})
        .exclude(sla_level=SlaLevel.GREEN)
        .annotate(target=target)
        .exclude(sla_level=F("target"))
        .values("pk", "sla_level", "target", due=F(due))
    )


def _due(status: str) -> str:
    return f"{STAGE_OF_STATUS[status]}_due"


def _batches(
    query: QuerySet, key: str, size: int, max_batches: int | None, heartbeat, row_key: str = "due"
) -> Iterator[list[dict]]:
    """Keyset pages in (key, pk) order, `key` the indexed column the read ranges over and `row_key`
    its value in a row: a row whose claim failed is never read twice in a pass, and `key >= last`
    keeps every page a range scan. (A timestamp is the costliest thing in a row to load: the
    deadline is read once, not again as the key.)"""
    last = None
    for _ in range(max_batches) if max_batches else itertools.count():
        if heartbeat:
            heartbeat()
        page = query
        if last is not None:
            page = query.filter(Q(**{f"{key}__gt": last[0]}) | Q(pk__gt=last[1]), **{f"{key}__gte": last[0]})
        rows = list(page.order_by(key, "pk")[:size])
        if rows:
            yield rows
        if len(rows) < size:
            return
        last = (rows[-1][row_key], rows[-1]["pk"])


# --- the writes: claim, then act on what was claimed ------------------------------------


def _claim(status: str, row: dict, level: str) -> bool:
    """healthchecks' conditional update: only if the row is still what this sweep read."""
    claimed = Case.objects.filter(
        pk=row["pk"], status=status, suspended_at__isnull=True, sla_level=row["sla_level"], **{_due(status): row["due"]}
    ).update(sla_level=level)
    return claimed == 1


def _breach_batch(status: str, rows: list[dict], recipients, result: SweepResult, *, queue: bool = True) -> None:
    """Claim, escalate, write the outbox: one transaction per batch, delivery queued on its commit."""
    with transaction.atomic():
        claimed = {row["pk"]: row for row in rows if _claim(status, row, SlaLevel.RED)}
        result.red += len(claimed)
        escalations = _escalate(STAGE_OF_STATUS[status], claimed.values())
        result.escalated += len(escalations)
        notices = []
        for escalation in escalations:
            row = claimed[escalation.case_id]
            result.escalated_cases.append(row["number"] or f"#{row['pk']}")
            notices += notifications.escalation_notices(
                escalation=escalation, number=row["number"], department_id=row["department_id"], recipients=recipients
            )
        ids = notifications.notifications_write(notices)
        result.notifications += len(ids)
        if queue:
            notifications.queue_delivery(ids)


def _escalate(stage: str, claimed) -> list[Escalation]:
    """The batch's escalations in one INSERT; the unique key still decides. A conflict (another sweep
    escalated one of these breaches: both claimed a row that was already red) fails the insert in its
    savepoint, and then each row is tried alone, in a savepoint of its own."""
    new = [Escalation(case_id=row["pk"], stage=stage, due=row["due"]) for row in claimed]
    if not new:
        return []
    try:
        with transaction.atomic():
            return Escalation.objects.bulk_create(new)
    except IntegrityError:
        return [escalation for escalation in new if _insert_once(escalation)]


def _insert_once(escalation: Escalation) -> bool:
    try:
        with transaction.atomic():
            escalation.save(force_insert=True)
    except IntegrityError:
        return False  # this breach is already escalated
    return True


def _relevel_batch(status: str, rows: list[dict], result: SweepResult) -> None:
    with transaction.atomic():
        for row in rows:
            if not _claim(status, row, row["target"]):
                continue
            if row["target"] == SlaLevel.YELLOW:
                result.yellow += 1
            else:
                result.green += 1


# --- the lock around periodic runs ---------------------------------------------------------


def lock_timeout() -> int:
    """Longer than a task may live (the hard time limit is past the soft one): a worker killed
    mid-sweep leaves a lock that expires by itself, and a live one never outlasts it."""
    return settings.CELERY_TASK_TIME_LIMIT + 60


@contextmanager
def sweep_lock(*, wait: bool = False) -> Iterator[redis.lock.Lock | None]:
    """The held lock, or None when another sweep holds it (and `wait` is false).
    Whoever holds it calls lock.reacquire() now and then to keep it for a long pass."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    lock = client.lock(LOCK_NAME, timeout=lock_timeout(), blocking_timeout=lock_timeout() if wait else None)
    if not lock.acquire(blocking=wait):
        yield None
        return
    try:
        yield lock
    finally:
        try:
            lock.release()
        except redis.exceptions.LockNotOwnedError:
            pass  # it expired under us; whoever holds it now keeps it
