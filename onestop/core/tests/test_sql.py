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
