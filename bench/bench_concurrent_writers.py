"""Concurrent writers: reports per second and their latency as clients grow, on SpatiaLite and PostGIS.

    .venv/bin/python bench/bench_concurrent_writers.py [--database-url URL ...] [--clients 1,2,4,8,16,32]
        [--reports 25] [--workers 4] [--threads 4]

Each --database-url (default: a SpatiaLite file under var/bench/ and the PostGIS
server of POSTGIS_URL) gets a served instance (tests/served.py: a fresh database,
gunicorn with --workers × --threads, DEBUG off). For each number of clients,
that many HTTP clients, each with its own logged-in session, file --reports
reports each through POST /api/cases/create/, all released at once. Every
answer must be 201: a refusal or a 500 is counted and printed.

The floor does the same writes with nothing else: the same number of threads,
one database connection each, each report one transaction of two INSERTs (a
case-like row and its event row) through prepared statements, with the same
durability (SQLite: WAL, synchronous FULL, BEGIN IMMEDIATE; PostgreSQL: its
default synchronous commit). It is what the database itself can commit at that
concurrency; the ratio floor/ours is what the web stack, the session, the
services and the case's own queries cost on top.

Writes bench/results/concurrent_writers.json.
"""

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from _common import PROJECT_DIR, write_result

sys.path.insert(0, str(PROJECT_DIR))
import requests  # noqa: E402

from tests.served import ServedInstance  # noqa: E402

DEFAULT_URLS = [
    f"spatialite:///{PROJECT_DIR / 'var' / 'bench' / 'writers-unused.sqlite3'}",
    os.environ.get("POSTGIS_URL", "postgis://governance:governance@127.0.0.1:5432/governance"),
]
DESCRIPTION = "并发基准：小区门口路灯不亮，晚上行人看不清路面"


def parse_options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", action="append", default=[])
    parser.add_argument("--clients", default="1,2,4,8,16,32")
    parser.add_argument("--reports", type=int, default=25, help="reports per client per level")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    return parser.parse_args()


def released_together(count: int, job) -> tuple[list, float]:
    """Run job(i) in `count` threads released at once; their results and the wall time of all."""
    gate, results = threading.Barrier(count + 1), [None] * count

    def run(index):
        gate.wait()
        results[index] = job(index)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    gate.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return results, time.perf_counter() - began


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def measure_ours(served: ServedInstance, clients: int, reports: int) -> dict:
    sessions = [served.session(f"agent{i}") for i in range(clients)]

    def file_reports(index):
        timings, codes = [], []
        for n in range(reports):
            began = time.perf_counter()
            try:
                body = {"description": f"{DESCRIPTION} {index}-{n}"}
                answer = sessions[index].post(served.url + "/api/cases/create/", json=body, timeout=300)
                codes.append(answer.status_code)
            except requests.RequestException as error:  # counted with the refusals: the client got no answer
                codes.append(type(error).__name__)
            timings.append(time.perf_counter() - began)
        return timings, codes

    results, wall = released_together(clients, file_reports)
    timings = [t for result in results for t in result[0]]
    codes = [c for result in results for c in result[1]]
    return {
        "reports_per_s": round(len(codes) / wall, 1),
        "latency_ms": {f"p{int(q * 100)}": round(percentile(timings, q) * 1000, 1) for q in (0.5, 0.95, 0.99)},
        "not_201": len([c for c in codes if c != 201]),
        "not_201_kinds": sorted({str(c) for c in codes if c != 201}),
    }


# --- the floor ----------------------------------------------------------------------------------

FLOOR_TABLES = [
    "CREATE TABLE IF NOT EXISTS floor_case (id INTEGER PRIMARY KEY, number TEXT, channel TEXT, description TEXT,"
    " status TEXT, severity TEXT, created_at TEXT, updated_at TEXT)",
    "CREATE TABLE IF NOT EXISTS floor_event (id INTEGER PRIMARY KEY, case_id INTEGER, action TEXT, to_status TEXT,"
    " created_at TEXT)",
]
PG_TABLES = [t.replace("INTEGER PRIMARY KEY", "BIGSERIAL PRIMARY KEY") for t in FLOOR_TABLES]


def floor_sqlite(path: Path, clients: int, reports: int) -> float:
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode=WAL")
        for statement in FLOOR_TABLES:
            db.execute(statement)

    def write(index):
        db = sqlite3.connect(path, timeout=30, isolation_level=None)  # we say BEGIN ourselves
        db.execute("PRAGMA synchronous=FULL")
        now = time.strftime("%Y-%m-%dT%H:%M:%S")
        for n in range(reports):
            db.execute("BEGIN IMMEDIATE")
            cursor = db.execute(
                "INSERT INTO floor_case (number, channel, description, status, severity, created_at, updated_at)"
                " VALUES (?, 'hotline', ?, 'reported', 'normal', ?, ?)",
                (f"{index}-{n}", DESCRIPTION, now, now),
            )
            db.execute("INSERT INTO floor_event (case_id, action, to_status, created_at) VALUES (?, 'report',"
                       " 'reported', ?)", (cursor.lastrowid, now))  # fmt: skip
            db.execute("COMMIT")
        db.close()

    _, wall = released_together(clients, write)
    return round(clients * reports / wall, 1)


def floor_postgres(url: str, clients: int, reports: int) -> float:
    import psycopg

    dsn = url.replace("postgis://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as db:
        for statement in PG_TABLES:
            db.execute(statement)
    connections = [psycopg.connect(dsn) for _ in range(clients)]

    def write(index):
        db = connections[index]
        for n in range(reports):
            with db.transaction():
                case_id = db.execute(
                    "INSERT INTO floor_case (number, channel, description, status, severity, created_at, updated_at)"
                    " VALUES (%s, 'hotline', %s, 'reported', 'normal', now(), now()) RETURNING id",
                    (f"{index}-{n}", DESCRIPTION), prepare=True).fetchone()[0]  # fmt: skip
                db.execute("INSERT INTO floor_event (case_id, action, to_status, created_at) VALUES (%s, 'report',"
                           " 'reported', now())", (case_id,), prepare=True)  # fmt: skip

    _, wall = released_together(clients, write)
    for connection in connections:
        connection.close()
    return round(clients * reports / wall, 1)


def run(url: str, levels: list[int], options) -> dict:
    people = [(f"agent{i}", "hotline_agent", None) for i in range(max(levels))]
    workdir = Path(tempfile.mkdtemp(prefix="bench-writers-", dir=PROJECT_DIR / "var" / "bench"))
    rows = []
    with ServedInstance(url, people, workers=options.workers, threads=options.threads, workdir=workdir) as served:
        for clients in levels:
            ours = measure_ours(served, clients, options.reports)
            if url.startswith("spatialite://"):
                floor = floor_sqlite(workdir / "floor.sqlite3", clients, options.reports)
            else:
                floor = floor_postgres(served.database_url, clients, options.reports)
            row = {"clients": clients, **ours, "floor_reports_per_s": floor,
                   "ratio_floor_to_ours": round(floor / ours["reports_per_s"], 1)}  # fmt: skip
            print(f"  {clients:3d} clients: {ours['reports_per_s']:7.1f} reports/s, p95 "
                  f"{ours['latency_ms']['p95']:7.1f} ms, not 201: {ours['not_201']} {ours['not_201_kinds']}; "
                  f"floor {floor:8.1f}/s ({row['ratio_floor_to_ours']}×)", flush=True)  # fmt: skip
            rows.append(row)
    return {"database": url.split("://")[0], "gunicorn": f"{options.workers} workers × {options.threads} threads",
            "reports_per_client": options.reports, "levels": rows}  # fmt: skip


def main() -> None:
    options = parse_options()
    levels = [int(n) for n in options.clients.split(",")]
    (PROJECT_DIR / "var" / "bench").mkdir(parents=True, exist_ok=True)
    results = []
    for url in options.database_url or DEFAULT_URLS:
        print(f"--- {url.split('://')[0]} ---", flush=True)
        results.append(run(url, levels, options))
    path = write_result("concurrent_writers", {"results": results, "cpus": os.cpu_count()})
    best = {r["database"]: max(level["reports_per_s"] for level in r["levels"]) for r in results}
    print(f"peak reports/s: {best}; median ratio to floor: "
          f"{statistics.median(level['ratio_floor_to_ours'] for r in results for level in r['levels'])}×")  # fmt: skip
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
