#!/usr/bin/env bash
# Booking benchmark on PostgreSQL against uvicorn with several workers (not part of the suite).
#
#   bench/appointments/run.sh            # WORKERS=3 CLIENTS=32 BOOKINGS=6000 LISTINGS=6000
#
# Rate limits are off (ONESTOP_RATE_LIMITS=off, which needs DEBUG=1); the identity step
# (one-time code -> phone token) is done beforehand by prepare.py. Results go to
# var/bench-appointments-result.json; integrity.py then reads the database and exits
# non-zero on any fault.
set -euo pipefail
cd "$(dirname "$0")/../.."
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
export CONN_MAX_AGE=${CONN_MAX_AGE:-60}
export DEBUG=1 ONESTOP_RATE_LIMITS=off ONESTOP_PACK=az
export ONESTOP_OUTBOX_DIR=${ONESTOP_OUTBOX_DIR:-$(mktemp -d)/outbox}
mkdir -p var
$PY manage.py migrate -v0
$PY bench/appointments/prepare.py --out var/bench-appointments.json
.venv/bin/uvicorn config.asgi:application --host 127.0.0.1 --port "$PORT" --workers "$WORKERS" \
  --log-level warning --no-access-log &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.5; done
echo "== machine: $(nproc) cores, $(uname -m), $($PY -V), $(psql -V | head -1)"
echo "== uvicorn workers=$WORKERS clients=$CLIENTS CONN_MAX_AGE=$CONN_MAX_AGE DEBUG=$DEBUG"
$PY bench/appointments/load.py --base "http://127.0.0.1:$PORT" --plan var/bench-appointments.json \
  --out var/bench-appointments-result.json --clients "$CLIENTS" --listings "$LISTINGS" \
  --bookings "$BOOKINGS" --hot-requests "$HOT"
$PY bench/appointments/integrity.py --result var/bench-appointments-result.json
