"""Settings fail loudly on bad values; production settings pass check --deploy."""

import os
import subprocess
import sys
from datetime import time

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from governance import checks
from governance.env import env_bool, env_int, env_list, parse_time_ranges

PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "k" * 20 + "-production-like-secret-" + "x7Q#p2!zR9" * 3,
    "ALLOWED_HOSTS": "grid.example.gov.cn",
}


def run_manage(*args, **env):
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_typed_helpers_fail_loudly(monkeypatch):
    monkeypatch.setenv("X_BOOL", "maybe")
    with pytest.raises(ImproperlyConfigured, match="X_BOOL"):
        env_bool("X_BOOL", False)
    monkeypatch.setenv("X_INT", "ten")
    with pytest.raises(ImproperlyConfigured, match="X_INT"):
        env_int("X_INT", 1)
    monkeypatch.setenv("X_INT", "-3")
    with pytest.raises(ImproperlyConfigured, match="at least 0"):
        env_int("X_INT", 1, minimum=0)
    monkeypatch.setenv("X_LIST", " a, b ,,c ")
    assert env_list("X_LIST", []) == ["a", "b", "c"]


@pytest.mark.parametrize("value", ["9-12", "12:00-09:00", "09:00-12:00,11:00-13:00", "25:00-26:00"])
def test_bad_office_hours_are_refused(value):
    with pytest.raises(ImproperlyConfigured):
        parse_time_ranges("OFFICE_HOURS", value)


def test_office_hours_parse():
    assert parse_time_ranges("X", "09:00-12:00, 13:30-17:30") == [(time(9), time(12)), (time(13, 30), time(17, 30))]


def test_secret_key_required_without_debug():
    result = run_manage("check", DEBUG="0", ALLOWED_HOSTS="x")
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr


def test_unknown_database_scheme_is_refused():
    result = run_manage("check", DEBUG="1", DATABASE_URL="mysql://root@localhost/x")
    assert result.returncode != 0
    assert "DATABASE_URL must start with spatialite:// or postgis://" in result.stderr


def test_check_deploy_is_clean_in_production_like_environment():
    # governance.W001 is the true statement that next year's holidays are not
    # published yet; everything else must be clean.
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION, SILENCED_SYSTEM_CHECKS="gis.W001,governance.W001"
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_missing_spatialite_fails_clearly(settings):
    settings.SPATIALITE_LIBRARY_PATH = "/nonexistent/mod_spatialite"
    errors = checks.check_spatialite()
    if settings.DATABASES["default"]["ENGINE"].endswith("spatialite"):
        assert [e.id for e in errors] == ["governance.E001"]
        assert "libsqlite3-mod-spatialite" in errors[0].hint
    else:
        assert errors == []


def test_gdal_reprojects():
    assert checks.check_gdal() == []


def test_wrong_storage_srid_is_reported(settings):
    settings.STORAGE_SRID = 3857
    errors = checks.check_storage_srid()
    assert errors and all(e.id == "governance.E003" for e in errors)


@pytest.mark.django_db
def test_database_srid_matches():
    assert checks.check_database_srid(databases=["default"]) == []


@pytest.mark.django_db
def test_database_built_with_another_srid_is_reported(settings):
    settings.STORAGE_SRID = 3857
    errors = checks.check_database_srid(databases=["default"])
    assert any(e.id == "governance.E004" and "governance_region" in e.msg for e in errors)


def test_calendar_coverage_warning_names_the_year(time_machine):
    time_machine.move_to("2026-12-01")
    warnings = checks.check_calendar_coverage()
    assert [w.id for w in warnings] == ["governance.W001"]
    assert "2027" in warnings[0].msg
    time_machine.move_to("2025-06-01")
    assert checks.check_calendar_coverage() == []
