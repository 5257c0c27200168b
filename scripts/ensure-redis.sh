#!/usr/bin/env bash
# Make sure a Redis answers at REDIS_URL; start a local one if none does.
set -euo pipefail
url=${REDIS_URL:-redis://127.0.0.1:6379/0}
hostport=${url#redis://}; hostport=${hostport#*@}; hostport=${hostport%%/*}
host=${hostport%%:*}; port=${hostport##*:}; [ "$port" = "$host" ] && port=6379
if redis-cli -h "$host" -p "$port" ping >/dev/null 2>&1; then exit 0; fi
case "$host" in 127.0.0.1|localhost) ;; *) echo "Redis at $host:$port does not answer (REDIS_URL=$url)." >&2; exit 1;; esac
mkdir -p .run
echo "Starting a local Redis on port $port (data not persisted)."
redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
  --dir "$PWD/.run" --pidfile "$PWD/.run/redis-$port.pid" --logfile "$PWD/.run/redis-$port.log"
for _ in $(seq 50); do redis-cli -h "$host" -p "$port" ping >/dev/null 2>&1 && exit 0; sleep 0.1; done
echo "Redis did not start; see .run/redis-$port.log" >&2; exit 1
