#!/usr/bin/env bash
# The floor under every endpoint: requests per second of `GET /healthz` (the whole middleware
# stack and one `SELECT 1`) on the production server set-up of the other benchmarks
# (bench/http_server.sh: SERVER=granian|gunicorn, WORKERS x THREADS, CONN_MAX_AGE=600,
# DEBUG=0, PostgreSQL), load
# generator on the same machine.
#   bench/floor.sh
set -euo pipefail
cd "$(dirname "$0")/.."
WORKERS=${WORKERS:-2}
THREADS=${THREADS:-4}
export WORKERS THREADS
CLIENTS=${CLIENTS:-16}
PORT=${PORT:-8765}
psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS onestop_bench_floor" >/dev/null
psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE onestop_bench_floor" >/dev/null
export DATABASE_URL=postgres://postgres@127.0.0.1:5432/onestop_bench_floor CONN_MAX_AGE=600
export DEBUG=0 SECRET_KEY=bench-only-secret-key-0123456789abcdef ALLOWED_HOSTS=127.0.0.1,localhost ONESTOP_PACK=az
.venv/bin/python manage.py migrate -v0
.venv/bin/python manage.py shell -c "from onestop.packs.services import pack_load; pack_load('packs/az')" >/dev/null
bench/http_server.sh "$PORT" 2>/dev/null &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.5; done
echo "== machine: $(nproc) cores, $(uname -m), $(.venv/bin/python -V); ${SERVER:-granian} ${WORKERS}x${THREADS}"
.venv/bin/python bench/floor.py --base "http://127.0.0.1:$PORT" --path /healthz --clients "$CLIENTS"
