"""Hand-written selects must read exactly what the ORM reads, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from onestop.appointments.models import CapacityOverride, Slot
from onestop.appointments.selectors import overrides_for
from onestop.catalogue.models import ServiceGroup
from onestop.core.sql import fetch_rows, prep, select_statement

pytestmark = pytest.mark.django_db

BAKU = ZoneInfo("Asia/Baku")


def test_rows_and_boundaries_equal_the_orm(loaded_mini):
    hq = loaded_mini.centres.get(code="hq")
    group = ServiceGroup.objects.get(country=loaded_mini, code="idcard")
    other = ServiceGroup.objects.exclude(pk=group.pk).filter(country=loaded_mini).first()
    first = datetime(2026, 6, 10, 9, 0, tzinfo=BAKU)
    for index in range(8):
        start = first + timedelta(minutes=15 * index, microseconds=index * 7)  # sub-second parts too
        Slot.objects.create(centre=hq, group=group, start=start, end=start + timedelta(minutes=15),
                            capacity=3, booked=index % 3)
    names = ("start", "end", "capacity", "booked")
    sql = select_statement(Slot, names, ("centre", "group", "start >=", "start <="))
    low, high = first + timedelta(minutes=15), first + timedelta(minutes=75, microseconds=5 * 7)
    rows = fetch_rows(Slot, names, sql, [hq.pk, group.pk, prep(Slot, "start", low), prep(Slot, "start", high)])
    expected = list(Slot.objects.filter(centre=hq, group=group, start__gte=low, start__lte=high)
                    .values_list(*names))
    assert sorted(rows) == sorted(expected)
    assert len(rows) == 5  # both ends included, microseconds compared as the ORM compares them
    assert all(row[0].utcoffset() == timedelta(0) for row in rows)

    day = date(2026, 6, 10)
    CapacityOverride.objects.create(centre=hq, date=day, group=None, capacity=4)
    CapacityOverride.objects.create(centre=hq, date=day + timedelta(days=1), group=None, capacity=5)
    CapacityOverride.objects.create(centre=hq, date=day + timedelta(days=1), group=group, capacity=2)
    CapacityOverride.objects.create(centre=hq, date=day + timedelta(days=2), group=other, capacity=9)
    CapacityOverride.objects.create(centre=hq, date=day + timedelta(days=9), group=None, capacity=1)
    assert overrides_for(hq, group, day, day + timedelta(days=3)) == {day: 4, day + timedelta(days=1): 2}
    assert overrides_for(hq, other, day + timedelta(days=2), day + timedelta(days=2)) == {
        day + timedelta(days=2): 9}


@pytest.mark.django_db
def test_psycopg_keeps_the_parsing_of_long_statements():
    """The hot single-statement writes have more than 50 parameters; psycopg parses them once."""
    if connection.vendor != "postgresql":
        pytest.skip("psycopg is PostgreSQL's driver")
    from psycopg import _queries

    assert _queries.MAX_CACHED_STATEMENT_PARAMS >= 256  # a psycopg without the limits fails here
    assert _queries.MAX_CACHED_STATEMENT_LENGTH >= 16384
    count = 120
    sql = "SELECT " + ", ".join(f"CAST(%s AS integer) + {i}" for i in range(count))
    with connection.cursor() as cursor:
        cursor.execute(sql, list(range(count)))
        before = _queries._query2pg.cache_info().hits
        cursor.execute(sql, list(range(count)))
        assert cursor.fetchone()[-1] == 2 * (count - 1)
    assert _queries._query2pg.cache_info().hits == before + 1


def _slow_values(instance, fields):
    return [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]


def test_insert_values_equal_what_the_fields_prepare(loaded_mini):
    """``insert_values`` passes plain values as they are: they must be what Django would send."""
    from onestop.appointments.models import Booking, BookingStatus
    from onestop.audit.models import AuditEvent
    from onestop.core.sql import insert_statement, insert_values
    from onestop.notifications.models import OutboxMessage

    hq = loaded_mini.centres.get(code="hq")
    group = ServiceGroup.objects.filter(country=loaded_mini).first()
    moments = [datetime(2026, 6, 10, 9, 0, 0, 123456, tzinfo=BAKU), datetime(2026, 6, 10, 5, 0, tzinfo=ZoneInfo("UTC"))]
    instances = [
        Booking(centre=hq, service_id=7, group=group, slot_id=3, start=moments[0], end=moments[1],
                national_id="1DWGTG7", phone="", language="fa", status=BookingStatus.BOOKED, source="api",
                created_at=moments[0], updated_at=moments[1], reminder_sent_at=None, moves=2),
        Booking(centre=hq, service_id=7, group=group, slot_id=3, start=moments[1], end=moments[0],
                national_id="x" * 40, phone="+994501234567", status="checked_in", created_by_id=None,
                created_at=moments[1], updated_at=moments[0], checked_in_at=moments[0], moves=0),
        OutboxMessage(channel="sms", to="+994501234567", text="متن ۱۲", template="t", language="fa",
                      dedupe_key=None, next_attempt_at=moments[0]),
        AuditEvent(stream="centre:zz:hq", seq=10**12, created_at=moments[1], actor_id=None, actor_name="پذیرش",
                   action="booking.created", object_type="appointments.booking", object_id="5",
                   before=None, after={"slot": 3, "code": "ABCD"}, prev_hash="0" * 64, hash="f" * 64),
    ]
    for instance in instances:
        _, fields = insert_statement(type(instance), connection)
        fast = insert_values(instance, fields, connection)
        slow = _slow_values(instance, fields)
        assert [type(v) for v in fast] == [type(v) for v in slow], type(instance).__name__
        unwrap = [getattr(v, "obj", v) for v in fast], [getattr(v, "obj", v) for v in slow]  # psycopg's Jsonb
        assert unwrap[0] == unwrap[1], type(instance).__name__
