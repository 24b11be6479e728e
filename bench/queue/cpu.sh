#!/usr/bin/env bash
# CPU per kiosk ticket issue in one process (bench/queue/cpu.py) on a fresh PostgreSQL
# database with the az pack loaded.
#   bench/queue/cpu.sh [--tickets N] [--open N] [--profile]
set -euo pipefail
cd "$(dirname "$0")/../.."
DB=${BENCH_DB:-onestop_bench_queue_cpu}
psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS $DB" >/dev/null
psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE $DB" >/dev/null
export DATABASE_URL=postgres://postgres@127.0.0.1:5432/$DB CONN_MAX_AGE=600
export DEBUG=0 SECRET_KEY=bench-only-secret-key-0123456789abcdef ALLOWED_HOSTS=127.0.0.1,localhost
export ONESTOP_PACK=az ONESTOP_RATE_LIMITS=on ONESTOP_OUTBOX_DIR=${ONESTOP_OUTBOX_DIR:-$(mktemp -d)/outbox}
.venv/bin/python manage.py migrate -v0
.venv/bin/python manage.py shell -c "from onestop.packs.services import pack_load; pack_load('packs/az')" >/dev/null
${PYSPY:-} .venv/bin/python bench/queue/cpu.py "$@"
