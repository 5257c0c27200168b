"""Look up the cells of points streamed as JSON lines, stdin to stdout.

manage.py grid_lookup [--version ID] < points.jsonl > cells.jsonl

Each input line is {"lat": 29.95, "lng": 121.55} (WGS84); each output line is
{"cell": "330211001001015"} or {"cell": null} outside the grid. A line that
cannot be read answers {"cell": null, "error": "..."} in its place, so output
line N always belongs to input line N. Lines go through the in-memory batch
lookup a chunk at a time, flushed per chunk: memory stays flat over millions
of lines. A summary goes to stderr.
"""

import io
import json
import sys
import time
from itertools import islice

from django.core.management.base import BaseCommand, CommandError

from grids import selectors
from grids.models import GridVersion


class Command(BaseCommand):
    help = "Read {lat, lng} JSON lines on stdin, write one {cell} JSON line per input line to stdout."
    stealth_options = ("stdin",)

    def create_parser(self, prog_name, subcommand, **kwargs):
        # Django's base parser owns --version (the Django release); here it names a grid version.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("--version", type=int, help="Grid version id; default: the active version.")
        parser.add_argument("--chunk", type=int, default=10_000, help="Lines per batch lookup and flush.")

    def handle(self, *args, version, chunk, **options):
        if chunk < 1:
            raise CommandError("--chunk must be at least 1.")
        grid = self._version(version)
        index = selectors.cell_index(version=grid)  # built once: a draft is not cached between calls
        # Bytes decoded here, not by the locale: JSON is UTF-8, and a bad byte must
        # spoil its own line only, not end the stream.
        lines = options.get("stdin") or io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace")
        counts = {"lines": 0, "found": 0, "outside": 0, "malformed": 0}
        began = time.monotonic()
        while batch := list(islice(lines, chunk)):
            self.stdout.write("".join(self._answer(batch, index, counts)), ending="")
            self.stdout.flush()
        seconds = time.monotonic() - began
        self.stderr.write(
            f"{counts['lines']} lines: {counts['found']} in a cell, {counts['outside']} outside the grid, "
            f"{counts['malformed']} malformed; grid version {grid.pk}; {counts['lines'] / max(seconds, 1e-9):,.0f} "
            "lines/s."
        )

    @staticmethod
    def _version(version_id: int | None) -> GridVersion:
        if version_id is not None:
            found = GridVersion.objects.filter(pk=version_id).first()
            if found is None:
                raise CommandError(f"No grid version {version_id}.")
            return found
        active = selectors.active_version()
        if active is None:
            raise CommandError("No grid version is active; activate one or pass --version.")
        return active

    @staticmethod
    def _answer(batch: list[str], index: selectors.CellIndex, counts: dict) -> list[str]:
        parsed = [_point_or_error(line) for line in batch]
        points = [item for item in parsed if isinstance(item, tuple)]
        codes = iter(index.lookup(points))
        answers = []
        for item in parsed:
            if isinstance(item, tuple):
                code = next(codes)
                counts["found" if code else "outside"] += 1
                answers.append(json.dumps({"cell": code}) + "\n")
            else:
                counts["malformed"] += 1
                answers.append(json.dumps({"cell": None, "error": item}, ensure_ascii=False) + "\n")
        counts["lines"] += len(batch)
        return answers


def _point_or_error(line: str) -> tuple[float, float] | str:
    """(lng, lat) of one input line, or what is wrong with it."""
    text = line.strip()
    if not text:
        return "empty line"
    try:
        data = json.loads(text)
    except ValueError as error:
        return f"not JSON: {error}"
    if not isinstance(data, dict):
        return 'expected an object like {"lat": 29.95, "lng": 121.55}'
    missing = [key for key in ("lat", "lng") if key not in data]
    if missing:
        return f"missing {' and '.join(missing)}"
    try:
        return selectors.validate_point(lng=data["lng"], lat=data["lat"])
    except ValueError as error:
        return str(error)
