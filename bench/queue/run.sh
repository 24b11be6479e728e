#!/usr/bin/env bash
# Queue benchmark against the production server set-up (uvicorn, several workers, Redis layer).
#   bench/queue/run.sh postgres   # DATABASE_URL=postgres://postgres@127.0.0.1:5432/onestop_bench
#   bench/queue/run.sh sqlite     # var/bench.sqlite3
set -euo pipefail
cd "$(dirname "$0")/../.."
kind=${1:-postgres}
WORKERS=${WORKERS:-2}
CLIENTS=${CLIENTS:-50}
TICKETS=${TICKETS:-4000}
COUNTERS=${COUNTERS:-10}
PORT=${PORT:-8765}
if [ "$kind" = postgres ]; then
  psql -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS onestop_bench" >/dev/null
  psql -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE onestop_bench" >/dev/null
  export DATABASE_URL=postgres://postgres@127.0.0.1:5432/onestop_bench
  export ONESTOP_DB_POOL=1 ONESTOP_DB_POOL_MAX=${POOL_MAX:-16}
else
  rm -f var/bench.sqlite3*
  export DATABASE_URL=sqlite:///$(pwd)/var/bench.sqlite3
fi
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/5}
export DEBUG=0 SECRET_KEY=bench-only-secret-key-0123456789abcdef ALLOWED_HOSTS=127.0.0.1,localhost
export ONESTOP_PACK=az ONESTOP_RATE_LIMITS=on
redis-cli -n 5 flushdb >/dev/null
.venv/bin/python manage.py migrate -v0
.venv/bin/python bench/queue/setup_tokens.py packs/az baku-1 id-card "$COUNTERS" var/bench-tokens.json
.venv/bin/uvicorn config.asgi:application --host 127.0.0.1 --port "$PORT" --workers "$WORKERS" \
  --log-level warning --no-access-log &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null' EXIT
for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.5; done
.venv/bin/python bench/queue/load.py --base "http://127.0.0.1:$PORT" --centre baku-1 --service id-card \
  --clients "$CLIENTS" --tickets "$TICKETS" --tokens var/bench-tokens.json
