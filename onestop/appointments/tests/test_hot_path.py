"""The booking hot path: direct representations, cached slot plans, the combined claim,
and the number of SQL statements a booking and a slot listing take."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework import serializers
from rest_framework.test import APIClient, APIRequestFactory

from onestop.appointments import selectors, services
from onestop.appointments.api import BookingSerializer, SlotSerializer
from onestop.appointments.models import Booking, CapacityOverride, Slot
from onestop.centres.models import Closure
from onestop.core.problems import Conflict, DomainError

from .conftest import baku, national_ids, phone

pytestmark = pytest.mark.django_db

DAY = date(2026, 6, 10)


@pytest.fixture
def hq(loaded_mini, frozen):
    return loaded_mini.centres.select_related("country").get(code="hq")


@pytest.fixture
def ids(loaded_mini):
    return national_ids(loaded_mini, 6)


def book(hq, service, start, national_id, index=0):
    return services.booking_create(
        centre=hq, service=service, start=start, national_id=national_id, phone=phone(index)
    ).booking


def test_direct_representations_equal_drf(hq, idcard, ids):
    CapacityOverride.objects.create(centre=hq, date=DAY, capacity=2)
    fresh = book(hq, idcard, baku(2026, 6, 10, 10, 0), ids[0])
    loaded = Booking.objects.select_related("centre", "service").get(pk=fresh.pk)
    request = APIRequestFactory().get("/")
    slots = [
        {"start": s.start, "end": s.end, "capacity": s.capacity, "available": s.available}
        for s in selectors.slots_on(hq, idcard.group, DAY)
    ]
    assert slots
    for zone in ("Asia/Baku", "UTC", "America/St_Johns"):
        with timezone.override(ZoneInfo(zone)):
            for booking in (fresh, loaded):
                direct = BookingSerializer(booking, context={"request": request})
                generic = serializers.ModelSerializer.to_representation(direct, booking)
                assert direct.data == dict(generic)
                assert [type(v) for v in direct.data.values()] == [
                    type(v) for v in generic.values()
                ]
            for slot in slots:
                direct = SlotSerializer(slot)
                generic = serializers.Serializer.to_representation(direct, slot)
                assert direct.data == dict(generic)
    with timezone.override(ZoneInfo("UTC")):
        assert SlotSerializer(slots[0]).data["start"].endswith("Z")


def test_slot_plans_are_cached_but_follow_overrides_hours_and_closures(hq, idcard):
    group = idcard.group
    first = selectors.day_plan(hq, group, DAY)
    assert first
    with CaptureQueriesContext(connection) as again:
        assert selectors.day_plan(hq, group, DAY) == first
    assert len(again.captured_queries) == 1  # only the override, read fresh every time

    CapacityOverride.objects.create(centre=hq, date=DAY, capacity=3)
    assert {p.capacity for p in selectors.day_plan(hq, group, DAY)} == {3}

    weekday = DAY.strftime("%a").lower()[:3]
    key = next(k for k in hq.hours if k.lower().startswith(weekday))
    hq.hours = {**hq.hours, key: ["10:00-11:00"]}
    hq.save()  # a watched model: this process forgets its plans at once
    plan = selectors.day_plan(hq, group, DAY)
    assert [p.start for p in plan] == [
        baku(2026, 6, 10, 10, 0),
        baku(2026, 6, 10, 10, 15),
        baku(2026, 6, 10, 10, 30),
        baku(2026, 6, 10, 10, 45),
    ]

    Closure.objects.create(country=hq.country, date=DAY, name={"en": "test"})
    assert selectors.day_plan(hq, group, DAY) == []


def test_the_combined_claim_refuses_with_the_rule_that_failed_and_keeps_the_place(hq, idcard, ids):
    CapacityOverride.objects.create(centre=hq, date=DAY, capacity=1)
    book(hq, idcard, baku(2026, 6, 10, 10, 0), ids[0])
    slot = Slot.objects.get(centre=hq, start=baku(2026, 6, 10, 10, 0))
    # over the cap on a free slot: the cap, and the place stays free
    with pytest.raises(DomainError) as err:
        book(hq, idcard, baku(2026, 6, 10, 11, 0), ids[0])
    assert (err.value.field, err.value.code) == ("national_id", "booking_cap")
    # the place stays free (on PostgreSQL the refused statement did not make the row at all)
    assert not Slot.objects.filter(centre=hq, start=baku(2026, 6, 10, 11, 0), booked__gt=0).exists()
    # over the cap on a full slot: the cap is named first, as before
    with pytest.raises(DomainError) as err:
        book(hq, idcard, baku(2026, 6, 10, 10, 0), ids[0])
    assert err.value.code in ("booking_cap", "duplicate")
    # another citizen on the full slot: full
    with pytest.raises(Conflict) as err:
        book(hq, idcard, baku(2026, 6, 10, 10, 0), ids[1], index=1)
    assert err.value.code == "slot_full"
    slot.refresh_from_db()
    assert (slot.booked, Booking.objects.count()) == (1, 1)
    booking = Booking.objects.get()
    assert (booking.slot_id, booking.start, booking.end) == (slot.pk, slot.start, slot.end)


def _statements(callable_) -> int:
    with CaptureQueriesContext(connection) as ctx:
        callable_()
    return len(ctx.captured_queries)


def test_statements_per_booking_and_per_listing(
    hq, idcard, ids, django_capture_on_commit_callbacks
):
    """Pinned: a booking is the slot row (once per process), the transaction (citizen lock,
    claim with cap, booking, audit chain, outbox) and nothing more; a listing is two reads."""
    CapacityOverride.objects.create(centre=hq, date=DAY, capacity=4)
    api = APIClient()
    url = "/api/v1/centres/hq/slots/"
    api.get(url, {"service": "id-card", "date": "2026-06-10"})  # warm the reference data
    listing = _statements(lambda: api.get(url, {"service": "id-card", "date": "2026-06-10"}))
    assert listing == 2  # the day's override, the day's slot rows

    def create(index: int) -> None:
        planned = services.check_target(
            centre=hq, service=idcard, start=baku(2026, 6, 10, 10, 0), on_grid=True
        )
        services.booking_create(
            centre=hq,
            service=idcard,
            start=planned.start,
            national_id=ids[index],
            phone=phone(index),
            planned=planned,
        )

    overrides = CapacityOverride._meta.db_table
    postgresql = connection.vendor == "postgresql"
    with (
        django_capture_on_commit_callbacks(execute=False),
        CaptureQueriesContext(connection) as first,
    ):
        create(0)
    if not postgresql:  # there the booking's function reads it, for a slot's first booking
        assert any(overrides in q["sql"] for q in first.captured_queries)  # for the slot's row
    # PostgreSQL: one call of the booking's function (the citizen's lock, then one statement:
    # claim with cap, booking, audit head and event, outbox), in a savepoint inside the
    # test's own transaction (open and release: 2 more). Elsewhere a transaction (a
    # savepoint here, 2) with the citizen's lock and five statements (claim, booking, audit
    # head, audit event -- a trigger moves the head's hash -- outbox). The day's override
    # is not read: the slot's row carries the places. The slot's row was made by the first
    # booking, which read the override for it, so this process does not make sure of it
    # again.
    expected = 3 if postgresql else 8
    with (
        django_capture_on_commit_callbacks(execute=False),
        CaptureQueriesContext(connection) as second,
    ):
        create(1)
    assert len(second.captured_queries) == expected
    assert not any(
        q["sql"].startswith("SELECT") and overrides in q["sql"] for q in second.captured_queries
    )


@pytest.mark.parametrize("prefix", ["/", "/onestop/"])
def test_link_paths_equal_reversing(prefix):
    """Manage and calendar paths are reversed once per script prefix; they must equal reverse()."""
    import time_machine
    from django.urls import reverse, set_script_prefix

    from onestop.appointments import links

    set_script_prefix(prefix)
    try:
        with time_machine.travel("2026-06-08 10:15:00+00:00", tick=False):
            for code in ("ABCD2345EF", "Z" * 10, "0000000000"):
                assert links.manage_path(code) == reverse(
                    "appointments:manage", kwargs={"token": links.manage_token(code)}
                )
                assert links.calendar_path(code) == reverse(
                    "appointments:calendar", kwargs={"token": links.calendar_token(code)}
                )
                assert links.manage_path(code).startswith(prefix)
    finally:
        set_script_prefix("/")
