#!/usr/bin/env bash
# CPU per request in one process (bench/appointments/cpu.py) on a fresh PostgreSQL database.
#   bench/appointments/cpu.sh [--profile]
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p var
DB=${BENCH_DB:-onestop_bench_appointments_cpu}
psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS $DB" >/dev/null
psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE $DB" >/dev/null
export DATABASE_URL=postgres://postgres@127.0.0.1:5432/$DB CONN_MAX_AGE=600
export DJANGO_SETTINGS_MODULE=bench.appointments.settings ONESTOP_PACK=az
export DEBUG=${DEBUG:-0} BENCH_IP_LIMITS=off ONESTOP_OUTBOX_DIR=${ONESTOP_OUTBOX_DIR:-$(mktemp -d)/outbox}
.venv/bin/python manage.py migrate -v0
.venv/bin/python bench/appointments/prepare.py --out var/bench-appointments-cpu.json --identities 2000 >/dev/null
${PYSPY:-} .venv/bin/python bench/appointments/cpu.py --plan var/bench-appointments-cpu.json "$@"
