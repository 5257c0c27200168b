"""Queuing delivery while Redis is down: the writer goes on at once and the rows wait in the outbox."""

import os
import subprocess
import sys

from django.conf import settings

CLOSED_PORT = "redis://127.0.0.1:1/0"
SEND = """
import time
from cases import notifications
started = time.monotonic()
sent = notifications._send_task([1, 2])
print(sent, round(time.monotonic() - started, 1))
"""


def test_a_broker_that_is_down_costs_one_quick_try_and_no_error():
    """A real process whose broker and result store are a closed port. Before, expecting a result made
    the sender subscribe to the result store: ~20 s of reconnects, then RuntimeError."""
    env = {**os.environ, "DEBUG": "1", "REDIS_URL": CLOSED_PORT, "CELERY_BROKER_URL": CLOSED_PORT}
    done = subprocess.run([sys.executable, "manage.py", "shell", "-c", SEND], cwd=settings.BASE_DIR, env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    sent, seconds = done.stdout.split()[-2:]
    assert sent == "False" and float(seconds) < 5
    assert "stay in the outbox" in done.stderr and "Traceback" not in done.stderr
