"""The measures (综合评价) of one month over 1,000,000 cases: our service against a raw SQL GROUP BY floor.

    .venv/bin/python bench/bench_kpi.py [--database-url URL] [--cases 1000000] [--runs 7] [--keep]

The database is a throw-away PostGIS one, dropped and created here (with
runuser -u postgres, as bench_sla_sweep.py does): by default
governance_bench_kpi.

1. load: 15 departments (the data migration's), one district, 4 streets, 20
   communities and 100 cells of an active grid version, 60 grid workers; then
   `--cases` cases in one INSERT … SELECT over generate_series (seeded random(),
   so every run loads the same rows), created 1 August – 18 December 2026 over
   every channel and status, with the measure columns as the lifecycle services
   leave them: ~92 % dispatched, handled mostly on time, ~10 % reworked, ~5 %
   extended, 12345 cases accepted and called back, 2 % merged.
2. time: cases.measures.measure_table() for November 2026 grouped by
   department (the ORM's one GROUP BY plus the label query and the Python that
   builds the rows), against the floor, the hand-written SQL that computes the
   same 16 counts per department with COUNT(*) FILTER in one GROUP BY, on the
   same connection, taking turns, `--runs` times each; the medians are compared.
   Goal: within 1.5× the floor. Both must give identical numbers.
3. plans: EXPLAIN (ANALYZE, BUFFERS) of both, and for information the service's
   time for the other groupings (street, community, grid, worker).

Writes bench/results/kpi.json.
"""

import argparse
import os
import statistics
import sys
import time

from _common import as_postgres, reset_database, setup_django, write_result

SEED = 0.20261123
DEFAULT_URL = "postgis://governance:governance@127.0.0.1:5432/governance_bench_kpi"


def parse_options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL, help="a throw-away PostGIS database: dropped, created")
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7, help="timed runs of each side (the median counts)")
    parser.add_argument("--keep", action="store_true", help="do not drop the database at the end")
    options = parser.parse_args()
    if not options.database_url.startswith("postgis://"):
        parser.error("the KPI bench runs on PostGIS only (COPY-speed loading, FILTER aggregates at scale)")
    return options


OPTIONS = parse_options()
reset_database(OPTIONS.database_url)
os.environ["DATABASE_URL"] = OPTIONS.database_url
setup_django()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.gis.geos import MultiPolygon, Polygon  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from cases import measures  # noqa: E402
from governance.models import Department, Region  # noqa: E402
from grids.models import Cell, GridVersion  # noqa: E402

# DEBUG=1 (needed without a SECRET_KEY) would log every query: not what production runs.
settings.DEBUG = False
PERIOD = measures.parse_period("2026-11")


def places() -> dict:
    """A district of 4 streets × 5 communities × 5 cells, an active version; 60 grid workers and a hotline agent."""
    district = Region.objects.create(code="330299", name="基准区", level=Region.Level.DISTRICT)
    version = GridVersion.objects.create(status=GridVersion.Status.ACTIVE, sliver_area_m2=50, input_digest="bench")
    cells = []
    for s in range(1, 5):
        street = Region.objects.create(code=f"330299{s:03d}", name=f"基准街道{s}", level="street", parent=district)
        for c in range(1, 6):
            community = Region.objects.create(code=f"{street.code}{c:03d}", name=f"基准社区{s}-{c}",
                                              level="community", parent=street)  # fmt: skip
            for n in range(1, 6):
                x, y = 121.0 + (s * 5 + c) * 0.01, 30.0 + n * 0.01
                square = Polygon(((x, y), (x + 0.01, y), (x + 0.01, y + 0.01), (x, y + 0.01), (x, y)))
                cells.append(Cell(version=version, code=f"{community.code}{n:03d}", community=community,
                                  geometry=MultiPolygon(square, srid=4326), area_m2=1_000_000.0))  # fmt: skip
    Cell.objects.bulk_create(cells)
    User = get_user_model()
    User.objects.bulk_create([User(username=f"worker{n:02d}") for n in range(60)] + [User(username="agent")])
    return {
        "version": version.pk,
        "cells": list(Cell.objects.values_list("pk", flat=True)),
        "departments": list(Department.objects.values_list("pk", flat=True)),
        "workers": list(User.objects.filter(username__startswith="worker").values_list("pk", flat=True)),
        "agent": User.objects.get(username="agent").pk,
    }


# Layer by layer, each from the one inside it: draws, then the stages in the order the services write them.
LOAD_SQL = """
INSERT INTO cases_case (
    id, number, channel, reporter_id, citizen_name, citizen_phone, description, address, cell_id, grid_version_id,
    severity, department_id, status, created_at, updated_at, closed_at, sla_level, extension_count, merged_into_id,
    dispatched_at, response_due, accepted_at, handling_due, handled_at, rework_count, verification_due, verified_at,
    verified_by_id, callback_at, callback_solved, callback_satisfied, external_system, external_id)
SELECT g, 'K' || lpad(g::text, 11, '0'), channel,
       CASE channel WHEN 'grid_worker' THEN worker WHEN 'hotline' THEN %(agent)s END,
       '', '', '基准案卷', '', cell, CASE WHEN cell IS NOT NULL THEN %(version)s END,
       'normal', department, CASE kind WHEN 'merged' THEN 'closed' ELSE kind END, created, created,
       CASE WHEN kind = 'rejected' THEN created + interval '1 hour'
            WHEN kind = 'merged' THEN dispatched_at + interval '1 hour'
            WHEN kind = 'closed' THEN coalesce(callback_at, verified_at + interval '30 minutes') END,
       'green', extension_count, CASE WHEN kind = 'merged' AND g > 1 THEN g - 1 END,
       dispatched_at, response_due, accepted_at, handling_due, handled_at, rework_count, verification_due,
       verified_at, CASE WHEN verified_at IS NOT NULL THEN verifier END,
       callback_at, CASE WHEN callback_at IS NOT NULL THEN r_solved < 0.92 END,
       CASE WHEN callback_at IS NOT NULL THEN r_satisfied < 0.85 END, '', ''
FROM (
    SELECT *, CASE WHEN channel = 'hotline' AND kind = 'closed' THEN verified_at + r_callback * interval '2 days'
              END AS callback_at
    FROM (
        SELECT *, CASE WHEN handled_at IS NOT NULL THEN handled_at + interval '1 day' END AS verification_due,
               CASE WHEN kind IN ('verified', 'closed') THEN handled_at + r_verified * interval '30 hours'
               END AS verified_at
        FROM (
            SELECT *, dispatched_at + interval '2 hours' AS response_due,
                   CASE WHEN r_accepted < 0.9 THEN dispatched_at + r_accepted * interval '3 hours' END AS accepted_at,
                   dispatched_at + (1 + floor(r_limit * 5)) * interval '1 day' AS handling_due,
                   CASE WHEN kind IN ('handled', 'verified', 'closed')
                        THEN dispatched_at + r_handled * 1.2 * (1 + floor(r_limit * 5)) * interval '1 day'
                   END AS handled_at
            FROM (
                SELECT *, CASE WHEN kind NOT IN ('reported', 'registered', 'rejected')
                               THEN created + r_dispatch * interval '4 hours' END AS dispatched_at
                FROM (
                    SELECT g,
                           timestamptz '2026-08-01 00:00+08' + random() * interval '140 days' AS created,
                           CASE WHEN r < 0.02 THEN 'reported' WHEN r < 0.06 THEN 'rejected'
                                WHEN r < 0.08 THEN 'registered' WHEN r < 0.18 THEN 'dispatched'
                                WHEN r < 0.22 THEN 'handled' WHEN r < 0.25 THEN 'verified'
                                WHEN r < 0.27 THEN 'merged' ELSE 'closed' END AS kind,
                           CASE WHEN c < 0.55 THEN 'grid_worker' WHEN c < 0.90 THEN 'hotline'
                                WHEN c < 0.97 THEN 'api' ELSE 'other' END AS channel,
                           (%(departments)s::int[])[1 + floor(random() * %(n_departments)s)::int] AS department,
                           CASE WHEN random() < 0.95
                                THEN (%(cells)s::int[])[1 + floor(random() * %(n_cells)s)::int] END AS cell,
                           (%(workers)s::int[])[1 + floor(random() * %(n_workers)s)::int] AS worker,
                           (%(workers)s::int[])[1 + floor(random() * %(n_workers)s)::int] AS verifier,
                           CASE WHEN random() < 0.05 THEN 1 ELSE 0 END AS extension_count,
                           CASE WHEN x < 0.08 THEN 1 WHEN x < 0.10 THEN 2 ELSE 0 END AS rework_count,
                           random() AS r_dispatch, random() AS r_accepted, random() AS r_limit,
                           random() AS r_handled, random() AS r_verified, random() AS r_callback,
                           random() AS r_solved, random() AS r_satisfied
                    FROM (SELECT g, random() AS r, random() AS c, random() AS x
                          FROM generate_series(1, %(count)s) AS g) AS draws
                ) AS drawn
            ) AS dispatched
        ) AS handled
    ) AS verified
) AS called_back
"""


def load(count: int, ids: dict) -> dict:
    began = time.perf_counter()
    params = ids | {"count": count, "n_departments": len(ids["departments"]), "n_cells": len(ids["cells"]),
                    "n_workers": len(ids["workers"])}  # fmt: skip
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT setseed(%s)", [SEED])
        cursor.execute(LOAD_SQL, params)
        cursor.execute("SELECT setval(pg_get_serial_sequence('cases_case', 'id'), %s)", [count])
    loaded = time.perf_counter() - began
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE cases_case")
        cursor.execute(
            "SELECT count(*), count(dispatched_at), count(handled_at), count(callback_at), count(merged_into_id),"
            " count(*) FILTER (WHERE rework_count > 0), count(*) FILTER (WHERE extension_count > 0),"
            " pg_size_pretty(pg_total_relation_size('cases_case')) FROM cases_case"
        )
        total, dispatched, handled, called_back, merged, reworked, extended, size = cursor.fetchone()
    return {"cases": total, "dispatched": dispatched, "handled": handled, "called_back": called_back,
            "merged": merged, "reworked": reworked, "extended": extended, "table_size": size,
            "load_s": round(loaded, 1), "loader": "INSERT … SELECT generate_series (seeded random())"}  # fmt: skip


def floor_sql() -> str:
    """The same counts, by hand: one scan, one GROUP BY, COUNT(*) FILTER per measure."""
    within = {c: f"({c} >= %(start)s AND {c} < %(end)s)" for c in measures.PERIOD_COLUMNS}
    due = f"{within['handling_due']} AND dispatched_at IS NOT NULL AND merged_into_id IS NULL"
    hotline = f"{within['dispatched_at']} AND channel = 'hotline'"
    reports = f"{within['created_at']} AND channel = 'grid_worker'"
    verified = f"{within['verified_at']} AND verified_by_id IS NOT NULL"
    counts = {
        "due": due,
        "closed": f"{due} AND status = 'closed'",
        "closed_on_time": f"{due} AND status = 'closed' AND handled_at <= handling_due",
        "handled": within["handled_at"],
        "reworked": f"{within['handled_at']} AND rework_count > 0",
        "dispatched": within["dispatched_at"],
        "extended": f"{within['dispatched_at']} AND extension_count > 0",
        "hotline_dispatched": hotline,
        "responded": f"{hotline} AND accepted_at <= response_due",
        "callbacks": within["callback_at"],
        "solved": f"{within['callback_at']} AND callback_solved",
        "satisfied": f"{within['callback_at']} AND callback_satisfied",
        "reports": reports,
        "valid_reports": f"{reports} AND merged_into_id IS NULL AND status NOT IN ('reported', 'rejected')",
        "verifications": verified,
        "verified_on_time": f"{verified} AND verified_at <= verification_due",
    }
    assert list(counts) == measures.COUNT_KEYS
    columns = ",\n       ".join(f"count(*) FILTER (WHERE {condition}) AS {key}" for key, condition in counts.items())
    where = " OR ".join(within.values())
    return f"SELECT department_id,\n       {columns}\nFROM cases_case\nWHERE {where}\nGROUP BY department_id"


FLOOR = floor_sql()
BOUNDS = {"start": PERIOD.start, "end": PERIOD.end}


def run_floor(cursor) -> list[tuple]:
    cursor.execute(FLOOR, BOUNDS)
    return cursor.fetchall()


def run_ours() -> measures.MeasureTable:
    return measures.measure_table(period=PERIOD, by="department")


def same_numbers(ours: measures.MeasureTable, floor: list[tuple]) -> dict:
    codes = dict(Department.objects.values_list("pk", "code"))
    by_hand = {codes.get(row[0], ""): dict(zip(measures.COUNT_KEYS, row[1:], strict=True)) for row in floor}
    by_service = {row.code: row.counts for row in ours.rows}
    if by_hand != by_service:
        raise SystemExit(f"the service and the floor disagree:\n{by_service}\n{by_hand}")
    return {"groups": len(by_service), "totals": ours.totals.counts}


def timed(func) -> float:
    began = time.perf_counter()
    func()
    return time.perf_counter() - began


def compare(runs: int) -> dict:
    with connection.cursor() as cursor:
        checked = same_numbers(run_ours(), run_floor(cursor))
        times = {"service": [], "floor": []}
        for _ in range(runs):  # taking turns, so both meet the same cache and the same neighbours
            times["floor"].append(timed(lambda: run_floor(cursor)))
            times["service"].append(timed(run_ours))
    median = {side: statistics.median(values) for side, values in times.items()}
    return {
        "service_median_s": round(median["service"], 4),
        "floor_median_s": round(median["floor"], 4),
        "ratio": round(median["service"] / median["floor"], 3),
        "service_runs_s": [round(t, 4) for t in times["service"]],
        "floor_runs_s": [round(t, 4) for t in times["floor"]],
        "identical_numbers": True,
        **checked,
    }


def explain(sql: str, params) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def plans() -> dict:
    with CaptureQueriesContext(connection) as captured:
        run_ours()
    ours = captured.captured_queries[0]["sql"]  # already interpolated by psycopg: it runs as it is
    return {"service_sql": ours, "service": explain(ours, None), "floor_sql": FLOOR, "floor": explain(FLOOR, BOUNDS)}


def other_groupings(runs: int) -> dict:
    out = {}
    for by in ("street", "community", "grid", "worker"):
        seconds = [timed(lambda by=by: measures.measure_table(period=PERIOD, by=by)) for _ in range(runs)]
        out[by] = {"median_s": round(statistics.median(seconds), 4),
                   "rows": len(measures.measure_table(period=PERIOD, by=by).rows)}  # fmt: skip
    return out


def main() -> None:
    options = OPTIONS
    began = time.perf_counter()
    call_command("migrate", verbosity=0)
    loaded = load(options.cases, places())
    print(f"KPI on postgis: {loaded['cases']:,} cases loaded in {loaded['load_s']} s ({loaded['table_size']}); "
          f"{loaded['dispatched']:,} dispatched, {loaded['handled']:,} handled, "
          f"{loaded['called_back']:,} called back")  # fmt: skip
    result = compare(options.runs)
    print(f"  {PERIOD.label} by department: service {result['service_median_s'] * 1000:.1f} ms, floor "
          f"{result['floor_median_s'] * 1000:.1f} ms (medians of {options.runs}): {result['ratio']}× the floor; "
          f"identical numbers over {result['groups']} groups, {result['totals']['due']:,} due")  # fmt: skip
    query_plans = plans()
    others = other_groupings(3)
    print("  other groupings: " + ", ".join(f"{by} {o['median_s'] * 1000:.0f} ms ({o['rows']} rows)"
                                            for by, o in others.items()))  # fmt: skip
    connection.close()
    if not options.keep:
        as_postgres("dropdb", "--if-exists", options.database_url.rsplit("/", 1)[1])
    path = write_result(
        "kpi",
        {
            "database": "postgis",
            "seed": SEED,
            "workload": loaded | {"period": PERIOD.label, "by": "department", "departments": 15, "cells": 100},
            "comparison": result,
            "goals": {"service_within_1_5x_floor": result["ratio"] <= 1.5, "identical_numbers": True},
            "other_groupings": others,
            "plans": query_plans,
            "total_s": round(time.perf_counter() - began, 1),
        },
    )
    print(f"written to {path}")


if __name__ == "__main__":
    sys.exit(main())
