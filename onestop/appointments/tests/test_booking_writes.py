"""A booking's writes: on PostgreSQL one statement after the citizen's lock, elsewhere the
ORM. Whichever path runs, the rows must be the same: the booking, the audit event (whose
stored hash is the digest Python computes, in a chain that verifies when interleaved with
events ``audit_record`` writes), the idempotency key and the confirmation SMS; and a
refused booking writes none of them."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import make_staff
from onestop.accounts.models import Role
from onestop.appointments import services
from onestop.appointments.models import Booking, CapacityOverride, IdempotencyKey, Slot
from onestop.audit.models import AuditEvent, AuditStream
from onestop.audit.services import event_digest
from onestop.audit.verify import verify_all
from onestop.core.problems import Conflict, DomainError
from onestop.notifications.models import OutboxMessage
from onestop.notifications.templates import render_message

from .conftest import baku, national_ids, phone

pytestmark = pytest.mark.django_db

DAY = date(2026, 6, 10)


@pytest.fixture
def hq(loaded_mini, frozen):
    return loaded_mini.centres.select_related("country").get(code="hq")


def stream(hq) -> str:
    return f"centre:{hq.country.code}:{hq.code}"


def test_bookings_and_other_events_form_one_verified_chain(hq, idcard, django_capture_on_commit_callbacks):
    CapacityOverride.objects.create(centre=hq, date=DAY, capacity=3)
    ids = national_ids(hq.country, 4)
    greeter = make_staff("پذیرش.۲", Role.GREETER, centres=[hq])
    AuditStream.objects.filter(name=stream(hq)).delete()  # the centre's first event creates the head
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = services.booking_create(
            centre=hq, service=idcard, start=baku(2026, 6, 10, 10, 0), national_id=ids[0], phone=phone(0),
            idempotency_key="key-1", language="fa",
        ).booking
        services.booking_cancel(booking=first)
        second = services.booking_create(
            centre=hq, service=idcard, start=baku(2026, 6, 10, 10, 0), national_id=ids[1], phone=phone(1),
            source="reception", actor=greeter, language="en",
        ).booking
        services.booking_move(booking=second, start=baku(2026, 6, 10, 10, 15))
        third = services.booking_create(
            centre=hq, service=idcard, start=baku(2026, 6, 10, 10, 15), national_id=ids[2],
        ).booking
    assert len(callbacks) >= 3  # the SMS of the bookings and the cancellation are handed off after commit
    assert verify_all()[2] == []

    events = list(AuditEvent.objects.filter(stream=stream(hq)).order_by("seq"))
    assert [e.action for e in events] == [
        "booking.created", "booking.cancelled", "booking.created", "booking.moved", "booking.created",
    ]
    for event in events:
        assert event.hash == event_digest(
            stream=event.stream, seq=event.seq, created_at=event.created_at, actor_name=event.actor_name,
            action=event.action, object_type=event.object_type, object_id=event.object_id,
            before=event.before, after=event.after, prev_hash=event.prev_hash)
    assert AuditStream.objects.get(name=stream(hq)).last_hash == events[-1].hash

    created = [e for e in events if e.action == "booking.created"]
    for event, booking in zip(created, [first, second, third], strict=True):
        stored = Booking.objects.get(pk=booking.pk)
        assert event.object_type == "appointments.booking"
        assert event.object_id == str(booking.pk)
        assert event.after["slot"] == Slot.objects.get(centre=hq, start=stored.start if booking is not second
                                                       else baku(2026, 6, 10, 10, 0)).pk
        assert event.after["code"] == stored.code
        assert event.after["national_id"].endswith(stored.national_id[-3:])
        assert "•" in event.after["national_id"]
    assert (created[1].actor_name, created[1].actor_id, created[1].after["source"]) == (
        "پذیرش.۲", greeter.pk, "reception")
    assert (created[0].actor_name, created[0].actor_id) == ("system", None)

    # what the ORM path stores, field by field
    first = Booking.objects.select_related("centre__country", "service", "slot").get(pk=first.pk)
    assert (first.slot.start, first.end, first.slot.end) == (first.start, first.slot.end, first.end)
    assert IdempotencyKey.objects.get(key="key-1").booking_id == first.pk
    message = OutboxMessage.objects.get(dedupe_key=f"booking-confirmed:{first.pk}:0")
    assert (message.channel, message.to, message.template, message.language) == (
        "sms", phone(0), "booking_confirmed", "fa")
    assert message.text == render_message(
        "booking_confirmed", "fa", **services._message_params(first), url=services.manage_url(first))
    assert OutboxMessage.objects.get(dedupe_key=f"booking-confirmed:{second.pk}:0").language == "en"
    assert not OutboxMessage.objects.filter(dedupe_key=f"booking-confirmed:{third.pk}:0").exists()  # no phone


def test_a_refused_booking_writes_nothing(hq, idcard):
    CapacityOverride.objects.create(centre=hq, date=DAY, capacity=1)
    ids = national_ids(hq.country, 2)
    start = baku(2026, 6, 10, 10, 0)
    services.booking_create(centre=hq, service=idcard, start=start, national_id=ids[0], phone=phone(0))
    counts = (Booking.objects.count(), AuditEvent.objects.count(), OutboxMessage.objects.count(),
              AuditStream.objects.get(name=stream(hq)).last_seq)
    with pytest.raises(Conflict) as full:
        services.booking_create(centre=hq, service=idcard, start=start, national_id=ids[1], phone=phone(1),
                                idempotency_key="key-2")
    assert full.value.code == "slot_full"
    with pytest.raises(DomainError) as cap:  # the same citizen, another free slot of the group
        services.booking_create(centre=hq, service=idcard, start=baku(2026, 6, 10, 11, 0), national_id=ids[0])
    assert cap.value.code == "booking_cap"
    assert (Booking.objects.count(), AuditEvent.objects.count(), OutboxMessage.objects.count(),
            AuditStream.objects.get(name=stream(hq)).last_seq) == counts
    assert not IdempotencyKey.objects.exists()
    # the cap's refusal took no place (on PostgreSQL it did not even make the slot's row)
    assert not Slot.objects.filter(centre=hq, start=baku(2026, 6, 10, 11, 0), booked__gt=0).exists()
    assert Slot.objects.get(centre=hq, start=start).booked == 1


def test_postgresql_writes_a_booking_in_one_statement(hq, idcard):
    if connection.vendor != "postgresql":
        pytest.skip("the one-statement form is PostgreSQL's")
    from django.test.utils import CaptureQueriesContext

    CapacityOverride.objects.create(centre=hq, date=DAY, capacity=2)
    ids = national_ids(hq.country, 2)
    services.booking_create(centre=hq, service=idcard, start=baku(2026, 6, 10, 10, 0), national_id=ids[0])
    with CaptureQueriesContext(connection) as queries:
        services.booking_create(centre=hq, service=idcard, start=baku(2026, 6, 10, 10, 0), national_id=ids[1],
                                phone=phone(1), idempotency_key="k")
    calls = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT * FROM onestop_booking_")]
    assert len(calls) == 1
    # the idempotency key's replay read, then the call (in a savepoint here, inside the test's
    # transaction; committed by itself in autocommit, as on a server)
    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["SELECT", "SAVEPOINT", "SELECT", "RELEASE"]
    # the function holds the citizen's lock and the one statement
    name = calls[0].split()[3].split("(")[0]
    with connection.cursor() as cursor:
        cursor.execute("SELECT prosrc FROM pg_proc WHERE proname = %s", [name])
        (body,) = cursor.fetchone()
    assert body.index("appointments_citizenrecord") < body.index("RETURN QUERY WITH u AS (UPDATE")
    assert all(table in body for table in ("appointments_booking", "audit_auditevent",
                                           "appointments_idempotencykey", "notifications_outboxmessage"))


@pytest.mark.parametrize("error", ["psycopg", "other"])
def test_when_the_function_cannot_be_made_bookings_take_two_statements(hq, idcard, monkeypatch, caplog, error):
    """No right to create functions (a psycopg error), or anything else that stops it."""
    if connection.vendor != "postgresql":
        pytest.skip("the function is PostgreSQL's")
    import psycopg

    from onestop.appointments import statements

    failure = (psycopg.OperationalError("permission denied for schema public") if error == "psycopg"
               else TypeError("an option psycopg refuses"))

    def refused(*args, **kwargs):
        raise failure

    monkeypatch.setattr(statements, "_made", {})
    monkeypatch.setattr(psycopg, "connect", refused)
    CapacityOverride.objects.create(centre=hq, date=DAY, capacity=2)
    ids = national_ids(hq.country, 2)
    with caplog.at_level("WARNING", logger="onestop.appointments.statements"):
        booking = services.booking_create(centre=hq, service=idcard, start=baku(2026, 6, 10, 10, 0),
                                          national_id=ids[0], phone=phone(0)).booking
    assert "using two statements" in caplog.text
    assert Booking.objects.get().code == booking.code
    assert Slot.objects.get(centre=hq, start=baku(2026, 6, 10, 10, 0)).booked == 1


def test_a_slot_row_deleted_behind_the_process_is_made_again(hq, idcard):
    """Each process makes sure of a slot's row once; a row deleted later (the admin can delete
    a slot nobody booked) is made again by the booking that misses it."""
    CapacityOverride.objects.create(centre=hq, date=DAY, capacity=2)
    ids = national_ids(hq.country, 2)
    start = baku(2026, 6, 10, 10, 0)
    first = services.booking_create(centre=hq, service=idcard, start=start, national_id=ids[0]).booking
    services.booking_cancel(booking=first)
    Booking.objects.all().delete()
    Slot.objects.all().delete()
    if connection.vendor != "postgresql":  # there the booking's statement makes the row
        assert services._KNOWN_SLOTS  # this process still takes the row for made
    again = services.booking_create(centre=hq, service=idcard, start=start, national_id=ids[1]).booking
    slot = Slot.objects.get(centre=hq, start=start)
    assert (again.slot_id, slot.booked, slot.capacity) == (slot.pk, 1, 2)


def test_the_statement_sends_each_value_once_and_refuses_a_booking_unlike_its_constants(hq, idcard):
    """The claim's values (centre, group, start, the cap's bounds, the stream) are named
    parameters the statement uses wherever it needs them, and the columns every new booking
    and SMS share are constants of the statement; a booking that differs is refused, not
    written with the constants."""
    if connection.vendor != "postgresql":
        pytest.skip("the one statement is PostgreSQL's")
    from onestop.appointments import statements

    CapacityOverride.objects.create(centre=hq, date=DAY, capacity=2)
    ids = national_ids(hq.country, 2)
    with CaptureQueriesContext(connection) as queries:
        services.booking_create(centre=hq, service=idcard, start=baku(2026, 6, 10, 10, 0), national_id=ids[0],
                                phone=phone(0), idempotency_key="k")
    # (the centre's first booking may call twice: the first call finds no audit head)
    call = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT * FROM onestop_booking_")][-1]
    sql = next(key[0] for key, made in statements._made.items() if made and made[0].split("(")[0] in call)
    names = statements._names(sql)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pronargs FROM pg_proc WHERE proname = %s", [call.split()[3].split("(")[0]])
        (arguments,) = cursor.fetchone()
    assert len(names) == len(set(names)) == arguments
    for shared in ("centre", "group", "start", "national_id", "status", "stream", "max"):
        assert sql.count(f"%({shared})s") >= 2, shared
    assert "b_centre_id" not in names and "b_moves" not in names and "m_attempts" not in names

    booking = Booking(centre=hq, service=idcard, group=idcard.group, start=baku(2026, 6, 10, 10, 15),
                      end=baku(2026, 6, 10, 10, 30), national_id=ids[1], moves=1,
                      created_at=baku(2026, 6, 9, 9, 0), updated_at=baku(2026, 6, 9, 9, 0))
    with pytest.raises(ValueError, match="moves=0"):
        services._write_in_one_statement(
            booking, national_id=ids[1], planned=services.check_target(
                centre=hq, service=idcard, start=booking.start, on_grid=True),
            rules=services.rules_for(hq), actor=None, idempotency_key="", fingerprint="", url="")
    assert Booking.objects.count() == 1
