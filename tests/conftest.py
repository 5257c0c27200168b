"""Shared fixtures: personas, real-service markers and the database in use."""

import os

import pytest
from django.conf import settings
from django.db import connection
from django.utils import translation

from governance.models import Role
from tests.celery_worker import WorkerProcess
from tests.factories import UserFactory, person

# Password hashing is not under test here; the production hasher makes each
# persona cost ~0.3 s. MD5 keeps the fixtures fast.
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# WhiteNoise warns on every request when STATIC_ROOT does not exist yet
# (collectstatic has not run in a fresh clone); the tests serve from finders.
settings.STATIC_ROOT.mkdir(parents=True, exist_ok=True)

ON_POSTGIS = settings.DATABASES["default"]["ENGINE"].endswith("postgis")


def pytest_report_header(config):
    return [f"database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}", f"redis: {settings.REDIS_URL}"]


def pytest_collection_modifyitems(config, items):
    skip_postgis = pytest.mark.skip(reason="needs PostGIS: runs in the postgis pass of make test")
    for item in items:
        if "postgis" in item.keywords and not ON_POSTGIS:
            item.add_marker(skip_postgis)


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _language_does_not_leak():
    """A test-client request activates its language in this thread and leaves it active;
    the next test would speak English where the product speaks Chinese."""
    yield
    translation.deactivate()


@pytest.fixture
def english():
    """Messages in English, for tests that match a service's or command's wording.
    (Outside a request Django speaks LANGUAGE_CODE, Chinese.)"""
    with translation.override("en"):
        yield


@pytest.fixture
def artifacts_dir():
    path = settings.BASE_DIR / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path


os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def personas(db):
    """One login per role, plus Oscar the outsider (a login with no role).

    `sysadmin` is a superuser; `sysop` holds the same role without being one."""
    people = {
        "gridworker": person("gridworker", Role.GRID_WORKER),
        "gridleader": person("gridleader", Role.GRID_LEADER),
        "hotline": person("hotline", Role.HOTLINE_AGENT),
        "dispatcher": person("dispatcher", Role.DISPATCHER),
        "cg_admin": person("cg_admin", Role.DEPARTMENT_ADMIN, department_code="CG"),
        "cg_handler": person("cg_handler", Role.DEPARTMENT_HANDLER, department_code="CG"),
        "sz_admin": person("sz_admin", Role.DEPARTMENT_ADMIN, department_code="SZ"),
        "leader": person("leader", Role.LEADER),
        "sysadmin": person("sysadmin", Role.SYSTEM_ADMIN, is_superuser=True),
        # Sam, the system admin who is not a superuser: the one privilege tests try to escalate.
        "sysop": person("sysop", Role.SYSTEM_ADMIN),
        "outsider": UserFactory(username="oscar"),
    }
    return people


@pytest.fixture
def reference_data(transactional_db):
    """What the data migrations put in a fresh database, put back for a
    transactional test: an earlier transactional test flushed it away.
    (Serialized rollback cannot do this: after a flush, post_migrate re-creates
    the role groups under new ids, and reloading the snapshot collides with them.)"""
    import importlib

    from django.apps import apps

    from cases.sla import seed_default_policies
    from cases.taxonomy import seed_categories

    importlib.import_module("governance.migrations.0002_departments").create(apps, None)
    seed_default_policies()
    seed_categories()
    # The event log refuses DELETE; the flush after a transactional test deletes
    # everything on SQLite (PostgreSQL truncates, which row triggers do not see).
    # So the guard is lifted for the flush and put back for the next test.
    event_log = importlib.import_module("cases.migrations.0004_event_log_append_only")
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            for statement in event_log.SQLITE:
                cursor.execute(statement.replace("CREATE TRIGGER", "CREATE TRIGGER IF NOT EXISTS"))
    yield
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            for statement in event_log.SQLITE_REVERSE:
                cursor.execute(statement)


@pytest.fixture(autouse=True)
def _reference_data_in_transactional_tests(request):
    """Every transactional test starts from what a fresh database holds, whatever ran before it."""
    marker = request.node.get_closest_marker("django_db")
    if (marker and marker.kwargs.get("transaction")) or "live_server" in request.fixturenames:
        request.getfixturevalue("reference_data")


@pytest.fixture(scope="session")
def celery_worker_process():
    """A real worker (separate process) on the test Redis, for the session."""
    worker = WorkerProcess().start()
    yield worker
    worker.stop()


@pytest.fixture(scope="session", autouse=True)
def _no_stray_connections(django_db_setup, django_db_blocker):
    """Threads (the live server, the concurrent sweep) may leave a PostgreSQL session open on the
    test database; end them before pytest-django drops it, so the teardown is clean."""
    yield
    if not ON_POSTGIS:
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
