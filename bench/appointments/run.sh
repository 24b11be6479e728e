#!/usr/bin/env bash
# Booking benchmark on PostgreSQL against uvicorn with several workers (not part of the suite).
#
#   bench/appointments/run.sh            # WORKERS=3 CLIENTS=32 BOOKINGS=6000 LISTINGS=6000
#
# INTERFACE=asgi|wsgi (uvicorn's interface; with wsgi a fixed thread pool keeps persistent
# database connections), REDIS=1 (cache, channel layer and Celery broker in Redis: the SMS
# after a booking is queued for a Celery worker instead of being written in the request),
# BENCH_DB_POOL=N (a PostgreSQL pool of N connections per process, needs psycopg-pool).
#
# Rate limits are off (ONESTOP_RATE_LIMITS=off, which needs DEBUG=1); the identity step
# (one-time code -> phone token) is done beforehand by prepare.py. Results go to
# var/bench-appointments-result.json; integrity.py then reads the database and exits
# non-zero on any fault.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p var
WORKERS=${WORKERS:-3}
CLIENTS=${CLIENTS:-32}
BOOKINGS=${BOOKINGS:-6000}
LISTINGS=${LISTINGS:-6000}
HOT=${HOT:-2000}
PORT=${PORT:-8766}
DB=${BENCH_DB:-onestop_bench_appointments}
PY=.venv/bin/python

psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS $DB" >/dev/null
psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE $DB" >/dev/null
export DATABASE_URL=postgres://postgres@127.0.0.1:5432/$DB
INTERFACE=${INTERFACE:-asgi}
if [ "${BENCH_DB_POOL:-0}" != 0 ]; then
  export CONN_MAX_AGE=0  # the pool keeps the connections
elif [ "$INTERFACE" = asgi ]; then
  # Under ASGI every request runs in its own thread: persistent connections would pile up.
  export CONN_MAX_AGE=${CONN_MAX_AGE:-0}
else
  export CONN_MAX_AGE=${CONN_MAX_AGE:-60}
fi
if [ "${REDIS:-0}" = 1 ]; then
  export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/7}
  redis-cli -n 7 flushdb >/dev/null
fi
export DJANGO_SETTINGS_MODULE=bench.appointments.settings
export DEBUG=1 ONESTOP_RATE_LIMITS=off ONESTOP_PACK=az
export ONESTOP_OUTBOX_DIR=${ONESTOP_OUTBOX_DIR:-$(mktemp -d)/outbox}
mkdir -p var
$PY manage.py migrate -v0
$PY bench/appointments/prepare.py --out var/bench-appointments.json
app=config.asgi:application interface=asgi3
if [ "$INTERFACE" = wsgi ]; then app=config.wsgi:application interface=wsgi; fi
.venv/bin/uvicorn "$app" --interface "$interface" --host 127.0.0.1 --port "$PORT" \
  --workers "$WORKERS" --log-level warning --no-access-log &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
up=0
for _ in $(seq 1 120); do
  if curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null; then up=1; break; fi
  kill -0 $server 2>/dev/null || break
  sleep 0.5
done
[ "$up" = 1 ] || { echo "the server did not start"; exit 1; }
echo "== machine: $(nproc) cores, $(uname -m), $($PY -V), $(psql -V | head -1)"
echo "== uvicorn $INTERFACE workers=$WORKERS clients=$CLIENTS CONN_MAX_AGE=$CONN_MAX_AGE" \
  "pool=${BENCH_DB_POOL:-0} redis=${REDIS:-0} DEBUG=$DEBUG rate-limits=off"
$PY bench/appointments/load.py --base "http://127.0.0.1:$PORT" --plan var/bench-appointments.json \
  --out var/bench-appointments-result.json --clients "$CLIENTS" --listings "$LISTINGS" \
  --bookings "$BOOKINGS" --hot-requests "$HOT"
$PY bench/appointments/integrity.py --result var/bench-appointments-result.json
