"""Prepare the booking benchmark: pack, capacity overrides, identities verified beforehand, targets.

Run with the same settings as the server (DATABASE_URL, ONESTOP_PACK=az):

    python bench/appointments/prepare.py --out var/bench-appointments.json

* loads ``packs/az``;
* picks the first weekday at least two days ahead that is not a holiday (the *bench day*)
  and the next one (the *hot day*);
* gives every slot of every centre ``--capacity`` places on the bench day (a capacity
  override for all groups), and ``--hot-capacity`` places on the hot day at one centre;
* makes ``--identities`` citizens: a valid FIN code, a phone number and a phone token,
  which is what ``POST /api/v1/otp/verify/`` returns after the one-time code: the
  identity step is done beforehand, as the benchmark measures booking, not SMS codes;
* lists the booking targets (centre, service, start) round-robin over centres, service
  groups and slots, the hot targets (``--hot-slots`` slots of one centre), and the
  slot-listing URLs (every centre x service group x the next 14 days).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "var" / "bench-appointments.json"))
    parser.add_argument("--identities", type=int, default=12000)
    parser.add_argument("--capacity", type=int, default=4, help="places per slot on the bench day")
    parser.add_argument("--hot-capacity", type=int, default=20, help="places per hot slot")
    parser.add_argument("--hot-slots", type=int, default=10)
    args = parser.parse_args()

    import django

    django.setup()
    from onestop.appointments import links, selectors
    from onestop.appointments.models import CapacityOverride
    from onestop.core import clock
    from onestop.packs.models import Country
    from onestop.packs.national_id import NationalIdFormat
    from onestop.packs.services import pack_load

    pack_load(ROOT / "packs" / "az")
    country = Country.objects.get(code="az")
    calendar = country.calendar()
    today = clock.local_today(country.time_zone)
    days = []
    day = today + timedelta(days=2)
    while len(days) < 2:
        if day.weekday() < 5 and not calendar.is_holiday(day):
            days.append(day)
        day += timedelta(days=1)
    bench_day, hot_day = days

    services = selectors.bookable_services(country)
    one_per_group = {}
    for service in services:
        one_per_group.setdefault(service.group_id, service)
    centres = [
        c for c in country.centres.filter(archived_at__isnull=True, kind="fixed").order_by("code")
    ]
    CapacityOverride.objects.filter(centre__country=country, date__in=days).delete()
    for centre in centres:
        CapacityOverride.objects.create(
            centre=centre, date=bench_day, capacity=args.capacity, reason="benchmark"
        )
    hot_centre = centres[0]
    CapacityOverride.objects.create(
        centre=hot_centre, date=hot_day, capacity=args.hot_capacity, reason="benchmark"
    )
    selectors.clear_input_cache()

    # Booking targets: (centre, service, start), each slot repeated `capacity` times,
    # interleaved so that consecutive requests go to different centres and groups.
    lanes = []
    for centre in centres:
        for service in one_per_group.values():
            if not selectors.service_offered_at(service, centre):
                continue
            plan = selectors.day_plan(centre, service.group, bench_day)
            lanes.append([(centre.code, service.code, slot.start.isoformat()) for slot in plan])
    targets = []
    for round_ in range(max(len(lane) for lane in lanes)):
        for lane in lanes:
            if round_ < len(lane):
                targets.extend([lane[round_]])
    targets = [t for t in targets for _ in range(args.capacity)]
    # re-interleave so that the `capacity` requests of one slot are spread out
    stride = max(1, len(targets) // args.capacity)
    targets = [targets[(i % stride) * args.capacity + i // stride] for i in range(len(targets))]

    hot_service = next(
        s for s in one_per_group.values() if selectors.service_offered_at(s, hot_centre)
    )
    hot_plan = selectors.day_plan(hot_centre, hot_service.group, hot_day)[: args.hot_slots]
    hot_targets = [(hot_centre.code, hot_service.code, slot.start.isoformat()) for slot in hot_plan]

    listings = []
    for centre in centres:
        for service in one_per_group.values():
            if selectors.service_offered_at(service, centre):
                for offset in range(14):
                    listings.append(
                        f"/api/v1/centres/{centre.code}/slots/?service={service.code}"
                        f"&date={(today + timedelta(days=offset)).isoformat()}"
                    )

    fmt = NationalIdFormat.from_pack(country.national_id)
    ids = fmt.samples(args.identities, seed=2026)
    identities = []
    for index, national_id in enumerate(ids):
        phone = f"+99450{1000000 + index:07d}"
        identities.append(
            {"national_id": national_id, "phone": phone, "phone_token": links.phone_token(phone)}
        )

    plan = {
        "bench_day": bench_day.isoformat(),
        "hot_day": hot_day.isoformat(),
        "capacity": args.capacity,
        "hot_capacity": args.hot_capacity,
        "targets": targets,
        "hot_targets": hot_targets,
        "listings": listings,
        "identities": identities,
    }
    Path(args.out).write_text(json.dumps(plan), encoding="utf-8")
    print(
        f"bench day {bench_day}: {len(targets)} places in {len(lanes)} centre x group lanes; "
        f"hot day {hot_day}: {len(hot_targets)} slots x {args.hot_capacity} at {hot_centre.code}; "
        f"{len(listings)} listing URLs; {len(identities)} identities"
    )


if __name__ == "__main__":
    main()
