#!/usr/bin/env bash
# Make sure a local PostgreSQL with PostGIS runs and has the role and database
# of the default POSTGIS_URL (governance:governance@127.0.0.1/governance).
# The role is a superuser because Django's test runner creates the postgis
# extension in its test database; use a narrower role in production.
set -euo pipefail
as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi
}
if ! pg_lsclusters -h 2>/dev/null | grep -q .; then
  echo "No PostgreSQL cluster found; creating one."
  as_postgres true 2>/dev/null || true
  ver=$(ls /usr/lib/postgresql | sort -n | tail -1)
  pg_createcluster "$ver" main
fi
pg_lsclusters -h | while read -r ver name port status _; do
  if [ "$status" != online ]; then
    echo "Starting PostgreSQL $ver/$name."
    pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start || pg_ctlcluster "$ver" "$name" start
  fi
done
for _ in $(seq 50); do pg_isready -q -h 127.0.0.1 && break; sleep 0.2; done
as_postgres psql -q -v ON_ERROR_STOP=1 <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'governance') THEN
    CREATE ROLE governance LOGIN SUPERUSER PASSWORD 'governance';
  END IF;
END $$;
SQL
as_postgres psql -tAc "SELECT 1 FROM pg_database WHERE datname = 'governance'" | grep -q 1 \
  || as_postgres createdb -O governance governance
as_postgres psql -q -d governance -c "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS postgis" >/dev/null
