import pytest
from django.urls import reverse

pytestmark = [pytest.mark.redis, pytest.mark.django_db]


@pytest.mark.celery_worker
def test_healthz_all_well_with_a_live_worker(client, celery_worker_process):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ok"
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True,
        "redis": True,
        "celery": True,
    }
    assert body["checks"]["celery"]["workers"] >= 1
    # Outsiders learn states, not host names or error texts.
    assert "detail" not in body["checks"]["celery"]


def test_healthz_503_when_redis_is_down(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["redis"]["ok"] is False and checks["celery"]["ok"] is False
    assert checks["database"]["ok"] is True


def test_healthz_503_when_no_worker_listens(client, settings):
    # A broker database no worker consumes from: Redis is up, nobody answers.
    settings.CELERY_BROKER_URL = settings.CELERY_BROKER_URL.rsplit("/", 1)[0] + "/13"
    settings.HEALTHZ_CELERY_TIMEOUT = 0.3
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["checks"]["celery"]["ok"] is False


def test_system_admin_sees_details(client, personas, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    client.force_login(personas["sysadmin"])
    checks = client.get(reverse("healthz")).json()["checks"]
    assert "Error" in checks["redis"]["detail"]
