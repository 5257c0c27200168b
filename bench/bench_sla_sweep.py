"""SLA sweep over 1,000,000 open cases, 1 % of them overdue: the sweep's read against a raw indexed SQL floor.

    .venv/bin/python bench/bench_sla_sweep.py [--database-url URL] [--cases 1000000] [--due-share 0.01]
        [--yellow-share 0.01] [--keep]

The database is a throw-away one, dropped and created here: by default the
PostGIS database bench_sla_sweep (created with runuser -u postgres, as
bench_grids_unify.py does); a spatialite:/// URL names a file, recreated.

1. load: `--cases` open cases spread evenly over the five open statuses, bulk
   inserted (COPY on PostGIS, executemany on SpatiaLite). `--due-share` of them
   are past their running stage's deadline (1 minute to 3 days ago); with
   `--yellow-share`, that many more are past 80 % of their time; the rest are
   under 50 %. Every department has a head and there are three dispatchers,
   so each escalation writes four notifications.
2. select: the sweep's read of the overdue rows (cases.sweep.overdue, in its
   keyset batches of 1,000, every open status) against the floor, the raw SQL
   that reads the same rows through the same partial index in one query per
   status, `SELECT id, <stage>_due … WHERE status = %s AND sla_level <> 'red' AND <stage>_due < %s
   ORDER BY <stage>_due`, on the same connection, taking turns, fastest of 5.
   Both must return the same ids. Goal: within 2× the floor.
3. plans: EXPLAIN of both for every status must name the status's partial index.
4. pass: one full sla_sweep() (claims, escalations, outbox rows; delivery is
   collected instead of queued, then timed on its own), then a second pass, the
   steady state every minute (nothing left to claim), and the not-yet-due reads
   alone (cases.sweep.turning_yellow and misleveled: ranges of the partial
   indexes case_<status>_yellow and case_<status>_flagged).

Writes bench/results/sla_sweep.json (sla_sweep_spatialite.json on SpatiaLite).
"""

import argparse
import datetime
import os
import random
import sys
import time

from _common import as_postgres, best_time, reset_database, setup_django, write_result

SEED = 20261123
DEFAULT_URL = "postgis://governance:governance@127.0.0.1:5432/bench_sla_sweep"


def parse_options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL, help="a throw-away database: it is dropped and created")
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--due-share", type=float, default=0.01)
    parser.add_argument("--yellow-share", type=float, default=0.01)
    parser.add_argument("--keep", action="store_true", help="do not drop the PostGIS database at the end")
    return parser.parse_args()


OPTIONS = parse_options()
reset_database(OPTIONS.database_url)
os.environ["DATABASE_URL"] = OPTIONS.database_url
setup_django()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from cases import notifications, sweep  # noqa: E402
from cases.models import OPEN_STATUSES, STAGE_OF_STATUS, Escalation, Notification  # noqa: E402
from governance.models import Department, Role  # noqa: E402
from governance.services import staff_upsert  # noqa: E402

POSTGIS = not OPTIONS.database_url.startswith("spatialite:")
# DEBUG=1 (needed without a SECRET_KEY) would log and time every query: not what production runs.
settings.DEBUG = False
DUES = [f"{stage}_due" for stage in STAGE_OF_STATUS.values()]
COLUMNS = ["number", "channel", "citizen_name", "citizen_phone", "description", "address", "severity",
           "department_id", "status", "stage_started_at", *DUES, "external_system", "external_id", "created_at",
           "updated_at", "sla_level", "extension_count", "rework_count", "yellow_at"]  # fmt: skip


def people() -> int:
    """A head for every department and three dispatchers: four notifications per escalation."""
    for department in Department.objects.all():
        head = staff_upsert(username=f"head_{department.code.lower()}", role=Role.DEPARTMENT_ADMIN,
                            department=department).user  # fmt: skip
        Department.objects.filter(pk=department.pk).update(head=head)
    for n in range(3):
        staff_upsert(username=f"dispatcher{n}", role=Role.DISPATCHER)
    return len(notifications.EscalationRecipients.load().for_department(Department.objects.first().pk))


def rows(count: int, now: datetime.datetime, due_share: float, yellow_share: float, departments: list[int]):
    """(row, kind) for every case; kind is 'due', 'yellow' or 'green'. No queries: it runs inside COPY."""
    rng = random.Random(SEED)
    adapt = connection.ops.adapt_datetimefield_value
    for n in range(count):
        status = OPEN_STATUSES[n % len(OPEN_STATUSES)]
        allowed = datetime.timedelta(minutes=rng.uniform(30, 3 * 24 * 60))
        draw = rng.random()
        if draw < due_share:
            kind, due = "due", now - datetime.timedelta(minutes=rng.uniform(1, 3 * 24 * 60))
            started = due - allowed
        else:
            kind = "yellow" if draw < due_share + yellow_share else "green"
            share = rng.uniform(0.81, 0.99) if kind == "yellow" else rng.uniform(0.0, 0.5)
            started = now - allowed * share
            due = started + allowed
        dues = [adapt(due) if column == f"{STAGE_OF_STATUS[status]}_due" else None for column in DUES]
        row = (f"B{n:011d}", "other", "", "", "基准案卷", "", "normal", rng.choice(departments), status,
               adapt(started), *dues, "", "", adapt(started), adapt(started), "green", 0, 0,
               adapt(started + allowed * 4 / 5))  # fmt: skip
        yield row, kind


def load(count: int, now: datetime.datetime, due_share: float, yellow_share: float) -> dict:
    kinds = {"due": 0, "yellow": 0, "green": 0}
    departments = list(Department.objects.values_list("pk", flat=True))
    began = time.perf_counter()
    # One transaction: in autocommit SQLite would sync the file after every row.
    with transaction.atomic(), connection.cursor() as cursor:
        if POSTGIS:
            with cursor.cursor.copy(f"COPY cases_case ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row, kind in rows(count, now, due_share, yellow_share, departments):
                    copy.write_row(row)
                    kinds[kind] += 1
        else:
            sql = f"INSERT INTO cases_case ({', '.join(COLUMNS)}) VALUES ({', '.join(['%s'] * len(COLUMNS))})"
            chunk = []
            for row, kind in rows(count, now, due_share, yellow_share, departments):
                chunk.append(row)
                kinds[kind] += 1
                if len(chunk) == 50_000:
                    cursor.executemany(sql, chunk)
                    chunk = []
            cursor.executemany(sql, chunk)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return kinds | {"seconds": round(time.perf_counter() - began, 1)}


def floor_sql(status: str) -> str:
    due = sweep._due(status)
    return f"SELECT id, {due} FROM cases_case WHERE status = %s AND sla_level <> 'red' AND {due} < %s ORDER BY {due}"


def select_floor(cursor, now) -> list[int]:
    ids = []
    for status in OPEN_STATUSES:
        cursor.execute(floor_sql(status), [status, connection.ops.adapt_datetimefield_value(now)])
        ids += [row[0] for row in cursor.fetchall()]
    return ids


def select_sweep(now) -> list[int]:
    ids = []
    for status in OPEN_STATUSES:
        for batch in sweep._batches(sweep.overdue(status, now), sweep._due(status), 1000, None, None):
            ids += [row["pk"] for row in batch]
    return ids


def time_selection(now) -> dict:
    """The sweep's read and the floor take turns, fastest of 5 each."""
    with connection.cursor() as cursor:
        ours, floor = select_sweep(now), select_floor(cursor, now)
        if sorted(ours) != sorted(floor):
            raise SystemExit(f"the sweep read {len(ours)} rows, the floor {len(floor)}: not the same rows")
        best = {"sweep": float("inf"), "floor": float("inf")}
        for _ in range(5):
            best["floor"] = min(best["floor"], best_time(lambda: select_floor(cursor, now), repeat=1))
            best["sweep"] = min(best["sweep"], best_time(lambda: select_sweep(now), repeat=1))
    return {"rows": len(ours), "sweep_s": round(best["sweep"], 4), "floor_s": round(best["floor"], 4),
            "ratio": round(best["sweep"] / best["floor"], 2)}  # fmt: skip


def plans(now) -> dict:
    explain = "EXPLAIN " if POSTGIS else "EXPLAIN QUERY PLAN "
    out = {}
    with connection.cursor() as cursor:
        for status in OPEN_STATUSES:
            index = f"case_{status}_due"
            cursor.execute(explain + floor_sql(status), [status, connection.ops.adapt_datetimefield_value(now)])
            floor = "\n".join(str(row[0] if POSTGIS else row[-1]) for row in cursor.fetchall())
            due = sweep._due(status)
            ours = sweep.overdue(status, now).order_by(due, "pk")[:1000].explain()
            yellow = sweep.turning_yellow(status, now).order_by("yellow_at", "pk")[:1000].explain()
            walk = sweep.misleveled(status, now).order_by(due, "pk")[:1000].explain()
            out[status] = {"index": index, "floor_uses_index": index in floor, "sweep_uses_index": index in ours,
                           "turning_yellow_uses_index": f"case_{status}_yellow" in yellow,
                           "misleveled_uses_index": f"case_{status}_flagged" in walk}  # fmt: skip
            if status == OPEN_STATUSES[0]:
                out["plans"] = {"floor": floor, "sweep": ours, "turning_yellow": yellow, "misleveled": walk}
    return out


def full_pass(now, expected_due: int, expected_yellow: int, per_escalation: int) -> dict:
    queued = []
    notifications.queue_delivery = queued.extend  # delivery is timed on its own below, not queued to Redis
    began = time.perf_counter()
    first = sweep.sla_sweep(now=now)
    first_s = time.perf_counter() - began
    assert first.escalated == expected_due == Escalation.objects.count(), (first.escalated, expected_due)
    assert first.yellow == expected_yellow, (first.yellow, expected_yellow)
    assert first.notifications == expected_due * per_escalation == Notification.objects.count() == len(queued)
    began = time.perf_counter()
    second = sweep.sla_sweep(now=now)
    second_s = time.perf_counter() - began
    assert (second.scanned, second.escalated, second.yellow) == (0, 0, 0), second
    walk_s = best_time(
        lambda: [
            (list(sweep.turning_yellow(s, now).order_by("yellow_at", "pk")[:1000]),
             list(sweep.misleveled(s, now).order_by(sweep._due(s), "pk")[:1000]))
            for s in OPEN_STATUSES
        ],
        repeat=3,
    )  # fmt: skip
    began = time.perf_counter()
    delivered = notifications.notifications_deliver(ids=queued)
    deliver_s = time.perf_counter() - began
    assert delivered == len(queued)
    return {
        "first_pass": {"seconds": round(first_s, 2), "scanned": first.scanned, "yellow": first.yellow,
                       "red": first.red, "escalated": first.escalated, "notifications": first.notifications,
                       "escalations_per_s": round(first.escalated / first_s)},
        "second_pass_steady_state_s": round(second_s, 3),
        "not_yet_due_walk_s": round(walk_s, 3),
        "delivery": {"notifications": delivered, "seconds": round(deliver_s, 2),
                     "per_s": round(delivered / deliver_s)},
    }  # fmt: skip


def main() -> None:
    options = OPTIONS
    backend = "postgis" if POSTGIS else "spatialite"
    began = time.perf_counter()
    call_command("migrate", verbosity=0)
    per_escalation = people()
    now = timezone.now().replace(microsecond=0)
    loaded = load(options.cases, now, options.due_share, options.yellow_share)
    print(f"SLA sweep on {backend}: {options.cases:,} open cases ({loaded['due']:,} overdue, "
          f"{loaded['yellow']:,} past 80 %) loaded in {loaded['seconds']} s")  # fmt: skip
    selection = time_selection(now)
    print(f"  read of overdue rows: sweep {selection['sweep_s'] * 1000:.1f} ms, floor {selection['floor_s'] * 1000:.1f}"
          f" ms ({selection['rows']:,} rows): {selection['ratio']}× the floor")  # fmt: skip
    query_plans = plans(now)
    uses = {s: (p["floor_uses_index"], p["sweep_uses_index"]) for s, p in query_plans.items() if s != "plans"}
    print(f"  partial index used (floor, sweep) per status: {uses}")
    passes = full_pass(now, loaded["due"], loaded["yellow"], per_escalation)
    first = passes["first_pass"]
    print(f"  first pass: {first['seconds']} s for {first['escalated']:,} escalations and "
          f"{first['notifications']:,} notifications ({first['escalations_per_s']:,}/s)")  # fmt: skip
    print(f"  steady-state pass (nothing to do): {passes['second_pass_steady_state_s']} s, of which the not-yet-due "
          f"walk {passes['not_yet_due_walk_s']} s")  # fmt: skip
    print(f"  delivery: {passes['delivery']['notifications']:,} in {passes['delivery']['seconds']} s")
    connection.close()
    if POSTGIS and not options.keep:
        as_postgres("dropdb", "--if-exists", options.database_url.rsplit("/", 1)[1])
    path = write_result(
        "sla_sweep" if POSTGIS else "sla_sweep_spatialite",
        {
            "database": backend,
            "seed": SEED,
            "workload": {"open_cases": options.cases, "overdue": loaded["due"], "past_80_percent": loaded["yellow"],
                         "statuses": [str(s) for s in OPEN_STATUSES], "notifications_per_escalation": per_escalation,
                         "load_s": loaded["seconds"], "loader": "COPY" if POSTGIS else "executemany"},
            "selection": selection,
            "goals": {"selection_within_2x_floor": selection["ratio"] <= 2.0,
                      "every_status_uses_its_partial_index": all(all(u) for u in uses.values())},
            "passes": passes,
            "plans": query_plans,
            "total_s": round(time.perf_counter() - began, 1),
        },
    )  # fmt: skip
    print(f"written to {path}")


if __name__ == "__main__":
    sys.exit(main())
