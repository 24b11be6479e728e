"""CPU per kiosk ticket issue in one process, through the WSGI handler (no socket).

    bench/queue/cpu.sh [--tickets 2000] [--open 4] [--profile]

Each request goes through Django's WSGI handler exactly as gunicorn hands it over (the
whole middleware and view stack), without HTTP parsing. Reported per issue: the Python
CPU of this process (``time.process_time()``), the CPU of the PostgreSQL backend serving
this process's connection (read from ``/proc``; the server runs on this machine) and the
SQL statements. ``--open N`` opens N counters of the service's group first, as in a
working hall; without it nobody serves yet (the kiosks of a hall before opening).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")


def backend_cpu_seconds(pid: int) -> float:
    """utime + stime of a local process, in seconds (0 when it cannot be read)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--centre", default="baku-1")
    parser.add_argument("--service", default="id-card")
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--open", type=int, default=0, help="counters to open first")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--by-statement",
        action="store_true",
        help="also share the database CPU out by statement (sampled from /proc ticks)",
    )
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.wsgi import get_wsgi_application
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from onestop.accounts.models import Role, User
    from onestop.centres.models import Counter
    from onestop.queueing import services

    application = get_wsgi_application()
    if args.open:
        counters = Counter.objects.filter(
            centre__code=args.centre, group_links__group__services__code=args.service
        ).order_by("number")
        for counter in counters[: args.open]:
            user, _ = User.objects.get_or_create(
                username=f"cpu.{counter.pk}", defaults={"role": Role.OPERATOR, "counter": counter}
            )
            user.centres.add(counter.centre)
            services.counter_open(counter=counter, operator=user)

    body = json.dumps({"service": args.service}).encode()
    path = f"/api/v1/centres/{args.centre}/tickets/"

    def issue() -> None:
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": path,
            "SCRIPT_NAME": "",
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_ACCEPT": "application/json",
            "wsgi.input": io.BytesIO(body),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            "wsgi.version": (1, 0),
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        status = []
        chunks = application(environ, lambda s, h, exc_info=None: status.append(s))
        b"".join(chunks)
        if hasattr(chunks, "close"):
            chunks.close()
        if not status[0].startswith("201"):
            raise SystemExit(f"issue failed: {status[0]} {b''.join(chunks)[:300]!r}")

    for _ in range(100):  # warm-up: imports, caches, prepared statements
        issue()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_backend_pid()" if connection.vendor == "postgresql" else "SELECT 0"
        )
        backend = cursor.fetchone()[0]
    with CaptureQueriesContext(connection) as queries:
        issue()
    statements = len(queries.captured_queries)

    by_statement: dict[str, list[float]] = {}

    def measure(execute, sql, params, many, context):
        before = backend_cpu_seconds(backend)
        try:
            return execute(sql, params, many, context)
        finally:
            entry = by_statement.setdefault(" ".join(sql.split())[:90], [0, 0.0])
            entry[0] += 1
            entry[1] += backend_cpu_seconds(backend) - before

    profiler = cProfile.Profile() if args.profile else None
    if args.by_statement and backend:
        connection.execute_wrappers.append(measure)
    db_before = backend_cpu_seconds(backend) if backend else 0.0
    started = time.process_time()
    if profiler:
        profiler.enable()
    for _ in range(args.tickets):
        issue()
    if profiler:
        profiler.disable()
    python_ms = (time.process_time() - started) * 1000 / args.tickets
    db_ms = (
        ((backend_cpu_seconds(backend) - db_before) * 1000 / args.tickets)
        if backend
        else float("nan")
    )
    print(
        f"kiosk issue ({connection.vendor}, {args.open} counters open, {args.tickets} tickets after 100): "
        f"Python {python_ms:.2f} ms, database {db_ms:.2f} ms CPU per issue, {statements} SQL statements"
    )
    for sql, (count, seconds) in sorted(by_statement.items(), key=lambda item: -item[1][1]):
        print(f"  {seconds * 1000 / args.tickets:6.3f} ms/issue  {count:6d}x  {sql}")
    if profiler:
        stats = pstats.Stats(profiler).sort_stats(os.environ.get("SORT", "cumulative"))
        stats.print_stats(int(os.environ.get("TOP", "45")))
        if os.environ.get("CALLERS"):
            stats.print_callers(os.environ["CALLERS"])


if __name__ == "__main__":
    main()
