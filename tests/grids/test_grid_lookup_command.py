"""manage.py grid_lookup: JSON lines in, one JSON line out per line, in order, streamed."""

import json
import os
import subprocess
import sys
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from grids.models import GridVersion
from grids.selectors import cell_lookup
from tests.factories import community
from tests.grids.factories import ORIGIN, STEP, cell_centre, square_grid_version

pytestmark = pytest.mark.django_db

CELL = "330211001001{:03d}"


def run(stdin, *args: str) -> tuple[list[dict], str]:
    stdout, stderr = StringIO(), StringIO()
    call_command("grid_lookup", *args, stdin=stdin, stdout=stdout, stderr=stderr)
    return [json.loads(line) for line in stdout.getvalue().splitlines()], stderr.getvalue()


def point_line(sequence: int, n: int = 3) -> str:
    lng, lat = cell_centre(sequence, n=n)
    return json.dumps({"lat": lat, "lng": lng}) + "\n"


@pytest.mark.usefixtures("english")  # the messages are translated; matched here in English
def test_round_trip_keeps_lines_in_place_and_survives_malformed_lines():
    square_grid_version(n=3)
    x0, north = ORIGIN
    lines = [
        point_line(1),
        "not json at all\n",
        point_line(9),
        '{"lat": 31.0, "lng": 121.0}\n',  # outside the grid
        "\n",
        '{"lat": 95, "lng": 121.5}\n',
        '{"lng": 121.5}\n',
        "[30, 121.5]\n",
        '{"lat": "30", "lng": 121.5}\n',
        '{"lat": NaN, "lng": 121.5}\n',
        json.dumps({"lat": north - STEP, "lng": x0 + STEP}) + "\n",  # corner of 1, 2, 4, 5
        '{"lat": 29.9985, "lng": 121.5015, "note": "extra keys are fine"}',  # last line, no newline
    ]
    out, err = run(StringIO("".join(lines)))
    assert len(out) == len(lines)
    assert out[0] == {"cell": CELL.format(1)}
    assert out[1]["cell"] is None and out[1]["error"].startswith("not JSON")
    assert out[2] == {"cell": CELL.format(9)}
    assert out[3] == {"cell": None}
    assert out[4] == {"cell": None, "error": "empty line"}
    assert "lat 95.0 is outside" in out[5]["error"]
    assert out[6] == {"cell": None, "error": "missing lat"}
    assert out[7]["error"].startswith("expected an object")
    assert "lat must be a number" in out[8]["error"]
    assert "finite" in out[9]["error"]
    assert out[10] == {"cell": CELL.format(1)}
    assert out[11] == {"cell": CELL.format(5)}
    assert err.startswith("12 lines: 4 in a cell, 1 outside the grid, 7 malformed; grid version ")


def test_answers_match_the_single_lookup_across_chunks():
    square_grid_version(n=4)
    x0, north = ORIGIN
    points = [(x0 + i * STEP / 2, north - j * STEP / 2) for i in range(-1, 10) for j in range(-1, 10)]
    stdin = StringIO("".join(json.dumps({"lat": lat, "lng": lng}) + "\n" for lng, lat in points))
    out, _ = run(stdin, "--chunk", "7")
    expected = [getattr(cell_lookup(lng=lng, lat=lat), "code", None) for lng, lat in points]
    assert [line["cell"] for line in out] == expected
    assert any(code is None for code in expected) and len(set(expected)) == 17


class CountingStdout(StringIO):
    def __init__(self, source):
        super().__init__()
        self.source, self.lines_read_at_flush = source, []

    def flush(self):
        self.lines_read_at_flush.append(self.source.read_so_far)


class Lines:
    """stdin that counts how far the command has read: streaming means it never reads far ahead."""

    def __init__(self, lines):
        self._lines, self.read_so_far = iter(lines), 0

    def __iter__(self):
        return self

    def __next__(self):
        line = next(self._lines)
        self.read_so_far += 1
        return line


def test_streams_chunk_by_chunk():
    square_grid_version(n=3)
    source = Lines(point_line(1 + i % 9) for i in range(25))
    stdout = CountingStdout(source)
    call_command("grid_lookup", "--chunk", "10", stdin=source, stdout=stdout, stderr=StringIO())
    assert stdout.lines_read_at_flush == [10, 20, 25]
    assert len(stdout.getvalue().splitlines()) == 25


def test_version_option_reads_a_draft():
    square_grid_version(n=3)
    draft = square_grid_version(n=2, status=GridVersion.Status.DRAFT, area=community("330211001002", "望湖社区"))
    out, err = run(StringIO(point_line(1, n=2)), "--version", str(draft.pk))
    assert out == [{"cell": "330211001002001"}]
    assert f"grid version {draft.pk}" in err
    out, _ = run(StringIO(point_line(1, n=2)))
    assert out == [{"cell": CELL.format(1)}]


def test_unknown_or_missing_version_is_a_clear_error():
    with pytest.raises(CommandError, match="No grid version is active"):
        run(StringIO(point_line(1)))
    with pytest.raises(CommandError, match="No grid version 424242"):
        run(StringIO(point_line(1)), "--version", "424242")


def test_empty_input_writes_nothing():
    square_grid_version(n=1)
    out, err = run(StringIO(""))
    assert out == [] and err.startswith("0 lines")


def test_real_process_reads_bytes_on_stdin(tmp_path):
    """As an operator pipes a file through it: its own process and (migrated) database; a line of
    bytes that are not UTF-8 spoils that line only."""
    env = {**os.environ, "DEBUG": "1", "VAR_DIR": str(tmp_path), "DATABASE_URL": f"spatialite:///{tmp_path / 'x.db'}"}

    def manage(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "manage.py", *args], cwd=settings.BASE_DIR, env=env, input=stdin,
                              capture_output=True, timeout=120)  # fmt: skip

    assert manage("migrate", "--no-input", "--skip-checks", "-v0").returncode == 0
    made = manage("shell", "-c", "from tests.grids.factories import square_grid_version as g; print(g(n=3).pk)")
    assert made.returncode == 0, made.stderr
    version = made.stdout.decode().split()[-1]  # after any start-up notes of the shell
    stdin = point_line(2).encode() + b'{"lat": \xff\xfe}\n' + point_line(3).encode()
    done = manage("grid_lookup", "--skip-checks", "--version", version, stdin=stdin)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert lines[0] == {"cell": CELL.format(2)} and lines[2] == {"cell": CELL.format(3)}
    assert lines[1]["cell"] is None and lines[1]["error"].startswith("not JSON")
    assert "3 lines: 2 in a cell, 0 outside the grid, 1 malformed" in done.stderr.decode()
