"""manage.py sla_sweep: one pass, what it did, and the lock it shares with the periodic task;
with --no-lock, a sweep that never touches Redis and leaves its notifications to the outbox."""

import datetime
import json
import os
import subprocess
import sys
import threading
import time
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import redis
import time_machine
from django.conf import settings
from django.core.management import CommandError, call_command

from cases import notifications, services, sweep, tasks
from cases.models import Escalation, Notification, SlaLevel
from governance.celery import app
from governance.models import Role
from tests.factories import person

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = datetime.datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)
WAITING = (
    "Redis not used (--no-lock): {} undelivered notification(s) stay in the outbox; the worker delivers them "
    "once Redis is back (the periodic sweep re-queues them after 5 minutes)."
)
CLOSED_PORT = "redis://127.0.0.1:1/0"


@pytest.fixture
def overdue(db):
    """Reports due at 11:00 and 11:10 and one due at 12:00 (yellow from 11:36); two dispatchers to tell."""
    worker = person("w", Role.GRID_WORKER)
    person("d", Role.DISPATCHER)
    person("d2", Role.DISPATCHER)
    cases = []
    for minutes in (0, 10, 60):
        with time_machine.travel(MONDAY + datetime.timedelta(minutes=minutes), tick=False):
            cases.append(services.case_report(channel="grid_worker", description="占道经营", reporter=worker))
    return cases


@pytest.fixture
def lock_client():
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(sweep.LOCK_NAME)
    yield client
    client.delete(sweep.LOCK_NAME)


def sla_sweep(*args: str, when=MONDAY + datetime.timedelta(hours=2, minutes=40)) -> str:
    out = StringIO()
    with time_machine.travel(when, tick=False):
        call_command("sla_sweep", *args, stdout=out)
    return out.getvalue()


def test_one_pass_prints_the_counts_and_each_escalated_case(overdue):
    out = sla_sweep("--no-lock")
    assert out.splitlines() == [
        "Scanned 3 case(s): 1 turned yellow, 2 red, 0 back to green; 2 escalated, 4 notification(s) written, "
        "0 undelivered re-queued.",
        f"escalated {overdue[0].number}",
        f"escalated {overdue[1].number}",
        WAITING.format(4),
    ]
    assert sla_sweep("--no-lock").splitlines() == [
        "Scanned 0 case(s): 0 turned yellow, 0 red, 0 back to green; 0 escalated, 0 notification(s) written, "
        "0 undelivered re-queued.",
        WAITING.format(4),
    ]
    assert Escalation.objects.count() == 2


@pytest.mark.redis
def test_the_command_takes_the_lock(overdue, lock_client):
    assert "2 escalated" in sla_sweep()
    assert not lock_client.exists(sweep.LOCK_NAME), "released after the pass"


@pytest.mark.redis
def test_while_another_sweep_holds_the_lock_it_says_so_and_does_nothing(overdue, lock_client):
    with sweep.sweep_lock() as held:
        assert held is not None
        out = sla_sweep()
    assert out == "Another SLA sweep is running; nothing done. Use --wait to run after it.\n"
    assert not Escalation.objects.exists()


@pytest.mark.redis
def test_wait_runs_after_the_other_sweep_lets_go(overdue, lock_client):
    taken, finished = threading.Event(), []

    def other_sweep():
        with sweep.sweep_lock() as held:
            taken.set()
            time.sleep(0.5)
            finished.append(held is not None and time.monotonic())

    other = threading.Thread(target=other_sweep)
    other.start()
    assert taken.wait(5)
    out = sla_sweep("--wait")
    other.join()
    assert finished[0] and "2 escalated" in out


def test_without_redis_it_refuses_unless_told_no_lock(overdue, settings):
    settings.REDIS_URL = CLOSED_PORT
    with pytest.raises(CommandError, match="--no-lock sweeps without it"):
        sla_sweep()
    assert not Escalation.objects.exists()
    assert "2 escalated" in sla_sweep("--no-lock")


def test_a_batch_size_below_one_is_refused(db):
    with pytest.raises(CommandError, match="--batch-size must be at least 1"):
        sla_sweep("--no-lock", "--batch-size", "0")


def test_no_lock_queues_nothing_and_the_next_periodic_sweep_delivers_the_outbox(
    overdue, monkeypatch, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        assert "2 escalated" in sla_sweep("--no-lock")
    assert callbacks == [], "nothing is sent to Celery: Redis is down"
    assert Notification.objects.filter(delivered_at__isnull=True).count() == 4
    # Redis is back: the periodic task's sweep, more than five minutes later, re-queues and delivers them.
    assert tasks.deliver_notifications.name == notifications.DELIVER_TASK  # registered, so eager runs it
    monkeypatch.setitem(app.conf, "task_always_eager", True)
    with django_capture_on_commit_callbacks(execute=True), time_machine.travel(MONDAY + datetime.timedelta(hours=3)):
        assert sweep.sla_sweep().requeued == 4
    assert not Notification.objects.filter(delivered_at__isnull=True).exists()


# What the operator runs while Redis is down: cases reported ten days ago, overdue now, two dispatchers to tell.
SETUP = """
import datetime, time_machine
from django.utils import timezone
from cases import services
from governance.models import Role
from tests.factories import person
worker = person("w", Role.GRID_WORKER)
person("d", Role.DISPATCHER)
person("d2", Role.DISPATCHER)
with time_machine.travel(timezone.now() - datetime.timedelta(days=10), tick=False):
    for _ in range(2):
        services.case_report(channel="grid_worker", description="占道经营", reporter=worker)
"""
STATE = """
import json
from cases.models import Case, Escalation, Notification
print(json.dumps({"levels": sorted(Case.objects.values_list("sla_level", flat=True)),
                  "escalations": Escalation.objects.count(),
                  "waiting": Notification.objects.filter(delivered_at__isnull=True).count()}))
"""


def test_real_process_with_redis_unreachable_does_its_work_and_exits_0_at_once(tmp_path):
    """Its own process and migrated SpatiaLite file; Redis, broker and result store on a closed port.
    It used to sweep, then try to queue delivery for ~20 s and die with a RuntimeError about the result store."""
    redis_down = {"REDIS_URL": CLOSED_PORT, "CELERY_BROKER_URL": CLOSED_PORT, "CELERY_RESULT_BACKEND": CLOSED_PORT}
    env = {**os.environ, "DEBUG": "1", "VAR_DIR": str(tmp_path), "DATABASE_URL": f"spatialite:///{tmp_path / 'x.db'}"}
    env |= redis_down

    def manage(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "manage.py", *args], cwd=settings.BASE_DIR, env=env,
                              capture_output=True, text=True, timeout=120)  # fmt: skip

    assert manage("migrate", "--no-input", "--skip-checks", "-v0").returncode == 0
    made = manage("shell", "-c", SETUP)
    assert made.returncode == 0, made.stderr
    started = time.monotonic()
    done = manage("sla_sweep", "--no-lock", "--skip-checks")
    took = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert took < 10, f"{took:.1f} s: something waited for Redis"
    assert "Traceback" not in done.stderr and "RuntimeError" not in done.stderr
    assert "2 red" in done.stdout and "2 escalated, 4 notification(s) written" in done.stdout
    assert WAITING.format(4) in done.stdout.splitlines()
    state = manage("shell", "-c", STATE)
    assert json.loads(state.stdout.splitlines()[-1]) == {"levels": [SlaLevel.RED] * 2, "escalations": 2, "waiting": 4}
