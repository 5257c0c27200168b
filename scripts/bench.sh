#!/usr/bin/env bash
# Run every benchmark in bench/; each writes bench/results/<name>.json.
# Benchmarks that touch a database run on SpatiaLite (a throw-away file under
# var/bench/) and on PostGIS (BENCH_POSTGIS_URL, created here if missing).
set -euo pipefail
mkdir -p bench/results var/bench
export REDIS_URL=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/14}
postgis=${BENCH_POSTGIS_URL:-postgis://governance:governance@127.0.0.1:5432/governance_bench}
db=${postgis##*/}
as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }
if ! as_postgres psql -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
  as_postgres createdb -O governance "$db"
  as_postgres psql -q -d "$db" -c "CREATE EXTENSION postgis"
fi
py=.venv/bin/python
echo "=== working calendar ===";          $py bench/bench_calendar.py
echo "=== Celery round trip ===";         $py bench/bench_celery.py
echo "=== grid lookup, SpatiaLite ===";   $py bench/bench_grids_lookup.py --database-url "spatialite:///$PWD/var/bench/grids_lookup.sqlite3"
echo "=== grid lookup, PostGIS ===";      $py bench/bench_grids_lookup.py --database-url "$postgis"
echo "=== unification, both ===";         $py bench/bench_grids_unify.py \
  --database-url "spatialite:///$PWD/var/bench/unify.sqlite3" --database-url "${postgis%/*}/governance_bench_unify"
echo "=== SLA sweep, PostGIS (1,000,000 open cases) ==="; $py bench/bench_sla_sweep.py --database-url "${postgis%/*}/governance_bench_sweep"
echo "=== measures (KPI), PostGIS (1,000,000 cases) ==="; $py bench/bench_kpi.py --database-url "${postgis%/*}/governance_bench_kpi"
echo "=== case transitions, both (2,000 cases; 4 connections on PostGIS) ==="; $py bench/bench_transitions.py \
  --database-url "spatialite:///$PWD/var/bench/transitions.sqlite3" --database-url "${postgis%/*}/governance_bench_transitions"
echo "=== concurrent writers over HTTP, both (1–32 clients filing reports) ==="; $py bench/bench_concurrent_writers.py \
  --database-url "spatialite:///$PWD/var/bench/writers.sqlite3" --database-url "${postgis%/*}/governance_bench"
