"""The embedded database's writer queue (governance.db.spatialite): writers wait their turn, never forever."""

import threading
import time

import pytest
from django.db import OperationalError

from governance.db.spatialite.base import DatabaseWrapper

# What transaction.atomic() does on entry, on a connection outside django.db.connections.
BEGIN = {"force_begin_transaction_with_broken_autocommit": True}


def wrapper(path, timeout=5.0) -> DatabaseWrapper:
    """A connection to a SpatiaLite file of its own, configured as settings configure the product's."""
    return DatabaseWrapper(
        {
            "NAME": str(path), "USER": "", "PASSWORD": "", "HOST": "", "PORT": "", "TIME_ZONE": None,
            "CONN_MAX_AGE": 0, "CONN_HEALTH_CHECKS": False, "AUTOCOMMIT": True, "ATOMIC_REQUESTS": False,
            "OPTIONS": {"timeout": timeout, "transaction_mode": "IMMEDIATE",
                        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL"},
            "TEST": {},
        },
        alias=f"writers-{time.monotonic_ns()}",
    )  # fmt: skip


@pytest.fixture
def database(tmp_path, django_db_blocker):
    """A file of its own, not the test database: pytest-django's blocker is lifted for it alone."""
    with django_db_blocker.unblock():
        yield _made(tmp_path)


def _made(tmp_path):
    path = tmp_path / "writers.sqlite3"
    setup = wrapper(path)
    with setup.cursor() as cursor:
        cursor.execute("CREATE TABLE report (id INTEGER PRIMARY KEY, text TEXT)")
    setup.close()
    return path


def test_a_second_writer_waits_for_the_first_and_then_writes(database):
    first, order = wrapper(database), []
    first.set_autocommit(False, **BEGIN)
    first.cursor().execute("INSERT INTO report (text) VALUES ('first')")
    assert first._writer_queue is not None, "the open transaction holds the queue"

    def write_second():
        second = wrapper(database)  # a connection belongs to the thread that made it
        second.set_autocommit(False, **BEGIN)
        second.cursor().execute("INSERT INTO report (text) VALUES ('second')")
        second.commit()
        order.append("second")
        second.set_autocommit(True)
        second.close()

    thread = threading.Thread(target=write_second)
    thread.start()
    time.sleep(0.3)
    assert order == [], "the second writer is waiting"
    first.commit()
    order.append("first")
    thread.join(10)
    assert order == ["first", "second"]
    with first.cursor() as cursor:
        cursor.execute("SELECT text FROM report ORDER BY id")
        assert [row[0] for row in cursor.fetchall()] == ["first", "second"]
    first.close()


def test_a_writer_that_never_gets_a_turn_fails_after_the_timeout_and_a_rollback_frees_the_turn(database):
    holder, waiter = wrapper(database), wrapper(database, timeout=0.5)
    holder.set_autocommit(False, **BEGIN)
    holder.cursor().execute("INSERT INTO report (text) VALUES ('held')")
    began = time.monotonic()
    with pytest.raises(OperationalError, match="database is locked"):
        waiter.set_autocommit(False, **BEGIN)
        waiter.cursor().execute("INSERT INTO report (text) VALUES ('late')")
    assert 0.4 < time.monotonic() - began < 5
    waiter.close()
    holder.rollback()
    assert holder._writer_queue is None, "a rollback leaves the queue"
    holder.set_autocommit(True)
    holder.close()
    again = wrapper(database, timeout=0.5)
    again.set_autocommit(False, **BEGIN)
    again.cursor().execute("INSERT INTO report (text) VALUES ('next')")
    again.commit()
    again.close()
