import pytest
from django.db import transaction

from governance import tasks
from governance.celery import app

pytestmark = [pytest.mark.redis, pytest.mark.celery_worker]


def test_round_trip_through_redis_and_a_real_worker(celery_worker_process):
    result = tasks.ping.delay()
    assert result.get(timeout=20) == "pong"


@pytest.mark.django_db(transaction=True)
def test_task_queued_in_a_transaction_waits_for_commit(celery_worker_process):
    sent = []
    with transaction.atomic():
        tasks.ping.delay_on_commit()
        sent.append(len(transaction.get_connection().run_on_commit))
    assert sent == [1]  # queued as an on-commit hook, not sent inside the transaction


@pytest.mark.django_db(transaction=True)
def test_rolled_back_transaction_sends_nothing():
    with pytest.raises(RuntimeError), transaction.atomic():
        tasks.ping.delay_on_commit()
        raise RuntimeError("roll back")
    assert transaction.get_connection().run_on_commit == []


def test_reliability_settings():
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_soft_time_limit < conf.task_time_limit
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit
    assert "calendar-coverage-daily" in conf.beat_schedule


@pytest.mark.django_db
def test_calendar_coverage_task_names_missing_years(caplog):
    missing = tasks.check_calendar_coverage.apply().get()
    assert all(isinstance(y, int) for y in missing)
    for year in missing:
        assert str(year) in caplog.text
