"""A booking's writes as one SQL statement (PostgreSQL), after the citizen's lock.

:func:`claim_sql` is the place-taking ``UPDATE`` with the per-citizen cap (see
``services._claim_place_within_cap``). On PostgreSQL :func:`insert_booking` puts it in one
data-modifying ``WITH`` that also inserts the booking, advances the centre's audit stream,
inserts the audit event (its hash computed by the database, see
``onestop.audit.statements``), the idempotency key and the confirmation SMS. Every part
depends on the claim: when the slot is full or the citizen at the cap, nothing is written
and no row comes back. The statement runs in the booking's transaction after the
citizen's row is locked, so its snapshot sees every committed booking of that citizen.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any

from django.db import connection

from onestop.audit.models import AuditStream
from onestop.audit.statements import column_type, event_insert
from onestop.core.sql import from_db, insert_values, prep
from onestop.notifications.models import OutboxMessage

from .models import Booking, BookingStatus, IdempotencyKey, Slot
from .rules import BookingRules

#: Booking columns the claim fills.
_CLAIMED = ("slot", "end")
#: What the database fills into the event's holes.
_HOLES = {"slot": "CAST(c.id AS text)"}


def claim_sql() -> str:
    """``UPDATE <slot> SET booked = booked + 1 WHERE <slot key> AND booked < capacity AND
    <the citizen is under the cap>`` (without ``RETURNING``); parameters from
    :func:`claim_params`."""
    qn = connection.ops.quote_name
    booking_table = qn(Booking._meta.db_table)
    return (
        f"UPDATE {qn(Slot._meta.db_table)} SET {qn('booked')} = {qn('booked')} + 1 "  # noqa: S608 -- model metadata
        f"WHERE {qn('centre_id')} = %s AND {qn('group_id')} = %s AND {qn('start')} = %s "
        f"AND {qn('booked')} < {qn('capacity')} "
        f"AND (SELECT COUNT(*) FROM (SELECT 1 FROM {booking_table} "
        f"WHERE {qn('national_id')} = %s AND {qn('group_id')} = %s AND {qn('status')} = %s "
        f"AND {qn('start')} > %s AND {qn('start')} < %s LIMIT %s) held) < %s"
    )


def claim_params(
    *, centre_id: int, group_id: int, start: datetime, national_id: str, rules: BookingRules
) -> list[Any]:
    span = timedelta(days=rules.period_days)
    return [
        centre_id,
        group_id,
        prep(Slot, "start", start),
        national_id,
        group_id,
        BookingStatus.BOOKED.value,
        prep(Booking, "start", start - span),
        prep(Booking, "start", start + span),
        rules.max_active_per_group,
        rules.max_active_per_group,
    ]


@functools.cache
def _fields(model, skip: tuple[str, ...] = ()) -> tuple:
    """The columns a statement writes for ``model``: every concrete field but the key and
    ``skip`` (filled by the statement), in the order of the insert and its parameters."""
    return tuple(f for f in model._meta.concrete_fields if not f.primary_key and f.name not in skip)


@functools.cache
def _statement(vendor: str, event_sql: str, with_key: bool, with_message: bool) -> str:
    qn = connection.ops.quote_name
    head = qn(AuditStream._meta.db_table)

    def insert(model, skip: tuple[str, ...], tail: list[tuple[str, str]]) -> str:
        fields = _fields(model, skip)
        columns = ", ".join([qn(str(f.column)) for f in fields] + [column for column, _ in tail])
        values = ", ".join([f"CAST(%s AS {column_type(f)})" for f in fields] + [sql for _, sql in tail])
        return f"INSERT INTO {qn(model._meta.db_table)} ({columns}) SELECT {values}"  # noqa: S608

    booking_insert = insert(Booking, _CLAIMED, [(qn("slot_id"), "c.id"), (qn("end"), f"c.{qn('end')}")])
    key_insert = insert(IdempotencyKey, ("booking",), [(qn("booking_id"), "b.id")])
    dedupe = "CAST(%s AS text) || CAST(b.id AS text) || CAST(%s AS text)"
    message_insert = insert(OutboxMessage, ("dedupe_key",), [(qn("dedupe_key"), dedupe)])
    parts = [
        f"c AS ({claim_sql()} AND EXISTS (SELECT 1 FROM {head} WHERE {qn('name')} = %s) "  # noqa: S608
        f"RETURNING {qn('id')}, {qn('end')})",
        f"b AS ({booking_insert} "
        f"FROM c RETURNING {qn('id')})",
        f"h AS (UPDATE {head} SET {qn('last_seq')} = {qn('last_seq')} + 1 "  # noqa: S608
        f"WHERE {qn('name')} = %s AND EXISTS (SELECT 1 FROM b) "
        f"RETURNING {qn('last_seq')}, {qn('last_hash')})",
        f"e AS ({event_sql} FROM c, b, h RETURNING {qn('id')})",
    ]
    if with_key:
        parts.append(f"k AS ({key_insert} FROM b)")
    message = "NULL"
    if with_message:
        parts.append(f"o AS ({message_insert} FROM b RETURNING {qn('id')})")
        message = f"(SELECT o.{qn('id')} FROM o)"  # noqa: S608
    select = f"SELECT c.{qn('id')}, c.{qn('end')}, b.{qn('id')}, {message} FROM c, b, e"  # noqa: S608
    return f"WITH {', '.join(parts)} {select}"


def insert_booking(
    booking: Booking,
    *,
    national_id: str,
    rules: BookingRules,
    stream: str,
    actor,
    after: dict[str, Any],
    idempotency: IdempotencyKey | None,
    message: OutboxMessage | None,
    dedupe: tuple[str, str],
) -> tuple[int, datetime, int, int | None] | None:
    """Take a place and write ``booking`` with its event, key and SMS in one statement.

    ``after`` is the event's ``after`` with ``hole("slot")`` for the slot's id;
    ``dedupe`` the message's dedupe key before and after the booking's id. Returns
    ``(slot id, slot end, booking id, message id)``, or None, having written nothing, when
    the slot is full, the citizen at the cap, or the stream's head does not exist yet.
    """
    event_sql, event_params = event_insert(
        head="h",
        object_id="b.id",
        holes=_HOLES,
        stream=stream,
        action="booking.created",
        object_type=Booking._meta.label_lower,
        actor=actor,
        created_at=booking.created_at,
        after=after,
        bare=("slot",),
    )
    sql = _statement(connection.vendor, event_sql, idempotency is not None, message is not None)
    params = claim_params(
        centre_id=booking.centre_id,
        group_id=booking.group_id,
        start=booking.start,
        national_id=national_id,
        rules=rules,
    )
    params.append(stream)
    params += insert_values(booking, _fields(Booking, _CLAIMED))
    params.append(stream)
    params += event_params
    if idempotency is not None:
        params += insert_values(idempotency, _fields(IdempotencyKey, ("booking",)))
    if message is not None:
        params += insert_values(message, _fields(OutboxMessage, ("dedupe_key",)))
        params += list(dedupe)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    slot_id, end, pk, message_id = row
    return int(slot_id), from_db(Slot, "end", end), int(pk), message_id
