"""Every booking rule at its edges, with a frozen clock (Testland pack, centre hq, Asia/Baku)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine

from onestop.appointments import services
from onestop.appointments.models import (
    Booking,
    BookingStatus,
    CapacityOverride,
    CitizenRecord,
    Slot,
)
from onestop.appointments.sweeps import mark_no_shows, send_reminders
from onestop.audit.models import AuditEvent
from onestop.catalogue.models import Service
from onestop.core.problems import Conflict, DomainError
from onestop.notifications.models import OutboxMessage
from onestop.queueing.models import Source, Ticket

from .conftest import MONDAY, baku, national_ids, phone

pytestmark = pytest.mark.django_db


@pytest.fixture
def hq(loaded_mini):
    return loaded_mini.centres.select_related("country").get(code="hq")


@pytest.fixture
def birth(loaded_mini):
    return Service.objects.select_related("group").get(country=loaded_mini, code="birth")


@pytest.fixture
def ids(loaded_mini):
    return national_ids(loaded_mini, 10)


@pytest.fixture
def clock_at():
    """Travel to a local Baku time: ``clock_at(2026, 6, 8, 9, 30)``; the clock stands still."""
    travellers = []

    def go(*args):
        if travellers:
            travellers.pop().stop()
        traveller = time_machine.travel(baku(*args), tick=False)
        traveller.start()
        travellers.append(traveller)

    go(2026, 6, 8, 7, 0)
    yield go
    for traveller in travellers:
        traveller.stop()


def _room(hq, day: date, capacity: int = 2) -> None:
    """Every slot of ``day`` gets ``capacity`` places, so every quarter hour is bookable."""
    CapacityOverride.objects.create(centre=hq, date=day, capacity=capacity)


def book(hq, service, start, national_id, index=0, **kwargs):
    return services.booking_create(
        centre=hq,
        service=service,
        start=start,
        national_id=national_id,
        phone=phone(index),
        language="en",
        **kwargs,
    ).booking


# --------------------------------------------------------------------------- creating


def test_a_booking_takes_one_place_records_an_audit_event_and_queues_the_confirmation(
    hq, idcard, ids, clock_at
):
    _room(hq, date(2026, 6, 10), capacity=1)
    booking = book(hq, idcard, baku(2026, 6, 10, 10, 0), ids[0])
    assert len(booking.code) == 8 and not set(booking.code) & set("0O1I")
    assert booking.status == BookingStatus.BOOKED
    slot = Slot.objects.get(pk=booking.slot_id)
    assert (slot.capacity, slot.booked) == (1, 1)
    event = AuditEvent.objects.get(action="booking.created")
    assert event.stream == "centre:zz:hq" and event.object_id == str(booking.pk)
    assert ids[0] not in str(event.after)  # the ID number is masked in the audit trail
    message = OutboxMessage.objects.get(template="booking_confirmed")
    assert (
        message.to == phone(0)
        and booking.display_code in message.text
        and "/book/b/" in message.text
    )


def test_a_full_slot_is_a_conflict(hq, idcard, ids, clock_at):
    _room(hq, date(2026, 6, 10), capacity=1)
    book(hq, idcard, baku(2026, 6, 10, 10, 0), ids[0])
    with pytest.raises(Conflict) as err:
        book(hq, idcard, baku(2026, 6, 10, 10, 0), ids[1], index=1)
    assert err.value.code == "slot_full"
    assert Booking.objects.count() == 1


def test_a_time_that_is_not_a_slot_start_is_refused(hq, idcard, ids, clock_at):
    _room(hq, date(2026, 6, 10))
    with pytest.raises(DomainError) as err:
        book(hq, idcard, baku(2026, 6, 10, 10, 5), ids[0])
    assert (err.value.field, err.value.code) == ("start", "no_slot")
    with pytest.raises(DomainError):
        book(hq, idcard, baku(2026, 6, 10, 18, 0), ids[0])  # closing time: no slot starts then


def test_the_national_id_is_checked_with_the_pack_format(hq, idcard, ids, clock_at):
    _room(hq, date(2026, 6, 10))
    wrong_check_digit = ids[0][:-1] + str((int(ids[0][-1]) + 1) % 10)
    with pytest.raises(DomainError) as err:
        book(hq, idcard, baku(2026, 6, 10, 10, 0), wrong_check_digit)
    assert (err.value.field, err.value.code) == ("national_id", "invalid_national_id")


def test_past_times_cannot_be_booked(hq, idcard, ids, clock_at):
    _room(hq, date(2026, 6, 8))
    clock_at(2026, 6, 8, 10, 0)
    with pytest.raises(DomainError) as err:
        book(hq, idcard, baku(2026, 6, 8, 10, 0), ids[0])
    assert err.value.code == "past"
    assert book(hq, idcard, baku(2026, 6, 8, 10, 15), ids[0]).status == BookingStatus.BOOKED


def test_horizon_last_day_allowed_next_day_refused(hq, idcard, ids, clock_at):
    # Monday 8 June + 30 days = Wednesday 8 July
    _room(hq, date(2026, 7, 8))
    _room(hq, date(2026, 7, 9))
    assert book(hq, idcard, baku(2026, 7, 8, 17, 45), ids[0]).status == BookingStatus.BOOKED
    with pytest.raises(DomainError) as err:
        book(hq, idcard, baku(2026, 7, 9, 9, 0), ids[1], index=1)
    assert (err.value.field, err.value.code) == ("start", "beyond_horizon")


def test_no_booking_on_a_holiday_or_a_closure(hq, idcard, ids, clock_at):
    _room(hq, date(2026, 6, 15))  # even with an override: an override never opens a holiday
    with pytest.raises(DomainError) as err:
        book(hq, idcard, baku(2026, 6, 15, 10, 0), ids[0])
    assert err.value.code == "no_slot"
    clock_at(2026, 12, 20, 12, 0)
    with pytest.raises(DomainError):
        book(hq, idcard, baku(2026, 12, 30, 10, 0), ids[0])  # the pack's maintenance closure


def test_saturday_hours_are_bookable(hq, idcard, ids, clock_at):
    _room(hq, date(2026, 6, 13))
    assert book(hq, idcard, baku(2026, 6, 13, 10, 0), ids[0]).status == BookingStatus.BOOKED
    with pytest.raises(DomainError):
        book(hq, idcard, baku(2026, 6, 13, 14, 0), ids[1], index=1)  # closes at 14:00 on Saturdays


# --------------------------------------------------------------------------- the per-citizen cap


def test_one_booking_per_group_within_ten_days(hq, idcard, birth, ids, clock_at):
    for day in (8, 10, 18):
        _room(hq, date(2026, 6, day))
    first = book(hq, idcard, baku(2026, 6, 8, 10, 0), ids[0])
    with pytest.raises(DomainError) as err:
        book(hq, idcard, baku(2026, 6, 10, 10, 0), ids[0])
    assert (err.value.field, err.value.code) == ("national_id", "booking_cap")
    # 9 days 23 hours 45 minutes later: still inside the period
    with pytest.raises(DomainError):
        book(hq, idcard, baku(2026, 6, 18, 9, 45), ids[0])
    # exactly 10 days later: allowed
    assert book(hq, idcard, baku(2026, 6, 18, 10, 0), ids[0]).status == BookingStatus.BOOKED
    # another service group is not capped by this one
    assert book(hq, birth, baku(2026, 6, 10, 10, 0), ids[0]).status == BookingStatus.BOOKED
    # a cancelled booking no longer counts
    services.booking_cancel(booking=first)
    assert book(hq, idcard, baku(2026, 6, 8, 10, 0), ids[0]).status == BookingStatus.BOOKED


def test_cap_follows_the_pack(hq, idcard, ids, clock_at, loaded_mini):
    loaded_mini.rules["booking"]["max_active_per_group"] = 2
    loaded_mini.save()
    hq.country.refresh_from_db()
    _room(hq, date(2026, 6, 10))
    book(hq, idcard, baku(2026, 6, 10, 10, 0), ids[0])
    book(hq, idcard, baku(2026, 6, 10, 11, 0), ids[0])
    with pytest.raises(DomainError):
        book(hq, idcard, baku(2026, 6, 10, 12, 0), ids[0])
    # the same citizen never holds two places of one slot
    with pytest.raises(DomainError):
        book(hq, idcard, baku(2026, 6, 10, 10, 0), ids[0])


# --------------------------------------------------------------------------- move and cancel


def test_a_move_to_a_full_slot_leaves_the_original_booking_intact(hq, idcard, ids, clock_at):
    _room(hq, date(2026, 6, 10), capacity=1)
    mine = book(hq, idcard, baku(2026, 6, 10, 10, 0), ids[0])
    book(hq, idcard, baku(2026, 6, 10, 10, 15), ids[1], index=1)
    with pytest.raises(Conflict) as err:
        services.booking_move(booking=mine, start=baku(2026, 6, 10, 10, 15))
    assert err.value.code == "slot_full"
    mine.refresh_from_db()
    assert (
        mine.start == baku(2026, 6, 10, 10, 0)
        and mine.status == BookingStatus.BOOKED
        and mine.moves == 0
    )
    assert {
        s.start.astimezone(baku(2026, 1, 1, 0).tzinfo).strftime("%H:%M"): s.booked
        for s in Slot.objects.all()
    } == {"10:00": 1, "10:15": 1}
    assert not AuditEvent.objects.filter(action="booking.moved").exists()


def test_a_move_takes_the_new_place_and_frees_the_old_one(hq, idcard, ids, clock_at):
    _room(hq, date(2026, 6, 10), capacity=1)
    mine = book(hq, idcard, baku(2026, 6, 10, 10, 0), ids[0])
    moved = services.booking_move(booking=mine, start=baku(2026, 6, 10, 11, 0))
    assert moved.code == mine.code and moved.moves == 1
    assert Slot.objects.get(start=baku(2026, 6, 10, 10, 0)).booked == 0
    assert Slot.objects.get(start=baku(2026, 6, 10, 11, 0)).booked == 1
    assert OutboxMessage.objects.filter(template="booking_confirmed").count() == 2
    # the freed place can be booked by someone else
    assert (
        book(hq, idcard, baku(2026, 6, 10, 10, 0), ids[1], index=1).status == BookingStatus.BOOKED
    )


def test_cancel_frees_the_place_and_only_before_the_start(hq, idcard, ids, clock_at):
    _room(hq, date(2026, 6, 8), capacity=1)
    mine = book(hq, idcard, baku(2026, 6, 8, 10, 0), ids[0])
    services.booking_cancel(booking=mine)
    assert Slot.objects.get(pk=mine.slot_id).booked == 0
    assert OutboxMessage.objects.filter(template="booking_cancelled").count() == 1
    with pytest.raises(Conflict):
        services.booking_cancel(booking=mine)  # already cancelled
    other = book(hq, idcard, baku(2026, 6, 8, 10, 0), ids[1], index=1)
    clock_at(2026, 6, 8, 10, 0)
    with pytest.raises(Conflict) as err:
        services.booking_cancel(booking=other)
    assert err.value.code == "started"


# --------------------------------------------------------------------------- check-in


def _check_in(hq, booking, **kwargs):
    return services.booking_check_in(centre=hq, code=booking.code, **kwargs)


def test_check_in_29_minutes_early_is_allowed(hq, idcard, ids, clock_at):
    _room(hq, date(2026, 6, 8))
    booking = book(hq, idcard, baku(2026, 6, 8, 10, 0), ids[0])
    clock_at(2026, 6, 8, 9, 31)
    result = _check_in(hq, booking)
    assert result.ticket.source == Source.APPOINTMENT
    assert result.ticket.booked_start == booking.start
    assert result.booking.status == BookingStatus.CHECKED_IN
    assert AuditEvent.objects.filter(action="booking.checked_in").count() == 1
    # a second check-in (the citizen presses again) returns the same ticket
    again = _check_in(hq, booking)
    assert again.repeated and again.ticket.pk == result.ticket.pk
    assert Ticket.objects.count() == 1


def test_check_in_31_minutes_early_is_refused_with_the_local_time_to_come_back(
    hq, idcard, ids, clock_at
):
    _room(hq, date(2026, 6, 8))
    booking = book(hq, idcard, baku(2026, 6, 8, 10, 0), ids[0])
    clock_at(2026, 6, 8, 9, 29)
    with pytest.raises(services.CheckInRefused) as err:
        _check_in(hq, booking)
    assert err.value.code == "too_early"
    assert err.value.opens_at.strftime("%H:%M") == "09:30"
    assert "09:30" in err.value.detail
    clock_at(2026, 6, 8, 9, 30)  # the window's first minute is included
    assert _check_in(hq, booking).booking.status == BookingStatus.CHECKED_IN


def test_check_in_on_another_day_names_the_day(hq, idcard, ids, clock_at):
    _room(hq, date(2026, 6, 10))
    booking = book(hq, idcard, baku(2026, 6, 10, 10, 0), ids[0])
    with pytest.raises(services.CheckInRefused) as err:
        _check_in(hq, booking)
    assert err.value.code == "too_early" and err.value.opens_at.date() == date(2026, 6, 10)


def test_check_in_10_minutes_late_is_allowed(hq, idcard, ids, clock_at):
    _room(hq, date(2026, 6, 8))
    booking = book(hq, idcard, baku(2026, 6, 8, 10, 0), ids[0])
    clock_at(2026, 6, 8, 10, 10)
    assert _check_in(hq, booking).booking.status == BookingStatus.CHECKED_IN


def test_check_in_11_minutes_late_offers_a_walk_in_under_the_walk_in_policy(
    hq, idcard, ids, clock_at
):
    _room(hq, date(2026, 6, 8))
    booking = book(hq, idcard, baku(2026, 6, 8, 10, 0), ids[0])
    clock_at(2026, 6, 8, 10, 11)
    with pytest.raises(services.CheckInRefused) as err:
        _check_in(hq, booking)
    assert (err.value.code, err.value.late_policy) == ("too_late", "walk_in")
    assert Ticket.objects.count() == 0
    result = _check_in(hq, booking, walk_in=True)
    assert (
        result.walk_in
        and result.ticket.source == Source.KIOSK
        and result.ticket.booked_start is None
    )
    assert result.booking.status == BookingStatus.LATE
    slot = Slot.objects.get(pk=booking.slot_id)
    assert (slot.booked, slot.released) == (0, 1)


def test_check_in_late_under_the_refuse_policy_is_refused(hq, idcard, ids, clock_at, loaded_mini):
    loaded_mini.rules["booking"]["late_policy"] = "refuse"
    loaded_mini.save()
    hq.country.refresh_from_db()
    _room(hq, date(2026, 6, 8))
    booking = book(hq, idcard, baku(2026, 6, 8, 10, 0), ids[0])
    clock_at(2026, 6, 8, 10, 11)
    for walk_in in (False, True):
        with pytest.raises(services.CheckInRefused) as err:
            _check_in(hq, booking, walk_in=walk_in)
        assert (err.value.code, err.value.late_policy) == ("too_late", "refuse")
    assert Ticket.objects.count() == 0


def test_check_in_at_another_centre_or_with_an_unknown_code(hq, idcard, ids, clock_at, loaded_mini):
    _room(hq, date(2026, 6, 8))
    booking = book(hq, idcard, baku(2026, 6, 8, 10, 0), ids[0])
    north = loaded_mini.centres.get(code="north")
    with pytest.raises(DomainError) as err:
        services.booking_check_in(centre=north, code=booking.code)
    assert err.value.code == "other_centre"
    with pytest.raises(DomainError) as err:
        services.booking_check_in(centre=hq, code="ZZZZ-ZZZZ")
    assert err.value.status_code == 404
    # the code is read without dashes, spaces or case
    clock_at(2026, 6, 8, 9, 45)
    typed = f" {booking.code[:4].lower()}-{booking.code[4:]} "
    assert services.booking_check_in(centre=hq, code=typed).booking.pk == booking.pk


# --------------------------------------------------------------------------- sweeps


def test_no_show_sweep_after_the_cut_off_releases_the_place_and_counts_the_citizen(
    hq, idcard, ids, clock_at
):
    _room(hq, date(2026, 6, 8))
    booking = book(hq, idcard, baku(2026, 6, 8, 10, 0), ids[0])
    clock_at(2026, 6, 8, 10, 10)
    assert mark_no_shows() == 0  # the cut-off minute still belongs to the citizen
    clock_at(2026, 6, 8, 10, 10, 1)
    assert mark_no_shows() == 1
    assert mark_no_shows() == 0  # idempotent
    booking.refresh_from_db()
    assert booking.status == BookingStatus.NO_SHOW
    slot = Slot.objects.get(pk=booking.slot_id)
    assert (slot.booked, slot.released) == (0, 1)
    assert CitizenRecord.objects.get(national_id=ids[0]).no_shows == 1
    assert AuditEvent.objects.filter(action="booking.no_show").count() == 1


def test_checked_in_bookings_are_not_no_shows(hq, idcard, ids, clock_at):
    _room(hq, date(2026, 6, 8))
    booking = book(hq, idcard, baku(2026, 6, 8, 10, 0), ids[0])
    clock_at(2026, 6, 8, 9, 50)
    _check_in(hq, booking)
    clock_at(2026, 6, 8, 12, 0)
    assert mark_no_shows() == 0


def test_reminder_goes_once_the_day_before_from_ten(hq, idcard, ids, clock_at):
    _room(hq, date(2026, 6, 10))
    _room(hq, date(2026, 6, 9))
    later = book(hq, idcard, baku(2026, 6, 10, 10, 0), ids[0])
    book(
        hq, idcard, baku(2026, 6, 9, 10, 0), ids[1], index=1
    )  # tomorrow: the confirmation is the reminder
    assert send_reminders() == 0
    clock_at(2026, 6, 9, 9, 59)
    assert send_reminders() == 0
    clock_at(2026, 6, 9, 10, 0)
    assert send_reminders() == 1
    assert send_reminders() == 0
    reminders = OutboxMessage.objects.filter(template="booking_reminder")
    assert [m.to for m in reminders] == [phone(0)]
    assert later.display_code in reminders[0].text


def test_sweeps_are_registered_for_the_scheduler_and_celery_beat(settings):
    from onestop.core.sweeps import all_sweeps

    names = {s.name for s in all_sweeps()}
    assert {"appointments.no_shows", "appointments.reminders"} <= names
    beat = settings.CELERY_BEAT_SCHEDULE
    assert beat["appointments.no_shows"]["task"] == "onestop.run_sweep"
    assert beat["appointments.reminders"]["args"] == ("appointments.reminders",)


# --------------------------------------------------------------------------- overrides


def test_an_override_changes_materialised_slots_but_never_below_the_booked_places(
    hq, idcard, ids, clock_at
):
    override = CapacityOverride(centre=hq, date=date(2026, 6, 10), capacity=3)
    services.capacity_override_save(override)
    book(hq, idcard, baku(2026, 6, 10, 10, 0), ids[0])
    book(hq, idcard, baku(2026, 6, 10, 10, 0), ids[1], index=1)
    override.capacity = 1
    services.capacity_override_save(override)
    slot = Slot.objects.get(start=baku(2026, 6, 10, 10, 0))
    assert (slot.capacity, slot.booked) == (2, 2)
    services.capacity_override_delete(override)
    slot.refresh_from_db()
    assert slot.capacity == 2  # the plan without override has 1 place: the booked 2 stay
    assert AuditEvent.objects.filter(action__startswith="booking.capacity").count() >= 3


def test_an_override_of_no_places_stops_booking_in_slots_made_before_and_after_it(
    hq, idcard, ids, clock_at
):
    """Bookings read the places from the slot's row: an override must reach every row."""
    day = date(2026, 6, 10)
    override = CapacityOverride(centre=hq, date=day, capacity=2)
    services.capacity_override_save(override)
    book(hq, idcard, baku(2026, 6, 10, 10, 0), ids[0])
    override.capacity = 0
    services.capacity_override_save(override)
    slot = Slot.objects.get(start=baku(2026, 6, 10, 10, 0))
    assert (slot.capacity, slot.booked) == (1, 1)  # never below the booked place
    for index, start in ((1, baku(2026, 6, 10, 10, 0)), (2, baku(2026, 6, 10, 10, 15))):
        with pytest.raises(DomainError) as err:
            book(hq, idcard, start, ids[index], index=index)
        assert (err.value.field, err.value.code) == ("start", "no_slot")
    assert not Slot.objects.filter(start=baku(2026, 6, 10, 10, 15)).exists()
    assert Booking.objects.count() == 1
    # an override written straight to the table (no refresh) still decides a new slot's row
    CapacityOverride.objects.filter(pk=override.pk).update(capacity=3)
    booking = book(hq, idcard, baku(2026, 6, 10, 10, 15), ids[3], index=3)
    assert booking.slot.capacity == 3


def test_an_override_moved_to_another_day_gives_the_day_it_left_back_to_its_plan(
    hq, idcard, ids, clock_at
):
    override = CapacityOverride(centre=hq, date=date(2026, 6, 10), capacity=3)
    services.capacity_override_save(override)
    book(hq, idcard, baku(2026, 6, 10, 10, 0), ids[0])
    override.date = date(2026, 6, 11)
    services.capacity_override_save(override)
    slot = Slot.objects.get(start=baku(2026, 6, 10, 10, 0))
    assert (slot.capacity, slot.booked) == (1, 1)  # the plan without override: 1 place


def test_the_database_refuses_more_booked_than_capacity(hq, idcard, ids, clock_at):
    from django.db import IntegrityError, transaction

    _room(hq, date(2026, 6, 10), capacity=1)
    booking = book(hq, idcard, baku(2026, 6, 10, 10, 0), ids[0])
    with pytest.raises(IntegrityError), transaction.atomic():
        Slot.objects.filter(pk=booking.slot_id).update(booked=2)


def test_the_database_refuses_two_active_bookings_of_one_citizen_in_one_slot(
    hq, idcard, ids, clock_at
):
    from django.db import IntegrityError, transaction

    _room(hq, date(2026, 6, 10), capacity=3)
    booking = book(hq, idcard, baku(2026, 6, 10, 10, 0), ids[0])
    now = MONDAY
    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.create(
            centre=hq,
            service=idcard,
            group=idcard.group,
            slot=booking.slot,
            start=booking.start,
            end=booking.end,
            national_id=ids[0],
            created_at=now,
            updated_at=now,
        )
    services.booking_cancel(booking=booking)
    # a cancelled booking is not active: the citizen may book the same slot again
    assert book(hq, idcard, baku(2026, 6, 10, 10, 0), ids[0]).status == BookingStatus.BOOKED
    assert timedelta(0) < booking.end - booking.start
