"""The no-op Celery round trip through Redis, against a raw Redis round trip.

    .venv/bin/python bench/bench_celery.py [--n 200] [--warmup 20]

Starts a real worker (prefork, one child, as `make run` starts them) on
REDIS_URL, then times `ping.delay().get()` n times: enqueue, a worker takes the
message, runs the task, stores the result, the caller reads it. This is the
floor later latency figures (triage of a new case) are measured against.

Its own floor is the same trip without Celery: an echo process BRPOPs a Redis
list and LPUSHes the payload back, the caller LPUSHes and BRPOPs the answer;
two network round trips through the same Redis, from one process to another.
Writes bench/results/celery.json.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid

from _common import PROJECT_DIR, setup_django, write_result

setup_django()

import redis  # noqa: E402
from django.conf import settings  # noqa: E402

from governance.celery import app  # noqa: E402
from governance.tasks import ping  # noqa: E402

ECHO = """
import sys, redis
r = redis.Redis.from_url(sys.argv[1])
inbox, outbox = sys.argv[2], sys.argv[3]
print("ready", flush=True)
while True:
    _, payload = r.brpop(inbox)
    if payload == b"stop":
        break
    r.lpush(outbox, payload)
"""


def summary(samples: list[float]) -> dict:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * len(ordered)) - 1)]
    return {
        "n": len(samples),
        "median_ms": round(statistics.median(samples) * 1000, 3),
        "p95_ms": round(p95 * 1000, 3),
        "min_ms": round(ordered[0] * 1000, 3),
        "max_ms": round(ordered[-1] * 1000, 3),
    }


def time_calls(call, n: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(n):
        began = time.perf_counter()
        call()
        samples.append(time.perf_counter() - began)
    return samples


def start_worker() -> tuple[subprocess.Popen, str]:
    hostname = f"bench-{uuid.uuid4().hex[:8]}@localhost"
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "governance", "worker", "--pool=prefork", "--concurrency=1",
         "--loglevel=WARNING", f"--hostname={hostname}", "--without-gossip", "--without-mingle"],
        cwd=PROJECT_DIR, env=os.environ | {"REDIS_URL": settings.CELERY_BROKER_URL},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("The Celery worker exited at start-up.")
        if app.control.ping(destination=[hostname], timeout=0.5):
            return process, hostname
    process.terminate()
    raise SystemExit("The Celery worker did not answer a ping within 60 s.")


def bench_celery(n: int, warmup: int) -> list[float]:
    app.control.purge()
    process, _ = start_worker()
    try:
        return time_calls(lambda: ping.delay().get(timeout=10), n, warmup)
    finally:
        process.terminate()
        process.wait(timeout=30)


def bench_raw_redis(n: int, warmup: int) -> list[float]:
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    inbox, outbox = f"bench:echo:in:{uuid.uuid4().hex}", f"bench:echo:out:{uuid.uuid4().hex}"
    echo = subprocess.Popen(
        [sys.executable, "-c", ECHO, settings.CELERY_BROKER_URL, inbox, outbox], stdout=subprocess.PIPE, text=True
    )
    echo.stdout.readline()

    def round_trip():
        client.lpush(inbox, b"ping")
        client.brpop(outbox, timeout=10)

    try:
        return time_calls(round_trip, n, warmup)
    finally:
        client.lpush(inbox, b"stop")
        echo.wait(timeout=10)
        client.delete(inbox, outbox)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args()
    floor = summary(bench_raw_redis(args.n, args.warmup))
    celery = summary(bench_celery(args.n, args.warmup))
    result = {
        "redis_url": settings.CELERY_BROKER_URL,
        "worker": "prefork, concurrency 1, acks_late, prefetch 1",
        "celery_ping_round_trip": celery,
        "floor_raw_redis_round_trip": floor,
        "ratio_median": round(celery["median_ms"] / floor["median_ms"], 2),
        "ratio_p95": round(celery["p95_ms"] / floor["p95_ms"], 2),
    }
    path = write_result("celery", result)
    print(f"Celery no-op round trip: median {celery['median_ms']} ms, p95 {celery['p95_ms']} ms")
    print(f"Raw Redis round trip:    median {floor['median_ms']} ms, p95 {floor['p95_ms']} ms")
    print(f"Ratio to floor: median {result['ratio_median']}×, p95 {result['ratio_p95']}×  → {path}")


if __name__ == "__main__":
    main()
