#!/usr/bin/env bash
# Queue benchmark against the production server set-up (not part of the test suite):
# bench/http_server.sh (SERVER=granian|gunicorn, WSGI, WORKERS processes × THREADS threads,
# persistent database connections) serves HTTP, uvicorn (ASGI) serves the board's WebSocket, Redis carries the channel
# layer between them, as behind the reverse proxy of docs/deployment.md.
#
#   bench/queue/run.sh postgres   # DATABASE_URL=postgres://postgres@127.0.0.1:5432/onestop_bench
#   bench/queue/run.sh sqlite     # var/bench.sqlite3
#
# CLIENTS concurrent kiosk clients (closed loop: each sends its next request when the last
# one is answered), TICKETS tickets, COUNTERS operator loops. SPREAD=1 issues across every
# centre and service of the network instead of baku-1's ID cards (issue throughput and
# numbering integrity only, no counter phase). WARMUP untimed tickets first (200).
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p var
kind=${1:-postgres}
WORKERS=${WORKERS:-2}
THREADS=${THREADS:-4}
export WORKERS THREADS
CLIENTS=${CLIENTS:-16}
TICKETS=${TICKETS:-6000}
COUNTERS=${COUNTERS:-10}
PORT=${PORT:-8765}
WS_PORT=${WS_PORT:-8764}
if [ "$kind" = postgres ]; then
  psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS onestop_bench" >/dev/null
  psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE onestop_bench" >/dev/null
  export DATABASE_URL=postgres://postgres@127.0.0.1:5432/onestop_bench
else
  rm -f var/bench.sqlite3*
  export DATABASE_URL=sqlite:///$(pwd)/var/bench.sqlite3
fi
export CONN_MAX_AGE=${CONN_MAX_AGE:-600}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/5}
export DEBUG=0 SECRET_KEY=bench-only-secret-key-0123456789abcdef ALLOWED_HOSTS=127.0.0.1,localhost
export ONESTOP_PACK=az ONESTOP_RATE_LIMITS=on
redis-cli -n "${REDIS_URL##*/}" flushdb >/dev/null
.venv/bin/python manage.py migrate -v0
.venv/bin/python bench/queue/setup_tokens.py packs/az baku-1 id-card "$COUNTERS" var/bench-tokens.json
bench/http_server.sh "$PORT" &
http=$!
.venv/bin/uvicorn config.asgi:application --host 127.0.0.1 --port "$WS_PORT" --log-level warning \
  --no-access-log &
ws=$!
trap 'kill $http $ws 2>/dev/null; wait $http $ws 2>/dev/null || true' EXIT
for port in "$PORT" "$WS_PORT"; do
  up=0
  for _ in $(seq 1 120); do
    if curl -sf "http://127.0.0.1:$port/healthz" >/dev/null; then up=1; break; fi
    sleep 0.5
  done
  [ "$up" = 1 ] || { echo "the server on port $port did not start"; exit 1; }
done
echo "== machine: $(nproc) cores, $(uname -m), $(.venv/bin/python -V), database $kind"
echo "== ${SERVER:-granian} workers=$WORKERS threads=$THREADS, uvicorn for WebSockets, clients=$CLIENTS"
.venv/bin/python bench/queue/load.py --base "http://127.0.0.1:$PORT" --ws-base "http://127.0.0.1:$WS_PORT" \
  --centre baku-1 --service id-card --clients "$CLIENTS" --tickets "$TICKETS" --tokens var/bench-tokens.json \
  --warmup "${WARMUP:-200}" ${SPREAD:+--spread}
