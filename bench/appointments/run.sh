#!/usr/bin/env bash
# Booking benchmark on PostgreSQL against the production server set-up (not part of the suite).
#
#   bench/appointments/run.sh      # granian WSGI WORKERS=2 THREADS=4, CLIENTS=32, Redis
#
# The HTTP server is bench/http_server.sh: SERVER=granian (default, WSGI, WORKERS processes x
# THREADS threads, persistent database connections with CONN_MAX_AGE=600, as in
# docs/deployment.md), SERVER=gunicorn (gthread, the set-up before docs/adr/0005) or
# SERVER=uvicorn (the first set-up: INTERFACE=asgi|wsgi, WORKERS processes). REDIS=1 (default): cache, rate
# limit counters and Celery broker in Redis, the SMS after a booking is queued for a Celery
# worker (none runs here: its sending is not in the figures); REDIS=0 writes and sends it
# in the request. BENCH_DB_POOL=N: a PostgreSQL pool of N connections per process (needs
# psycopg-pool).
#
# Rate limits: by default DEBUG=0 and the per-ID-number and per-phone limits are on and
# counted in Redis on every booking; only the per-address limits are lifted
# (BENCH_IP_LIMITS=off, bench/appointments/settings.py), as the load generator is one
# address. LIMITS=off switches every limit off instead (ONESTOP_RATE_LIMITS=off, which
# needs DEBUG=1, the old default). The identity step (one-time code -> phone token) is done
# beforehand by prepare.py. Results go to var/bench-appointments-result.json; integrity.py
# then reads the database and exits non-zero on any fault.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p var
: > var/bench-appointments-server.log  # the servers' warnings (4xx answers are logged by Django)
WORKERS=${WORKERS:-2}
CLIENTS=${CLIENTS:-32}
BOOKINGS=${BOOKINGS:-6000}
LISTINGS=${LISTINGS:-6000}
HOT=${HOT:-2000}
RATE=${RATE:-400}  # bookings/s offered open-loop in the phase after the closed-loop one; 0: none
RATE_BOOKINGS=${RATE_BOOKINGS:-6000}
PORT=${PORT:-8766}
DB=${BENCH_DB:-onestop_bench_appointments}
PY=.venv/bin/python

psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS $DB" >/dev/null
psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE $DB" >/dev/null
export DATABASE_URL=postgres://postgres@127.0.0.1:5432/$DB
SERVER=${SERVER:-granian}
THREADS=${THREADS:-4}
INTERFACE=${INTERFACE:-asgi}
[ "$SERVER" != uvicorn ] && INTERFACE=wsgi
export SERVER WORKERS THREADS INTERFACE
if [ "${BENCH_DB_POOL:-0}" != 0 ]; then
  export CONN_MAX_AGE=0  # the pool keeps the connections
elif [ "$INTERFACE" = asgi ]; then
  # Under ASGI every request runs in its own thread: persistent connections would pile up.
  export CONN_MAX_AGE=${CONN_MAX_AGE:-0}
else
  export CONN_MAX_AGE=${CONN_MAX_AGE:-600}
fi
if [ "${REDIS:-1}" = 1 ]; then
  export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/7}
  redis-cli -n 7 flushdb >/dev/null
fi
export DJANGO_SETTINGS_MODULE=bench.appointments.settings
if [ "${LIMITS:-on}" = off ]; then
  export DEBUG=1 ONESTOP_RATE_LIMITS=off
else
  export DEBUG=${DEBUG:-0} BENCH_IP_LIMITS=off
  export SECRET_KEY=${SECRET_KEY:-bench-only-secret-key-0123456789abcdef}
fi
export ONESTOP_PACK=az ALLOWED_HOSTS=127.0.0.1,localhost
export ONESTOP_OUTBOX_DIR=${ONESTOP_OUTBOX_DIR:-$(mktemp -d)/outbox}
$PY manage.py migrate -v0
$PY bench/appointments/prepare.py --out var/bench-appointments.json \
  --identities $((BOOKINGS + RATE_BOOKINGS + HOT))
bench/http_server.sh "$PORT" 2>>var/bench-appointments-server.log &
server=$!
described="$SERVER ${INTERFACE} workers=$WORKERS threads=$THREADS"
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
up=0
for _ in $(seq 1 120); do
  if curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null; then up=1; break; fi
  kill -0 $server 2>/dev/null || break
  sleep 0.5
done
[ "$up" = 1 ] || { echo "the server did not start"; exit 1; }
echo "== machine: $(nproc) cores, $(uname -m), $($PY -V), $(psql -V | head -1)"
echo "== $described clients=$CLIENTS CONN_MAX_AGE=$CONN_MAX_AGE" \
  "pool=${BENCH_DB_POOL:-0} redis=${REDIS:-1} DEBUG=$DEBUG rate-limits=${LIMITS:-on, per-address off}"
$PY bench/appointments/load.py --base "http://127.0.0.1:$PORT" --plan var/bench-appointments.json \
  --out var/bench-appointments-result.json --clients "$CLIENTS" --listings "$LISTINGS" \
  --bookings "$BOOKINGS" --hot-requests "$HOT" --rate "$RATE" --rate-bookings "$RATE_BOOKINGS"
$PY bench/appointments/integrity.py --result var/bench-appointments-result.json
