"""A real Celery worker process consuming from the test Redis."""

import os
import subprocess
import sys
import time
import uuid

from django.conf import settings

from governance.celery import app as celery_app


class WorkerProcess:
    def __init__(self):
        self.hostname = f"test-{uuid.uuid4().hex[:8]}@localhost"
        self.process = None

    def start(self, timeout=60):
        env = os.environ | {"REDIS_URL": settings.CELERY_BROKER_URL, "DEBUG": "1"}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "governance",
                "worker",
                "--pool=solo",
                "--loglevel=WARNING",
                f"--hostname={self.hostname}",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("Celery worker exited:\n" + self.process.stdout.read().decode())
            if celery_app.control.ping(destination=[self.hostname], timeout=0.5):
                return self
        self.stop()
        raise RuntimeError("Celery worker did not answer a ping in time")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
