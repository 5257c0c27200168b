"""SpatiaLite whose writers queue fairly for the one write lock (docs/embedded-database.md).

SQLite lets one connection write at a time. A writer that finds the lock taken
sleeps and retries (the busy timeout), sleeping up to 100 ms between tries,
while a writer arriving just as the lock is released takes it at once. Under a
steady load the early waiters lose over and over: with 32 clients filing
reports, a few waited out the whole 30 s timeout and failed with "database is
locked" although the database was never stuck.

So before BEGIN IMMEDIATE every transaction takes an exclusive flock on a file
beside the database, polled every few milliseconds, and lets it go at commit or
rollback. Waiters notice a release within milliseconds, so the lock passes
among them almost in turn, and the busy timeout bounds the wait as before.
A writer outside a transaction (a single autocommit statement) does not queue;
it holds SQLite's lock only for that statement, and the busy timeout covers it.
"""

import fcntl
import time

from django.contrib.gis.db.backends.spatialite import base
from django.db import OperationalError

# Between polls of a taken lock: short enough that a release is noticed at once,
# long enough that thirty waiting threads cost little CPU.
POLL_SECONDS = (0.0005, 0.001, 0.002, 0.004)


class DatabaseWrapper(base.DatabaseWrapper):
    _writer_queue = None  # the open lock file while this connection holds its place

    def _start_transaction_under_autocommit(self):
        self._queue_for_writing()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._leave_queue()
            raise

    def _commit(self):
        try:
            return super()._commit()
        finally:
            self._leave_queue()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._leave_queue()

    def _close(self):
        try:
            return super()._close()
        finally:
            self._leave_queue()

    def _queue_for_writing(self) -> None:
        if self.is_in_memory_db() or self._writer_queue is not None:
            return
        queue = open(f"{self.settings_dict['NAME']}.writers", "a+b")  # noqa: SIM115 - closed in _leave_queue
        deadline = time.monotonic() + float(self.settings_dict["OPTIONS"].get("timeout", 5))
        tries = 0
        while True:
            try:
                fcntl.flock(queue.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    queue.close()
                    raise OperationalError("database is locked (no turn to write within the busy timeout)") from None
                time.sleep(POLL_SECONDS[min(tries, len(POLL_SECONDS) - 1)])
                tries += 1
        self._writer_queue = queue

    def _leave_queue(self) -> None:
        queue, self._writer_queue = self._writer_queue, None
        if queue is not None:
            queue.close()  # closing the file releases the flock
