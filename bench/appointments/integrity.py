"""Integrity of the bookings after a benchmark run, read from the database.

    python bench/appointments/integrity.py --result var/bench-appointments-result.json

Faults counted (every one must be 0):

* overbooked slots: ``booked > capacity``;
* slots whose ``booked`` differs from the number of their active bookings;
* a citizen with two active bookings in one slot, or in one service group;
* booking codes that are not unique;
* bookings the server confirmed (201) that are not stored, and stored bookings that no
  client received (lost or phantom bookings);
* on the hot slots: more bookings than places.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--result", default=str(ROOT / "var" / "bench-appointments-result.json"))
    args = parser.parse_args()
    import django

    django.setup()
    from django.db.models import Count, F, Q

    from onestop.appointments.models import ACTIVE_STATUSES, Booking, Slot

    result = json.loads(Path(args.result).read_text(encoding="utf-8"))
    confirmed = set(result["codes"])
    active = Q(bookings__status__in=ACTIVE_STATUSES)
    slots = Slot.objects.annotate(active=Count("bookings", filter=active))
    stored = set(Booking.objects.values_list("code", flat=True))
    faults = {
        "overbooked_slots": Slot.objects.filter(booked__gt=F("capacity")).count(),
        "slot_count_mismatch": slots.exclude(booked=F("active")).count(),
        "duplicate_citizen_in_slot": Booking.objects.filter(status__in=ACTIVE_STATUSES)
        .values("slot", "national_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count(),
        "duplicate_citizen_in_group": Booking.objects.filter(status__in=ACTIVE_STATUSES)
        .values("group", "national_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count(),
        "duplicate_codes": len(result["codes"])
        - len(confirmed)
        + Booking.objects.values("code").annotate(n=Count("id")).filter(n__gt=1).count(),
        "confirmed_not_stored": len(confirmed - stored),
        "stored_not_confirmed": len(stored - confirmed),
    }
    hot = result["contention"]
    hot_created = hot["statuses"].get("201", 0)
    faults["hot_slots_over_places"] = max(0, hot_created - hot["places"])
    summary = {
        "bookings_stored": len(stored),
        "slots_touched": Slot.objects.count(),
        "hot": {"places": hot["places"], "created": hot_created, "statuses": hot["statuses"]},
        "faults": faults,
        "total_faults": sum(faults.values()),
    }
    print(json.dumps(summary, indent=2))
    sys.exit(1 if summary["total_faults"] else 0)


if __name__ == "__main__":
    main()
