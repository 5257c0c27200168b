"""Property-based test of the whole API against its own OpenAPI schema (schemathesis).

Every operation the schema names gets generated requests, valid and invalid,
from a dispatcher's session (who may see every case and take most steps) over
the WSGI application in this process, so the test database is the one the
request reads. Each response must not be a 5xx and must match the schema:
its status is declared, its body has the declared shape, its content type is
the declared one. Bounded by EXAMPLES per operation so it fits CI; raise
SCHEMA_FUZZ_EXAMPLES to search longer.
"""

import os

import pytest
import schemathesis
from django.conf import settings
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis import checks

from tests.grids.factories import cell_centre, square_grid_version

# Checks of strictness and semantics, not of truth: schemathesis would have every schema-valid
# request succeed (a category code that does not exist is schema-valid, and refused), every
# unknown query parameter refused (filters ignore them, as DRF does), and a request without
# the generated session cookie refused (this test sends its own session on every request).
NOT_SCHEMA_TRUTH = [checks.positive_data_acceptance, checks.negative_data_rejection, checks.ignored_auth]
EXAMPLES = int(os.environ.get("SCHEMA_FUZZ_EXAMPLES", "25"))


# The schema as /api/schema/ serves it, generated at collection (it needs no database).
schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
schema.app = get_wsgi_application()


@pytest.fixture(autouse=True)
def _one_connection_per_test():
    """The WSGI app runs in this thread, inside the test's transaction. Django's own test client
    keeps the request signals from closing that connection; schemathesis calls the app directly."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def dispatcher_login(db, personas):
    client = Client()
    client.force_login(personas["dispatcher"])
    token = _get_new_csrf_string()
    cookies = {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value, "csrftoken": token}
    return {"cookies": cookies, "headers": {"X-CSRFToken": token}}


@pytest.fixture
def some_data(personas):
    """An active grid, a case to act on and one with a history, so generated ids sometimes hit something."""
    from cases import services
    from cases.models import Category

    version = square_grid_version(n=3)
    lng, lat = cell_centre(5)
    services.case_report(channel="hotline", description="井盖缺失", lng=lng, lat=lat)
    worked = services.case_report(channel="hotline", description="暴露垃圾", lng=lng, lat=lat, citizen_name="王")
    category = Category.objects.filter(is_active=True).first()
    services.case_register(case=worked, actor=personas["dispatcher"], category=category)
    services.case_dispatch(case=worked, actor=personas["dispatcher"])
    return version


@schema.parametrize()
@hypothesis_settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None
)
def test_the_api_keeps_its_schema_and_never_answers_5xx(case, dispatcher_login, some_data):
    case.call_and_validate(**dispatcher_login, excluded_checks=NOT_SCHEMA_TRUTH)
