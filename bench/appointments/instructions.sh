#!/usr/bin/env bash
# Machine instructions per booking in one server process (the Python side: Django, DRF, the
# booking, psycopg, the Redis client), counted by valgrind's callgrind: a run of 220 bookings
# less a run of 20, divided by 200. Instruction counts do not depend on the machine's speed
# or on what else runs, so two commits compare on this VM where timings spread by 30 %.
# PostgreSQL's own work is not counted (see cpu.sh for it). About 3 minutes.
#   REDIS_URL=redis://127.0.0.1:6379/8 bench/appointments/instructions.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)"; exit 2; }
mkdir -p var
DB=${BENCH_DB:-onestop_bench_appointments_cpu}
psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1
psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE $DB" >/dev/null
export DATABASE_URL=postgres://postgres@127.0.0.1:5432/$DB CONN_MAX_AGE=600
export DJANGO_SETTINGS_MODULE=bench.appointments.settings ONESTOP_PACK=az
export DEBUG=${DEBUG:-0} BENCH_IP_LIMITS=off ONESTOP_OUTBOX_DIR=${ONESTOP_OUTBOX_DIR:-$(mktemp -d)/outbox}
export PYTHONHASHSEED=0
.venv/bin/python manage.py migrate -v0
.venv/bin/python bench/appointments/prepare.py --out var/bench-appointments-cpu.json --identities 400 >/dev/null
count() {  # prints the answers' statuses, returns the instructions in $counted
  local out
  out=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null .venv/bin/python \
    bench/appointments/instructions.py "$1" "$2" 2>&1)
  grep "^{" <<<"$out" >&2
  counted=$(grep -o "Collected : [0-9]*" <<<"$out" | grep -o "[0-9]*$")
}
count 0 20; few=$counted
count 100 220; many=$counted
echo "{\"instructions_per_booking\": $(( (many - few) / 200 ))}"
