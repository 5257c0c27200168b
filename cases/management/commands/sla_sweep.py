"""Run one SLA sweep now and say what it did: `manage.py sla_sweep [--wait] [--no-lock]`.

It takes the periodic task's Redis lock, so it never runs alongside a sweep
of the beat schedule; when another sweep holds the lock it says so and exits
0 (or waits, with --wait). --no-lock is for when Redis is down: concurrent
sweeps stay correct without the lock (rows are claimed in the database), and
it does not touch Redis at all. Its notifications are written to the outbox but
not queued (sending to a Redis that is down would only wait and fail); the
periodic sweep re-queues them to the worker once Redis is back.
"""

import redis
from django.core.management.base import BaseCommand, CommandError

from cases.notifications import REQUEUE_AFTER, notifications_waiting
from cases.sweep import SweepResult, sla_sweep, sweep_lock


class Command(BaseCommand):
    help = "Run one SLA sweep: mark cases yellow or red and escalate (督办) breached deadlines once."

    def add_arguments(self, parser):
        parser.add_argument("--wait", action="store_true", help="Wait for a running sweep to finish, then sweep.")
        parser.add_argument("--no-lock", action="store_true", help="Sweep without taking the Redis lock.")
        parser.add_argument("--batch-size", type=int, default=1000, help="Rows read per query (default 1000).")

    def handle(self, *args, wait, no_lock, batch_size, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        if no_lock:
            self._report(sla_sweep(batch_size=batch_size, queue=False))
            self.stdout.write(
                f"Redis not used (--no-lock): {notifications_waiting()} undelivered notification(s) stay in the "
                f"outbox; the worker delivers them once Redis is back (the periodic sweep re-queues them after "
                f"{REQUEUE_AFTER.seconds // 60} minutes)."
            )
            return
        try:
            with sweep_lock(wait=wait) as lock:
                if lock is None:
                    self.stdout.write("Another SLA sweep is running; nothing done. Use --wait to run after it.")
                    return
                result = sla_sweep(batch_size=batch_size, heartbeat=lock.reacquire)
        except redis.exceptions.ConnectionError as error:
            raise CommandError(f"Cannot take the sweep lock in Redis ({error}); --no-lock sweeps without it.") from None
        self._report(result)

    def _report(self, result: SweepResult) -> None:
        self.stdout.write(
            f"Scanned {result.scanned} case(s): {result.yellow} turned yellow, {result.red} red, "
            f"{result.green} back to green; {result.escalated} escalated, {result.notifications} notification(s) "
            f"written, {result.requeued} undelivered re-queued."
        )
        for number in result.escalated_cases:
            self.stdout.write(f"escalated {number}")
