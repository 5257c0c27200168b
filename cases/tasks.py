"""Background tasks of the cases app. Tasks take ids, never objects, and call one service."""

import logging
from dataclasses import asdict

from celery import shared_task

from cases.notifications import notifications_deliver
from cases.sweep import sla_sweep, sweep_lock

logger = logging.getLogger(__name__)

# A minute's worth of work per status: a backlog drains over several runs
# instead of one run meeting its time limit.
SWEEP_MAX_BATCHES = 20


@shared_task(name="cases.tasks.sla_sweep_task")
def sla_sweep_task() -> dict | None:
    """Every minute (governance/celery.py): one SLA sweep, unless one is still running."""
    with sweep_lock() as lock:
        if lock is None:
            logger.info("SLA sweep skipped: the previous one still holds the lock.")
            return None
        result = sla_sweep(max_batches=SWEEP_MAX_BATCHES, heartbeat=lock.reacquire)
    if result.escalated:
        logger.info("SLA sweep escalated %s case(s): %s", result.escalated, ", ".join(result.escalated_cases))
    return asdict(result) | {"escalated_cases": result.escalated_cases[:100]}


# No result: nothing reads it, and a sender that expects one must reach the result store first.
@shared_task(name="cases.tasks.deliver_notifications", ignore_result=True)
def deliver_notifications(ids: list[int]) -> int:
    """Deliver outbox rows; queued on commit by whoever wrote them, re-queued by the sweep."""
    return notifications_deliver(ids=ids)
