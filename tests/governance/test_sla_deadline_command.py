"""manage.py sla_deadline: one line of ISO 8601 on stdout, warnings on stderr."""

import datetime
import os
import subprocess
import sys
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from governance.models import CalendarOverride

STANDARD = [(datetime.time(9), datetime.time(12)), (datetime.time(13, 30), datetime.time(17, 30))]

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def standard_settings(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    settings.OFFICE_HOURS = STANDARD
    settings.OFFICE_HOURS_BY_WEEKDAY = {day: STANDARD if day < 5 else [] for day in range(7)}


def run(*args: str) -> tuple[str, str]:
    stdout, stderr = StringIO(), StringIO()
    call_command("sla_deadline", *args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def deadline(start: str, amount: str, unit: str) -> str:
    out, err = run("--start", start, "--amount", amount, "--unit", unit)
    assert err == ""
    assert out.endswith("\n") and out.count("\n") == 1, "exactly one line"
    return out.strip()


def test_national_day_example():
    assert deadline("2026-09-30T16:00:00+08:00", "8", "working_hours") == "2026-10-08T17:00:00+08:00"


@pytest.mark.parametrize(
    ("start", "amount", "unit", "expected"),
    [
        ("2026-03-07T23:50:00+08:00", "20", "minutes", "2026-03-08T00:10:00+08:00"),
        ("2026-10-01T08:00:00+08:00", "48", "hours", "2026-10-03T08:00:00+08:00"),
        ("2026-03-02T10:00:00+08:00", "2", "working_days", "2026-03-04T10:00:00+08:00"),
        ("2026-03-07T10:00:00+08:00", "2", "working_days", "2026-03-10T17:30:00+08:00"),
        ("2026-02-13T16:00:00+08:00", "2", "working_days", "2026-02-24T16:00:00+08:00"),
        ("2026-03-02T09:00:00+08:00", "3", "working_hours", "2026-03-02T12:00:00+08:00"),
    ],
)
def test_each_unit(start, amount, unit, expected):
    assert deadline(start, amount, unit) == expected


def test_decimal_amounts():
    assert deadline("2026-03-02T09:00:00+08:00", "0.5", "working_days") == "2026-03-02T14:00:00+08:00"
    assert deadline("2026-03-02T09:00:00+08:00", "1.25", "hours") == "2026-03-02T10:15:00+08:00"


def test_zero_amount_prints_the_start():
    assert deadline("2026-03-02T10:00:00+08:00", "0", "working_days") == "2026-03-02T10:00:00+08:00"


def test_microseconds_only_when_not_zero():
    assert deadline("2026-03-02T10:00:00.250000+08:00", "1", "minutes") == "2026-03-02T10:01:00.250000+08:00"
    assert deadline("2026-03-02T10:00:00+08:00", "0.33333", "minutes") == "2026-03-02T10:00:19.999800+08:00"
    # Seconds are always shown, even when zero.
    assert deadline("2026-03-02T10:00:00+08:00", "1", "hours") == "2026-03-02T11:00:00+08:00"


def test_naive_start_is_read_in_the_project_time_zone():
    assert deadline("2026-09-30T16:00", "8", "working_hours") == "2026-10-08T17:00:00+08:00"


def test_other_offsets_are_converted_to_local_time():
    # 08:00 UTC is 16:00 in Shanghai.
    assert deadline("2026-09-30T08:00:00Z", "8", "working_hours") == "2026-10-08T17:00:00+08:00"
    assert deadline("2026-09-30T08:00:00+00:00", "8", "working_hours") == "2026-10-08T17:00:00+08:00"


def test_overrides_apply():
    CalendarOverride.objects.create(date=datetime.date(2026, 10, 8), is_working=False, note="延长假期")
    assert deadline("2026-09-30T16:00:00+08:00", "8", "working_hours") == "2026-10-09T17:00:00+08:00"


@pytest.mark.parametrize("start", ["tomorrow", "2026-13-01T10:00", "30/09/2026 16:00", ""])
def test_unparseable_start(start):
    with pytest.raises(CommandError, match="--start .* is not an ISO 8601 date-time"):
        run("--start", start, "--amount", "1", "--unit", "working_days")


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("-1", "is negative"),
        ("-0.5", "is negative"),
        ("eight", "is not a number"),
        ("", "is not a number"),
        ("NaN", "finite"),
        ("Infinity", "finite"),
    ],
)
def test_bad_amount(amount, message):
    with pytest.raises(CommandError, match=message):
        run("--start", "2026-03-02T10:00:00+08:00", "--amount", amount, "--unit", "working_days")


def test_unknown_unit():
    with pytest.raises(CommandError, match="invalid choice"):
        run("--start", "2026-03-02T10:00:00+08:00", "--amount", "1", "--unit", "weeks")


def test_year_without_data_warns_on_stderr():
    out, err = run("--start", "2027-03-05T16:00:00+08:00", "--amount", "1", "--unit", "working_days")
    assert out == "2027-03-08T16:00:00+08:00\n"
    assert "Warning" in err and "2027" in err


def test_deadline_in_a_known_year_does_not_warn():
    # Ends at 17:30 on 31 December 2026 without looking at 2027.
    out, err = run("--start", "2026-12-31T16:00:00+08:00", "--amount", "1.5", "--unit", "working_hours")
    assert (out, err) == ("2026-12-31T17:30:00+08:00\n", "")


def test_natural_units_never_warn():
    out, err = run("--start", "2027-03-05T16:00:00+08:00", "--amount", "3", "--unit", "hours")
    assert (out, err) == ("2027-03-05T19:00:00+08:00\n", "")


def test_real_process(tmp_path):
    """The command as an operator runs it: its own process, its own (migrated) database."""
    env = {
        **os.environ,
        "DEBUG": "1",
        "VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"spatialite:///{tmp_path / 'x.sqlite3'}",
    }

    def manage(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=settings.BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    migrate = manage("migrate", "--no-input", "--skip-checks", "-v0")
    assert migrate.returncode == 0, migrate.stderr

    done = manage("sla_deadline", "--start", "2026-09-30T16:00:00+08:00", "--amount", "8", "--unit", "working_hours")
    assert done.returncode == 0, done.stderr
    # System checks may warn on stderr (e.g. governance.W001); stdout is the deadline alone.
    assert done.stdout == "2026-10-08T17:00:00+08:00\n"

    failed = manage("sla_deadline", "--start", "not-a-date", "--amount", "8", "--unit", "working_hours")
    assert failed.returncode == 1
    assert failed.stdout == ""
    assert "CommandError: --start 'not-a-date' is not an ISO 8601 date-time" in failed.stderr
    assert "Traceback" not in failed.stderr
