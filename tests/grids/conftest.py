"""Fixtures of the grids tests: Celery run in-process for the admin upload, or a real worker on the test database."""

import subprocess
import uuid
from unittest import mock

import pytest
from django.db import connection

import grids.tasks  # noqa: F401  (registers the tasks queued by name, so eager mode can run them)
from governance.celery import app
from tests.celery_worker import WorkerProcess


@pytest.fixture
def eager_celery():
    """Tasks queued on commit run at once, in this process (the real worker has its own test below)."""
    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


class ImportWorker(WorkerProcess):
    """A worker of its own queue: a session-wide worker of other tests (on another database) never takes its tasks."""

    def __init__(self, *, database_url: str, media_root: str):
        super().__init__()
        self.queue = f"grids-test-{uuid.uuid4().hex[:8]}"
        self.env = {"DATABASE_URL": database_url, "MEDIA_ROOT": media_root}

    def start(self, timeout=60):
        original = subprocess.Popen

        def popen(args, **kwargs):
            kwargs["env"] = kwargs["env"] | self.env
            return original([*args, f"--queues={self.queue}"], **kwargs)

        with mock.patch("subprocess.Popen", popen):
            return super().start(timeout)


@pytest.fixture
def worker_on_test_database(transactional_db, settings):
    """A real worker whose database is this test's: a file (SpatiaLite) or the PostGIS test database."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        if connection.is_in_memory_db():
            pytest.skip("the SpatiaLite test database is in memory: set TEST_SPATIALITE_NAME to a file")
        url = f"spatialite:///{db['NAME']}"
    else:
        url = f"postgis://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    worker = ImportWorker(database_url=url, media_root=str(settings.MEDIA_ROOT))
    routes = app.conf.task_routes
    _route({"grids.tasks.*": {"queue": worker.queue}})
    try:
        yield worker.start()
    finally:
        worker.stop()
        _route(routes)


def _route(routes) -> None:
    # The producer's router is built once from task_routes: rebuilt so the change takes effect.
    app.conf.task_routes = routes
    app.amqp.flush_routes()
    app.amqp.router = app.amqp.Router()
