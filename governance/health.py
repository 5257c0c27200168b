"""/healthz: is the database, Redis and at least one Celery worker alive?

Answers 200 when all are, 503 otherwise. Anyone may ask (load balancers and
monitors have no login); only the states are public, error texts and worker
names are shown to system admins.
"""

import time

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from governance.celery import app as celery_app


def _timed(probe):
    started = time.perf_counter()
    try:
        detail = probe()
        ok = True
    except Exception as exc:  # any failure of a dependency is reported, not raised
        detail, ok = f"{type(exc).__name__}: {exc}", False
    return {"ok": ok, "ms": round((time.perf_counter() - started) * 1000, 1), "detail": detail}


def _database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return connection.vendor


def _redis():
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    finally:
        client.close()
    return "pong"


def _celery():
    # An explicit connection so the check follows the configured broker URL.
    # limit=1: return at the first reply instead of waiting out the timeout
    # for workers that may exist; one live worker is what health needs.
    with celery_app.connection_for_write(settings.CELERY_BROKER_URL) as connection:
        replies = celery_app.control.ping(timeout=settings.HEALTHZ_CELERY_TIMEOUT, connection=connection, limit=1)
    workers = sorted(name for reply in replies for name in reply)
    if not workers:
        raise RuntimeError("no Celery worker answered")
    return workers


def health_report() -> dict:
    checks = {"database": _timed(_database), "redis": _timed(_redis)}
    if checks["redis"]["ok"]:
        checks["celery"] = _timed(_celery)
    else:
        checks["celery"] = {"ok": False, "ms": 0.0, "detail": "skipped: the broker is down"}
    if checks["celery"]["ok"]:
        checks["celery"]["workers"] = len(checks["celery"]["detail"])
    return {"status": "ok" if all(c["ok"] for c in checks.values()) else "error", "checks": checks}


@never_cache
@require_GET
def healthz(request):
    report = health_report()
    if not (request.user.is_authenticated and request.user.is_superuser):
        for check in report["checks"].values():
            check.pop("detail", None)
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)
