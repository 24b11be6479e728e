"""CPU and SQL statements per slot listing and per booking, in one process (no HTTP server).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/onestop_bench_appointments_cpu \
    DJANGO_SETTINGS_MODULE=bench.appointments.settings ONESTOP_PACK=az \
        python bench/appointments/cpu.py --plan var/bench-appointments-cpu.json [--profile]

Needs a database prepared by ``prepare.py`` (``run.sh`` does that; ``cpu.sh`` does it
for this script alone). Requests go through Django's test client (the whole middleware and
DRF stack, no socket); ``time.process_time()`` counts this process's CPU only, so the
database's own CPU is not in the figure. ``--profile`` prints the top of a cProfile of the
booking phase.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.appointments.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plan", default=str(ROOT / "var" / "bench-appointments-cpu.json"))
    parser.add_argument("--listings", type=int, default=600)
    parser.add_argument("--bookings", type=int, default=600)
    parser.add_argument("--skip", type=int, default=0, help="targets/identities already used")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    plan = json.loads(Path(args.plan).read_text(encoding="utf-8"))
    client = Client(HTTP_ACCEPT="application/json")
    urls = plan["listings"]
    for url in urls[:50]:  # warm-up: imports, caches, prepared statements
        client.get(url)

    # BENCH_PROFILE_CPU=1 counts this process's CPU instead of wall time (PostgreSQL's
    # and Redis's replies then cost only the client's own work).
    timer = time.process_time if os.environ.get("BENCH_PROFILE_CPU") else time.perf_counter
    listing_profiler = cProfile.Profile(timer) if args.profile else None
    started = time.process_time()
    if listing_profiler:
        listing_profiler.enable()
    for index in range(args.listings):
        response = client.get(urls[index % len(urls)])
        assert response.status_code == 200, response.content[:300]
    if listing_profiler:
        listing_profiler.disable()
        listing_profiler.dump_stats(str(ROOT / "var" / "bench-appointments-cpu-listing.prof"))
    listing_ms = (time.process_time() - started) * 1000 / args.listings
    with CaptureQueriesContext(connection) as listing_sql:
        client.get(urls[7])

    def bodies(offset: int, count: int):
        targets = plan["targets"][args.skip + offset : args.skip + offset + count]
        people = plan["identities"][args.skip + offset : args.skip + offset + count]
        for (centre, service, start), person in zip(targets, people, strict=True):
            yield json.dumps({"centre": centre, "service": service, "start": start, **person})

    for body in bodies(0, 20):  # warm-up
        client.post("/api/v1/bookings/", body, content_type="application/json")
    sys.path.insert(0, str(ROOT / "bench" / "queue"))
    from cpu import backend_cpu_seconds  # the queue bench's reader of /proc

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()" if connection.vendor == "postgresql" else "SELECT 0")
        backend = int(cursor.fetchone()[0])
    backend_started = backend_cpu_seconds(backend) if backend else 0.0
    profiler = cProfile.Profile(timer) if args.profile else None
    statuses: dict[int, int] = {}
    started = time.process_time()
    if profiler:
        profiler.enable()
    for body in bodies(20, args.bookings):
        response = client.post("/api/v1/bookings/", body, content_type="application/json")
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    if profiler:
        profiler.disable()
    booking_ms = (time.process_time() - started) * 1000 / args.bookings
    database_ms = ((backend_cpu_seconds(backend) - backend_started) * 1000 / args.bookings) if backend else None
    body = next(bodies(20 + args.bookings, 1))
    with CaptureQueriesContext(connection) as booking_sql:
        response = client.post("/api/v1/bookings/", body, content_type="application/json")
    print(
        json.dumps(
            {
                "listing_cpu_ms": round(listing_ms, 2),
                "listing_sql": len(listing_sql.captured_queries),
                "booking_cpu_ms": round(booking_ms, 2),
                "booking_database_cpu_ms": None if database_ms is None else round(database_ms, 2),
                "booking_sql": len(booking_sql.captured_queries),
                "booking_statuses": statuses,
                "last_booking_status": response.status_code,
            }
        )
    )
    if os.environ.get("BENCH_SHOW_SQL"):
        for query in booking_sql.captured_queries:
            print("  ", query["sql"][:200])
    if profiler:
        profiler.dump_stats(os.environ.get("BENCH_PROFILE_OUT", "var/bench-appointments-cpu.prof"))
        pstats.Stats(profiler).sort_stats(os.environ.get("SORT", "cumulative")).print_stats(
            int(os.environ.get("TOP", "45"))
        )


if __name__ == "__main__":
    main()
