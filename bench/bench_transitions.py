"""Case transitions per second through the real services, against a raw SQL floor, on SpatiaLite and PostGIS.

    .venv/bin/python bench/bench_transitions.py [--database-url URL ...] [--cases 2000] [--threads 4] [--chunk 100]

Each --database-url (default: the SpatiaLite file var/bench/transitions.sqlite3
and the PostGIS database governance_bench_transitions) is a throw-away
database, dropped and created here, and measured in a process of its own
(Django is set up once per process). It gets the demo city's people and grid
(governance.demo, grids.demo), so a report looks its point up in a real grid.

1. single: `--cases` cases walk report → register → dispatch → accept →
   handle → verify → close through cases.services, one transaction each, in
   autocommit as a request would run them. After each chunk of `--chunk`
   cases of a step, the floor does the same number of transitions on the same
   cases: the least any transition must do, as raw SQL in one transaction,
   `SELECT … FOR UPDATE` (a plain SELECT on SQLite) of the case row, one
   UPDATE of it and one INSERT of an event row. Taking turns chunk by chunk
   keeps a busy machine from favouring either. The floor writes the status
   the service just wrote, so the walk goes on undisturbed.
2. concurrent (PostGIS only): `--cases` more cases split over `--threads`
   threads, one connection each; every step starts for all threads at once
   (a barrier), the services first, then the floor. A sampler polls
   pg_stat_activity for backends waiting on a lock; deadlocks are read from
   pg_stat_database. Threads share one interpreter (the GIL), so the speed-up
   is bounded by the Python share of a transition, not by the database.
3. queries: the statements one case's walk sends, per step (what the ratio is made of).

Writes bench/results/transitions.json.
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time

from _common import PROJECT_DIR, reset_database, setup_django, write_result

SEED = 20261123
DESCRIPTION = "基准案卷：路边堆放着几袋生活垃圾"
STEPS = ["report", "register", "dispatch", "accept", "handle", "verify", "close"]
DEFAULT_URLS = [
    f"spatialite:///{PROJECT_DIR / 'var' / 'bench' / 'transitions.sqlite3'}",
    "postgis://governance:governance@127.0.0.1:5432/governance_bench_transitions",
]


def parse_options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", action="append", default=[], help="a throw-away database (repeatable)")
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--chunk", type=int, default=100)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


OPTIONS = parse_options()
if OPTIONS.child:
    os.environ["DATABASE_URL"] = OPTIONS.database_url[0]
os.environ.setdefault("DEBUG", "1")  # the settings want DEBUG or a SECRET_KEY; DEBUG is turned off below
setup_django()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from cases import services  # noqa: E402
from cases.demo import Cast, Places  # noqa: E402
from cases.models import Category  # noqa: E402
from governance.demo import seed_demo  # noqa: E402
from grids.demo import seed_grid  # noqa: E402

# DEBUG would log and time every query (and on SQLite render each one with a second query).
settings.DEBUG = False


def main() -> None:
    options = OPTIONS
    if options.child:  # one database, in this process
        print(json.dumps(Walk(options).run()))
        return
    began = time.perf_counter()
    databases = {}
    for url in options.database_url or DEFAULT_URLS:
        reset_database(url)
        args = ["--database-url", url, "--cases", str(options.cases), "--threads", str(options.threads),
                "--chunk", str(options.chunk), "--child"]  # fmt: skip
        # Progress goes to stderr, passed through; the figures come back as the last line of stdout.
        out = subprocess.run([sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True, check=False)
        if out.returncode:
            raise SystemExit(f"the run on {url} failed")
        result = json.loads(out.stdout.strip().splitlines()[-1])
        databases[result["database"]] = result
        if url.startswith("postgis"):
            subprocess.run(["runuser", "-u", "postgres", "--", "dropdb", "--if-exists", url.rsplit("/", 1)[1]],
                           check=True)  # fmt: skip
    path = write_result("transitions", {
        "seed": SEED, "cases": options.cases, "steps": STEPS, "threads": options.threads, "chunk": options.chunk,
        "floor": "per transition, one transaction: SELECT … FOR UPDATE (plain SELECT on SQLite) of the case row, "
                 "UPDATE of status, stage_started_at, updated_at, INSERT of one case event; raw SQL",
        "databases": databases, "total_s": round(time.perf_counter() - began, 1),
    })  # fmt: skip
    print(f"written to {path}")


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def figures(seconds: float, transitions: int) -> dict:
    return {"seconds": round(seconds, 3), "transitions": transitions, "per_s": round(transitions / seconds, 1),
            "ms_each": round(seconds / transitions * 1000, 3)}  # fmt: skip


class Walk:
    """One database: set up, then the single-connection walk, the concurrent one and the query counts."""

    def __init__(self, options: argparse.Namespace):
        self.options = options
        self.postgis = options.database_url[0].startswith("postgis")

    def run(self) -> dict:
        load_before = [round(x, 2) for x in os.getloadavg()]  # other work on the machine shows in every figure
        began = time.perf_counter()
        call_command("migrate", verbosity=0)
        seed_demo(password="bench-pass-2026")
        seed_grid()
        rng = random.Random(SEED)
        self.cast, places = Cast.load(), Places.load()
        categories = list(Category.objects.select_related("default_department"))
        total = self.options.cases * (2 if self.postgis else 1) + 40
        self.inputs = [(rng.choice(categories), *places.point(rng)[1:]) for _ in range(total)]
        self.next_input = 0
        backend = "postgis" if self.postgis else "spatialite"
        say(f"transitions on {backend}: set up in {time.perf_counter() - began:.1f} s")
        self.walk(self.take(20), None)  # warm-up: caches, prepared plans, the first pages of each table
        result = {"database": backend, "single": self.single()}
        if self.postgis:
            result["concurrent"] = self.concurrent()
        result["queries_per_transition"] = self.queries()
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM cases_caseevent")
            result["event_rows_written"] = cursor.fetchone()[0]
        result["load_average"] = {"before": load_before, "after": [round(x, 2) for x in os.getloadavg()]}
        return result

    def take(self, n: int) -> list[dict]:
        items = [{"input": self.inputs[i]} for i in range(self.next_input, self.next_input + n)]
        self.next_input += n
        return items

    # --- the two kinds of transition -------------------------------------------------------

    def ours(self, step: str, item: dict) -> None:
        cast = self.cast
        if step == "report":
            category, lng, lat = item["input"]
            item["case"] = services.case_report(
                channel="grid_worker", description=DESCRIPTION, lng=lng, lat=lat, reporter=cast.gridworker,
                category=category,
            )  # fmt: skip
            return
        case, category = item["case"], item["input"][0]
        handler = cast.handlers.get(category.default_department_id)
        if step == "register":
            services.case_register(case=case, actor=cast.dispatcher, category=category)
        elif step == "dispatch":
            services.case_dispatch(case=case, actor=cast.dispatcher)
        elif step == "accept":
            services.case_accept(case=case, actor=handler)
        elif step == "handle":
            services.case_handle(case=case, actor=handler, note="已清理")
        elif step == "verify":
            services.case_verify(case=case, actor=cast.gridworker, passed=True)
        else:
            services.case_close(case=case, actor=cast.dispatcher)

    def floor(self, cursor, step: str, item: dict) -> None:
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        case = item["case"]
        lock = " FOR UPDATE" if self.postgis else ""
        cursor.execute("BEGIN")
        cursor.execute(f"SELECT status FROM cases_case WHERE id = %s{lock}", [case.pk])
        status = cursor.fetchone()[0]
        cursor.execute("UPDATE cases_case SET status = %s, stage_started_at = %s, updated_at = %s WHERE id = %s",
                       [status, now, now, case.pk])  # fmt: skip
        cursor.execute("INSERT INTO cases_caseevent (case_id, action, from_status, to_status, actor_id, reason, data, "
                       "created_at) VALUES (%s, %s, %s, %s, %s, '', %s, %s)",
                       [case.pk, f"floor_{step}", status, status, self.cast.dispatcher.pk, "{}", now])  # fmt: skip
        cursor.execute("COMMIT")

    def walk(self, items: list[dict], timings: dict | None) -> None:
        """Every step over `items`, chunk by chunk: the services, then the floor on the same cases."""
        chunk = self.options.chunk
        with connection.cursor() as cursor:
            for step in STEPS:
                for start in range(0, len(items), chunk):
                    part = items[start : start + chunk]
                    began = time.perf_counter()
                    for item in part:
                        self.ours(step, item)
                    middle = time.perf_counter()
                    for item in part:
                        self.floor(cursor, step, item)
                    if timings is not None:
                        timings["ours"][step] += middle - began
                        timings["floor"][step] += time.perf_counter() - middle

    # --- 1. one connection ------------------------------------------------------------------

    def single(self) -> dict:
        n = self.options.cases
        timings = {"ours": dict.fromkeys(STEPS, 0.0), "floor": dict.fromkeys(STEPS, 0.0)}
        self.walk(self.take(n), timings)
        result = self.summarise(timings, n)
        say(f"  one connection: ours {result['ours']['per_s']:,}/s, floor {result['floor']['per_s']:,}/s, "
            f"ratio {result['ratio']}")  # fmt: skip
        return result

    @staticmethod
    def summarise(timings: dict, n: int) -> dict:
        ours = figures(sum(timings["ours"].values()), n * len(STEPS))
        floor = figures(sum(timings["floor"].values()), n * len(STEPS))
        per_step = {
            step: {"ours": figures(timings["ours"][step], n), "floor": figures(timings["floor"][step], n),
                   "ratio": round(timings["ours"][step] / timings["floor"][step], 1)}
            for step in STEPS
        }  # fmt: skip
        return {"ours": ours, "floor": floor, "ratio": round(ours["seconds"] / floor["seconds"], 1),
                "per_step": per_step}  # fmt: skip

    # --- 2. several connections at once (PostGIS) ------------------------------------------

    def concurrent(self) -> dict:
        threads, n = self.options.threads, self.options.cases
        groups = [self.take(n // threads) for _ in range(threads)]
        n = sum(len(g) for g in groups)
        barrier = threading.Barrier(threads + 1)
        errors, latencies = [], []

        def worker(items):
            try:
                with connection.cursor() as cursor:
                    for step in STEPS:
                        for kind in ("ours", "floor"):
                            barrier.wait()
                            for item in items:
                                if kind == "floor":
                                    self.floor(cursor, step, item)
                                    continue
                                began = time.perf_counter()
                                self.ours(step, item)
                                latencies.append(time.perf_counter() - began)
                            barrier.wait()
            except Exception as error:  # a lock timeout or a deadlock is the finding, not a crash
                errors.append(repr(error))
                barrier.abort()
            finally:
                connection.close()

        deadlocks_before = self.deadlocks()
        sampler = LockSampler()
        pool = [threading.Thread(target=worker, args=(g,)) for g in groups]
        for thread in pool:
            thread.start()
        sampler.start()
        timings = {"ours": dict.fromkeys(STEPS, 0.0), "floor": dict.fromkeys(STEPS, 0.0)}
        try:
            for step in STEPS:
                for kind in ("ours", "floor"):
                    barrier.wait()
                    began = time.perf_counter()
                    barrier.wait()
                    timings[kind][step] = time.perf_counter() - began
        except threading.BrokenBarrierError:
            pass
        for thread in pool:
            thread.join()
        sampler.stop()
        result = self.summarise(timings, n) | {
            "threads": threads,
            "errors": errors,
            "deadlocks": self.deadlocks() - deadlocks_before,
            "lock_waits": sampler.summary(),
            "latency_ms": {"median": round(statistics.median(latencies) * 1000, 2),
                           "p95": round(sorted(latencies)[int(0.95 * len(latencies))] * 1000, 2)},
        }  # fmt: skip
        say(f"  {threads} connections: ours {result['ours']['per_s']:,}/s, floor {result['floor']['per_s']:,}/s, "
            f"lock waits {result['lock_waits']}, deadlocks {result['deadlocks']}, errors {len(errors)}")  # fmt: skip
        return result

    @staticmethod
    def deadlocks() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
            return cursor.fetchone()[0]

    # --- 3. what a transition sends --------------------------------------------------------

    def queries(self) -> dict:
        item, counts = self.take(1)[0], {}
        for step in STEPS:
            with CaptureQueriesContext(connection) as captured:
                self.ours(step, item)
            counts[step] = len(captured.captured_queries)  # SAVEPOINT, BEGIN and COMMIT included
        return counts


class LockSampler(threading.Thread):
    """Counts, every 10 ms, the backends of this database waiting on a lock."""

    def __init__(self):
        super().__init__(daemon=True)
        self.samples, self.waiting_samples, self.max_waiting = 0, 0, 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        sql = ("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
               "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()")  # fmt: skip
        try:
            with connection.cursor() as cursor:
                while not self._stop_event.wait(0.01):
                    cursor.execute(sql)
                    waiting = cursor.fetchone()[0]
                    self.samples += 1
                    self.waiting_samples += waiting > 0
                    self.max_waiting = max(self.max_waiting, waiting)
        finally:
            connection.close()

    def stop(self) -> None:
        self._stop_event.set()
        self.join()

    def summary(self) -> dict:
        return {"samples": self.samples, "samples_with_a_waiter": self.waiting_samples, "max_waiting": self.max_waiting}


if __name__ == "__main__":
    main()
