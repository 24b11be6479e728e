"""The slot calculator (pure) and the slot plans the selectors build from a loaded pack."""

from __future__ import annotations

from datetime import date, time
from fractions import Fraction

import pytest
import time_machine
from hypothesis import given
from hypothesis import strategies as st

from onestop.appointments import selectors
from onestop.appointments.models import CapacityOverride
from onestop.appointments.slots import counter_share, per_slot_capacity, plan_day, slot_starts
from onestop.catalogue.models import ServiceGroup

from .conftest import BAKU, baku


def _first_local(plan) -> str:
    return plan[0].start.astimezone(BAKU).strftime("%H:%M")


# --------------------------------------------------------------------------- pure


def test_counter_time_is_split_by_priority_level():
    assert counter_share([1], 1) == 1
    assert counter_share([1, 2], 1) == Fraction(2, 3)
    assert counter_share([1, 2], 2) == Fraction(1, 3)
    assert counter_share([1, 2, 3], 3) == Fraction(2, 11)  # (1/3) / (1 + 1/2 + 1/3)


def test_places_per_slot_follow_counters_handling_time_and_share():
    # two counters serving only this group, 15-minute slots, 10 minutes each, half for bookings
    assert per_slot_capacity(
        slot_minutes=15,
        counter_shares=[Fraction(1), Fraction(1)],
        mean_handling_minutes=Fraction(10),
        share_for_bookings=Fraction(1, 2),
    ) == Fraction(3, 2)
    assert (
        per_slot_capacity(
            slot_minutes=15,
            counter_shares=[],
            mean_handling_minutes=Fraction(10),
            share_for_bookings=Fraction(1, 2),
        )
        == 0
    )


def test_slots_fit_inside_each_opening_interval():
    starts = slot_starts([(time(14, 0), time(15, 0)), (time(9, 0), time(10, 10))], 20)
    assert starts == [
        (time(9, 0), time(9, 20)),
        (time(9, 20), time(9, 40)),
        (time(9, 40), time(10, 0)),
        (time(14, 0), time(14, 20)),
        (time(14, 20), time(14, 40)),
        (time(14, 40), time(15, 0)),
    ]


def _plan(**overrides):
    args = {
        "day": date(2026, 6, 8),
        "tz": "Asia/Baku",
        "intervals": [(time(9), time(11))],
        "slot_minutes": 15,
        "counter_shares": [Fraction(2, 3)],
        "mean_handling_minutes": Fraction(8),
        "share_for_bookings": Fraction(1, 2),
    }
    args.update(overrides)
    return plan_day(**args)


def test_fractional_places_are_spread_so_the_day_total_is_exact():
    plan = _plan(include_empty=True)  # 0.625 places per slot
    assert [s.capacity for s in plan] == [1, 0, 1, 1, 0, 1, 0, 1]
    assert sum(s.capacity for s in plan) == 5  # 8 x 0.625
    offered = _plan()
    assert len(offered) == 5 and all(s.capacity == 1 for s in offered)


def test_times_are_local_at_the_centre_and_stored_in_utc():
    first = _plan()[0]
    assert first.start.isoformat() == "2026-06-08T05:00:00+00:00"  # 09:00 in Baku (UTC+4)
    assert first.end.isoformat() == "2026-06-08T05:15:00+00:00"


def test_closed_day_and_no_hours_give_no_slots_and_an_override_does_not_open_them():
    assert _plan(closed=True) == []
    assert _plan(closed=True, override=5) == []
    assert _plan(intervals=[]) == []


def test_override_sets_every_slot_and_zero_stops_booking():
    plan = _plan(override=3)
    assert len(plan) == 8 and {s.capacity for s in plan} == {3}
    assert _plan(override=0) == []


# --------------------------------------------------------------------------- from the pack


@pytest.fixture
def idcard(loaded_mini):
    return ServiceGroup.objects.get(country=loaded_mini, code="idcard")


def test_a_countrys_reference_data_is_read_at_once_for_every_lane(
    loaded_mini, idcard, django_assert_num_queries
):
    from onestop.core import localcache

    civil = ServiceGroup.objects.get(country=loaded_mini, code="civil")
    hq, north, bus = (loaded_mini.centres.get(code=c) for c in ("hq", "north", "bus"))
    localcache.clear()
    # centres (+ their routes), services, mean handling times, counters' groups
    with django_assert_num_queries(5):
        selectors.country_reference(loaded_mini.pk)
    with django_assert_num_queries(0):
        lanes = {
            (centre.code, group.code): selectors.group_capacity(centre, group)
            for centre in (hq, north, bus)
            for group in (idcard, civil)
        }
        assert selectors.centre_by_code(loaded_mini, "bus").route.all()[0].date == date(2026, 12, 1)
        assert selectors.service_by_code(loaded_mini, "birth").group.code == "civil"
    # counter 1 of hq serves idcard at level 1 and civil at level 2; counter 2 civil alone
    assert sorted(lanes["hq", "idcard"].counter_shares) == [Fraction(2, 3)]
    assert sorted(lanes["hq", "civil"].counter_shares) == [Fraction(1, 3), Fraction(1)]
    assert lanes["north", "idcard"].counter_shares == (Fraction(1),)
    assert lanes["north", "civil"].counter_shares == ()
    assert lanes["bus", "civil"].counter_shares == (Fraction(1),)
    assert lanes["bus", "idcard"].counter_shares == ()
    assert {lane.mean_handling_minutes for key, lane in lanes.items() if key[1] == "idcard"} == {8}
    assert {lane.mean_handling_minutes for key, lane in lanes.items() if key[1] == "civil"} == {12}
    # a code the snapshot does not know is looked up again (a centre opened elsewhere)
    with django_assert_num_queries(1):
        assert selectors.centre_by_code(loaded_mini, "nowhere") is None


def test_hq_plan_uses_its_counters_and_hours(loaded_mini, idcard):
    hq = loaded_mini.centres.get(code="hq")
    # idcard at hq: counter 1 only, idcard at level 1 next to civil at level 2: 2/3 of its time
    assert selectors.group_capacity(hq, idcard).counter_shares == (Fraction(2, 3),)
    assert selectors.group_capacity(hq, idcard).mean_handling_minutes == 8
    with time_machine.travel(baku(2026, 6, 8, 7), tick=False):
        plan = selectors.day_plan(hq, idcard, date(2026, 6, 8))
    # 09:00-18:00 is 36 slots x 0.625 = 22.5 -> 23 places (rounded half up)
    assert sum(s.capacity for s in plan) == 23
    assert _first_local(plan) == "09:00"


def test_saturday_follows_opening_hours_although_it_is_the_weekend(loaded_mini, idcard):
    hq = loaded_mini.centres.get(code="hq")
    saturday = date(2026, 6, 13)
    plan = selectors.day_plan(hq, idcard, saturday)
    assert plan, "hq opens 10:00-14:00 on Saturdays: bookable"
    assert _first_local(plan) == "10:00"
    assert selectors.day_plan(hq, idcard, date(2026, 6, 14)) == []  # Sunday: no hours


def test_no_slots_on_a_public_holiday_or_a_pack_closure(loaded_mini, idcard):
    hq = loaded_mini.centres.get(code="hq")
    assert selectors.day_plan(hq, idcard, date(2026, 6, 15)) == []  # National Liberation Day
    assert selectors.day_plan(hq, idcard, date(2026, 12, 30)) == []  # pack closure (maintenance)
    assert selectors.day_plan(hq, idcard, date(2026, 12, 29)) != []


def test_a_holiday_is_skipped_when_looking_for_free_days(loaded_mini, idcard):
    hq = loaded_mini.centres.get(code="hq")
    with time_machine.travel(baku(2026, 6, 14, 12), tick=False):  # Sunday before the holiday
        days = [d for d, _ in selectors.free_days(hq, idcard, limit=3)]
    assert days == [date(2026, 6, 16), date(2026, 6, 17), date(2026, 6, 18)]


def test_mobile_unit_has_slots_only_on_its_route_days(loaded_mini):
    bus = loaded_mini.centres.get(code="bus")
    civil = ServiceGroup.objects.get(country=loaded_mini, code="civil")
    assert selectors.day_plan(bus, civil, date(2026, 12, 1))
    assert selectors.day_plan(bus, civil, date(2026, 12, 2)) == []


def test_capacity_override_for_a_group_wins_over_one_for_all_groups(loaded_mini, idcard):
    hq = loaded_mini.centres.get(code="hq")
    day = date(2026, 6, 9)
    CapacityOverride.objects.create(centre=hq, date=day, capacity=2)
    assert {s.capacity for s in selectors.day_plan(hq, idcard, day)} == {2}
    CapacityOverride.objects.create(centre=hq, date=day, group=idcard, capacity=4)
    assert {s.capacity for s in selectors.day_plan(hq, idcard, day)} == {4}


@given(numerator=st.integers(0, 10**6), denominator=st.integers(1, 10**6), slots=st.integers(0, 200))
def test_rounded_share_equals_fraction_arithmetic(numerator, denominator, slots):
    from math import floor

    from onestop.appointments.slots import HALF, rounded_share

    per_slot = Fraction(numerator, denominator)
    assert rounded_share(per_slot, slots) == floor(per_slot * slots + HALF)
