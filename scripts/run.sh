#!/usr/bin/env bash
# Serve the whole product: web, a Celery worker and beat. Ctrl-C stops all.
set -euo pipefail
py=.venv/bin/python
host=${HOST:-127.0.0.1}; port=${PORT:-8000}
mkdir -p .run
pids=()
cleanup() { trap - EXIT INT TERM; kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

.venv/bin/celery -A governance worker --loglevel=INFO --concurrency="${WORKERS:-2}" \
  --hostname="worker@%h" >.run/worker.log 2>&1 &
pids+=($!)
.venv/bin/celery -A governance beat --loglevel=INFO --pidfile= >.run/beat.log 2>&1 &
pids+=($!)

cat <<MSG

  Grid governance platform is starting at http://$host:$port/
    Workspace / login   http://$host:$port/
    Command centre      http://$host:$port/command/
    Measures, ranking   http://$host:$port/measures/
    Django admin        http://$host:$port/admin/
    API docs (Swagger)  http://$host:$port/api/docs/
    Health              http://$host:$port/healthz
  Celery worker and beat log to .run/worker.log and .run/beat.log.
  Demo logins are listed above (password printed by seed_demo). Ctrl-C stops everything.

MSG
if [ "${DEBUG:-0}" = 1 ]; then
  $py manage.py runserver --noreload "$host:$port" &
else
  $py manage.py collectstatic --no-input -v 0  # WhiteNoise serves STATIC_ROOT when DEBUG is off
  .venv/bin/gunicorn governance.wsgi --bind "$host:$port" --workers "${WEB_WORKERS:-3}" &
fi
pids+=($!)
wait -n "${pids[@]}"
echo "A process of the product stopped; stopping the rest." >&2
