"""Shared helpers for the benchmark scripts in bench/.

Each script is run directly (`.venv/bin/python bench/bench_<name>.py`), calls
setup_django() before importing project code, and ends with
write_result("<name>", payload), which adds where and when it ran so that
results from different machines and days can be told apart.
"""

import datetime
import json
import os
import platform
import re
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"

# Keys write_result() owns; a payload must not silently replace them.
_RESERVED = ("name", "timestamp", "python", "host")


def setup_django(settings_module: str = "governance.settings") -> None:
    """Make the project importable and configure Django, as manage.py would."""
    # Run as `python bench/x.py`, sys.path[0] is bench/, not the project.
    if str(PROJECT_DIR) not in sys.path:
        sys.path.insert(0, str(PROJECT_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    import django

    django.setup()


def host_info() -> dict:
    return {
        "hostname": socket.gethostname(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "cpu_count": os.cpu_count(),
    }


def best_time(func: Callable[[], object], *, repeat: int = 5) -> float:
    """Fastest of `repeat` runs of func(), in seconds.

    The minimum, not the mean: slower runs measure other processes and the
    garbage collector, not the code.
    """
    best = float("inf")
    for _ in range(repeat):
        began = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - began)
    return best


def rate(ops: int, seconds: float) -> dict:
    """The usual figures for `ops` operations that took `seconds`."""
    return {"ops_per_s": round(ops / seconds, 1), "ns_per_op": round(seconds / ops * 1e9, 1)}


def write_result(name: str, payload: dict) -> Path:
    """Write bench/results/<name>.json: payload plus name, timestamp, python and host."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise ValueError(f"Benchmark name {name!r} must be usable as a file name.")
    clashes = sorted(set(_RESERVED) & set(payload))
    if clashes:
        raise ValueError(f"Payload keys {clashes} are reserved by write_result().")
    record = {
        "name": name,
        "timestamp": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "executable": sys.executable,
        },
        "host": host_info(),
        **payload,
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    # Write then rename, so a reader never sees half a file.
    partial = path.with_suffix(".json.tmp")
    partial.write_text(json.dumps(record, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    partial.replace(path)
    return path


def as_postgres(*args: str) -> None:
    """Run a PostgreSQL client command as the postgres superuser (benches need createdb and extensions)."""
    import subprocess

    subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True, capture_output=True)


def reset_database(url: str) -> None:
    """Start a throw-away bench database empty: a SpatiaLite file (and its journals) removed, or a
    PostGIS database dropped and created with the extension."""
    if url.startswith("spatialite:///"):
        path = Path(url.removeprefix("spatialite://"))
        path.parent.mkdir(parents=True, exist_ok=True)
        for stale in path.parent.glob(path.name + "*"):
            stale.unlink()
        return
    name = url.rsplit("/", 1)[1]
    as_postgres("dropdb", "--if-exists", name)
    as_postgres("createdb", "-O", "governance", name)
    as_postgres("psql", "-q", "-d", name, "-c", "CREATE EXTENSION postgis")
