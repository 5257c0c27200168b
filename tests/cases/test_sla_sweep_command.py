"""manage.py sla_sweep: one pass, what it did, and the lock it shares with the periodic task."""

import datetime
import threading
import time
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import redis
import time_machine
from django.conf import settings
from django.core.management import CommandError, call_command

from cases import services, sweep
from cases.models import Escalation
from governance.models import Role
from tests.factories import person

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = datetime.datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)


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
    ]
    assert sla_sweep("--no-lock").splitlines() == [
        "Scanned 0 case(s): 0 turned yellow, 0 red, 0 back to green; 0 escalated, 0 notification(s) written, "
        "0 undelivered re-queued."
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
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    with pytest.raises(CommandError, match="--no-lock sweeps without it"):
        sla_sweep()
    assert not Escalation.objects.exists()
    assert "2 escalated" in sla_sweep("--no-lock")


def test_a_batch_size_below_one_is_refused(db):
    with pytest.raises(CommandError, match="--batch-size must be at least 1"):
        sla_sweep("--no-lock", "--batch-size", "0")
