#!/usr/bin/env bash
# Run the whole suite twice: on SpatiaLite, then on PostGIS. Both passes run
# even if the first fails; the last line counts what ran on each.
set -uo pipefail
mkdir -p var test-artifacts
redis_url=${TEST_REDIS_URL:-redis://127.0.0.1:6379/15}
declare -A url=(
  [spatialite]=${SPATIALITE_TEST_URL:-spatialite:///$PWD/var/test.sqlite3}
  [postgis]=${POSTGIS_URL:-postgis://governance:governance@127.0.0.1:5432/governance}
)
status=0
summary=()
for db in spatialite postgis; do
  echo "=== Test pass on $db ==="
  # The SpatiaLite test database is a file, as in production: a real Celery worker sees the rows
  # the test wrote (in memory such tests are skipped), and WAL and the writer queue are in play.
  DATABASE_URL=${url[$db]} REDIS_URL=$redis_url TEST_SPATIALITE_NAME=${TEST_SPATIALITE_NAME:-$PWD/var/test_db.sqlite3} \
    .venv/bin/pytest --junitxml="test-artifacts/junit-$db.xml" ${PYTEST_ARGS:-}
  rc=$?
  if [ $rc -eq 5 ]; then echo "No tests were collected on $db." >&2; fi
  [ $rc -ne 0 ] && status=1
  summary+=("$(.venv/bin/python scripts/junit_counts.py "$db" "test-artifacts/junit-$db.xml")")
done
echo
printf '%s\n' "${summary[@]}"
.venv/bin/python scripts/junit_counts.py total test-artifacts/junit-spatialite.xml test-artifacts/junit-postgis.xml
exit $status
