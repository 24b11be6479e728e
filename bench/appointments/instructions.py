"""Bookings through Django's test client, for counting instructions (``instructions.sh``).

    python bench/appointments/instructions.py SKIP COUNT

Warms up with 30 slot listings, then books ``COUNT`` targets of the plan from ``SKIP`` on,
each by another citizen, and prints the answers' statuses to stderr. The Celery hand-off
and the expiry of cached reference data are switched off (they run by the wall clock).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.appointments.settings")


def main() -> None:
    import django

    django.setup()
    from django.test import Client

    from onestop.core import localcache
    from onestop.notifications import services as notifications

    # Two things run by the wall clock, which valgrind slows fifty-fold: the outbox's hand-off
    # to Celery (once per 0.25 s per process, so about once per booking here against once per
    # fifty on the server) and the expiry of the reference data each process keeps (30 s).
    # Both are left out, so that the count does not depend on how fast the run went.
    notifications.HANDOFF_SECONDS = 10**6

    class _StoppedClock:
        @staticmethod
        def monotonic() -> float:
            return 0.0

    localcache.time = _StoppedClock  # type: ignore[assignment]

    skip, count = int(sys.argv[1]), int(sys.argv[2])
    plan = json.loads((ROOT / "var" / "bench-appointments-cpu.json").read_text(encoding="utf-8"))
    client = Client(HTTP_ACCEPT="application/json")
    for url in plan["listings"][:30]:
        client.get(url)
    statuses: dict[int, int] = {}
    targets = plan["targets"][skip : skip + count]
    people = plan["identities"][skip : skip + count]
    for (centre, service, start), person in zip(targets, people, strict=True):
        body = json.dumps({"centre": centre, "service": service, "start": start, **person})
        response = client.post("/api/v1/bookings/", body, content_type="application/json")
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    print(json.dumps(statuses), file=sys.stderr)


if __name__ == "__main__":
    main()
