"""Working-calendar arithmetic: how fast are deadlines, compared with plain datetime addition?

    .venv/bin/python bench/bench_calendar.py [--n 20000] [--repeat 5]

Measures, on one calendar built once from settings (no admin overrides, so no
database is needed) and with its day cache warm:
- add_working_hours / add_working_days: calendar.add() as the application
  calls it, random starts over 2026 (any minute) and random amounts;
- working_between: working time between random pairs of moments;
- floor_natural_add: `start + timedelta` over the same starts, the cheapest
  possible deadline, which the ratios divide by;
- add_working_days_fresh_calendar: a new calendar per deadline with a cold
  cache, which is what get_calendar() per request costs (minus the query).
Writes bench/results/calendar.json.
"""

import argparse
import datetime
import logging
import random
from decimal import Decimal

from _common import best_time, rate, setup_django, write_result

setup_django()

from governance.calendar import Unit, calendar_from_settings  # noqa: E402

SEED = 20260930


def random_starts(rng: random.Random, count: int, tz: datetime.tzinfo) -> list[datetime.datetime]:
    first = datetime.datetime(2026, 1, 1, tzinfo=tz)
    minutes_in_2026 = 365 * 24 * 60
    return [first + datetime.timedelta(minutes=rng.randrange(minutes_in_2026)) for _ in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="operations per measurement")
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement; the fastest counts")
    options = parser.parse_args()
    n, repeat = options.n, options.repeat

    calendar = calendar_from_settings({})
    # Deadlines late in 2026 run into 2027, which has no holiday data; its one
    # warning would only interleave with the summary. The year is reported below.
    logging.getLogger("governance.calendar").setLevel(logging.ERROR)
    # A fast wrong answer is worth nothing: check the domain's example first.
    example = calendar.add(datetime.datetime.fromisoformat("2026-09-30T16:00:00+08:00"), 8, Unit.WORKING_HOURS)
    assert example.isoformat() == "2026-10-08T17:00:00+08:00", example

    rng = random.Random(SEED)
    starts = random_starts(rng, n, calendar.tz)
    hour_amounts = [Decimal(rng.randint(1, 160)) / 4 for _ in range(n)]  # 0.25–40 working hours
    day_amounts = [Decimal(rng.randint(1, 40)) / 2 for _ in range(n)]  # 0.5–20 working days
    natural_deltas = [datetime.timedelta(hours=float(amount)) for amount in hour_amounts]
    ends = [start + datetime.timedelta(minutes=rng.randrange(30 * 24 * 60)) for start in starts]
    hours_jobs = list(zip(starts, hour_amounts, strict=True))
    days_jobs = list(zip(starts, day_amounts, strict=True))
    natural_jobs = list(zip(starts, natural_deltas, strict=True))
    between_jobs = list(zip(starts, ends, strict=True))

    def add_working_hours():
        for start, amount in hours_jobs:
            calendar.add(start, amount, Unit.WORKING_HOURS)

    def add_working_days():
        for start, amount in days_jobs:
            calendar.add(start, amount, Unit.WORKING_DAYS)

    def working_between():
        for start, end in between_jobs:
            calendar.working_between(start, end)

    def floor_natural_add():
        for start, delta in natural_jobs:
            start + delta  # noqa: B018 - the addition is what is measured

    fresh_jobs = days_jobs[: max(1, n // 20)]

    def add_working_days_fresh_calendar():
        for start, amount in fresh_jobs:
            calendar_from_settings({}).add(start, amount, Unit.WORKING_DAYS)

    add_working_days()  # fills the day cache: the timed runs see a calendar in use
    measured = {
        "add_working_hours": (n, best_time(add_working_hours, repeat=repeat)),
        "add_working_days": (n, best_time(add_working_days, repeat=repeat)),
        "working_between": (n, best_time(working_between, repeat=repeat)),
        "floor_natural_add": (n, best_time(floor_natural_add, repeat=repeat)),
        "add_working_days_fresh_calendar": (
            len(fresh_jobs),
            best_time(add_working_days_fresh_calendar, repeat=repeat),
        ),
    }
    results = {label: rate(ops, seconds) for label, (ops, seconds) in measured.items()}
    floor_ns = results["floor_natural_add"]["ns_per_op"]
    ratios = {
        label: round(figures["ns_per_op"] / floor_ns, 1)
        for label, figures in results.items()
        if label != "floor_natural_add"
    }

    path = write_result(
        "calendar",
        {
            "n": n,
            "repeat": repeat,
            "seed": SEED,
            "workload": {
                "starts": "uniform over 2026, minute resolution, Asia/Shanghai",
                "working_hours": "0.25-40 in quarter hours",
                "working_days": "0.5-20 in halves",
                "working_between": "end 0-30 days after start",
                "calendar": "calendar_from_settings(), no overrides, warm day cache (fresh_calendar: cold)",
                "timing": f"fastest of {repeat} runs; loop overhead included, as in the floor",
            },
            "fallback_years": sorted(calendar.fallback_years),
            "results": results,
            "ratios": ratios,
        },
    )

    print(f"working calendar, n={n}, fastest of {repeat} runs")
    for label, figures in results.items():
        ratio = f"{ratios[label]:>7.1f}x floor" if label in ratios else "  (floor)"
        print(f"  {label:<33} {figures['ops_per_s']:>13,.0f} ops/s {figures['ns_per_op']:>11,.0f} ns/op  {ratio}")
    if calendar.fallback_years:
        print(f"  note: fallback (Mon-Fri) used for {', '.join(map(str, sorted(calendar.fallback_years)))}")
    print(f"written to {path}")


if __name__ == "__main__":
    main()
