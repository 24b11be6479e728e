"""A booking's writes as one SQL statement (PostgreSQL), after the citizen's lock.

:func:`claim_sql` is the place-taking ``UPDATE`` with the per-citizen cap (see
``services._claim_place_within_cap``, the form used elsewhere). On PostgreSQL
:func:`insert_booking` takes the place with an upsert of the slot's row instead
(the claim's ``UPDATE`` when the row exists, else :func:`_claim_upsert_sql`: the row is
made with the day's places on the slot's first booking), in one data-modifying ``WITH``
that also inserts the booking, advances the centre's audit stream, inserts the audit event
(its hash computed by the database, see ``onestop.audit.statements``), the idempotency key
and the confirmation SMS. Every part depends on the claim: when the slot is full, the day
gives it no place or the citizen is at the cap, nothing is written and no row comes back.
The statement runs in the booking's transaction after the citizen's row is locked, so its
snapshot sees every committed booking of that citizen.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from psycopg.types.json import Json, Jsonb

from onestop.audit.models import AuditStream
from onestop.audit.statements import column_type, event_insert
from onestop.core.sql import from_db, insert_values, prep
from onestop.notifications.models import OutboxMessage

from .models import Booking, BookingStatus, CapacityOverride, CitizenRecord, IdempotencyKey, Slot
from .rules import BookingRules

log = logging.getLogger(__name__)

#: Booking columns the claim fills.
_CLAIMED = ("slot", "end")
#: What the database fills into the event's holes.
_HOLES = {"slot": "CAST(c.id AS text)"}


def _cap_sql() -> str:
    """The citizen holds fewer than the cap's bookings of the group within the period."""
    qn = connection.ops.quote_name
    return (
        f"(SELECT COUNT(*) FROM (SELECT 1 FROM {qn(Booking._meta.db_table)} "  # noqa: S608 -- model metadata
        f"WHERE {qn('national_id')} = %s AND {qn('group_id')} = %s AND {qn('status')} = %s "
        f"AND {qn('start')} > %s AND {qn('start')} < %s LIMIT %s) held) < %s"
    )


def _cap_params(*, group_id: int, start: datetime, national_id: str, rules: BookingRules) -> list:
    span = timedelta(days=rules.period_days)
    return [
        national_id,
        group_id,
        BookingStatus.BOOKED.value,
        prep(Booking, "start", start - span),
        prep(Booking, "start", start + span),
        rules.max_active_per_group,
        rules.max_active_per_group,
    ]


def citizen_lock_sql() -> str:
    """Create or lock the citizen's row: ``INSERT … ON CONFLICT DO UPDATE`` (country, ID)."""
    qn = connection.ops.quote_name
    return (
        f"INSERT INTO {qn(CitizenRecord._meta.db_table)} "  # noqa: S608 -- model metadata
        f"({qn('country_id')}, {qn('national_id')}, {qn('no_shows')}) VALUES (%s, %s, 0) "
        f"ON CONFLICT ({qn('country_id')}, {qn('national_id')}) "
        f"DO UPDATE SET {qn('national_id')} = EXCLUDED.{qn('national_id')}"
    )


def claim_sql() -> str:
    """``UPDATE <slot> SET booked = booked + 1 WHERE <slot key> AND booked < capacity AND
    <the citizen is under the cap>`` (without ``RETURNING``); parameters from
    :func:`claim_params`."""
    qn = connection.ops.quote_name
    return (
        f"UPDATE {qn(Slot._meta.db_table)} SET {qn('booked')} = {qn('booked')} + 1 "  # noqa: S608 -- model metadata
        f"WHERE {qn('centre_id')} = %s AND {qn('group_id')} = %s AND {qn('start')} = %s "
        f"AND {qn('booked')} < {qn('capacity')} AND {_cap_sql()}"
    )


def claim_params(
    *, centre_id: int, group_id: int, start: datetime, national_id: str, rules: BookingRules
) -> list[Any]:
    return [
        centre_id,
        group_id,
        prep(Slot, "start", start),
        *_cap_params(group_id=group_id, start=start, national_id=national_id, rules=rules),
    ]


def _claim_upsert_sql() -> str:
    """The claim as an upsert of the slot's row (PostgreSQL), to be followed by more
    conditions and the ``ON CONFLICT`` part (see :func:`_statement`).

    On the slot's first booking the row is inserted with one place taken and the day's
    places: the capacity override of the day for the group, else the one for every group,
    else the places the plan gives the slot (a parameter). A slot with no place gets no
    row. When the row exists, ``booked`` is raised only while under its capacity (which
    ``services.capacity_refresh`` keeps to later overrides); a second first booking of the
    slot waits for the first's commit and then takes that path. The cap is checked in the
    ``SELECT``: a citizen at the cap neither makes nor claims the row.
    """
    qn = connection.ops.quote_name
    slot, override = qn(Slot._meta.db_table), qn(CapacityOverride._meta.db_table)

    def day_override(group: str) -> str:
        return (
            f"(SELECT {qn('capacity')} FROM {override} WHERE {qn('centre_id')} = %s "  # noqa: S608
            f"AND {qn('date')} = %s AND {qn('group_id')} {group} LIMIT 1)"
        )

    return (
        f"INSERT INTO {slot} AS s ({qn('centre_id')}, {qn('group_id')}, {qn('start')}, "  # noqa: S608
        f"{qn('end')}, {qn('capacity')}, {qn('booked')}, {qn('released')}) "
        f"SELECT %s, %s, %s, %s, p.places, 1, 0 FROM (SELECT GREATEST(0, COALESCE("
        f"{day_override('= %s')}, {day_override('IS NULL')}, %s)) AS places) p "
        f"WHERE p.places > 0 AND {_cap_sql()}"
    )


def _claim_upsert_params(booking: Booking, *, day, planned_places: int, national_id: str, rules):
    start = prep(Slot, "start", booking.start)
    centre, group, when = booking.centre_id, booking.group_id, prep(CapacityOverride, "date", day)
    return [
        centre,
        group,
        start,
        prep(Slot, "end", booking.end),
        centre,
        when,
        group,
        centre,
        when,
        planned_places,
        *_cap_params(group_id=group, start=booking.start, national_id=national_id, rules=rules),
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
    key = ", ".join(qn(c) for c in ("centre_id", "group_id", "start"))
    booked = f"s.{qn('booked')}"
    slot = qn(Slot._meta.db_table)
    head_exists = f"EXISTS (SELECT 1 FROM {head} WHERE {qn('name')} = %s)"  # noqa: S608
    # u claims a row the statement's snapshot sees; i makes the row when it sees none (or,
    # when another booking made it meanwhile, claims it after that one's commit). Only one
    # of them can take the place. The plain UPDATE leaves a full slot's row unlocked,
    # which ON CONFLICT DO UPDATE would not: it locks the row it conflicts with even when
    # its WHERE refuses, so every refusal on a full slot would wait for the one before.
    parts = [
        f"u AS ({claim_sql()} AND {head_exists} RETURNING {qn('id')}, {qn('end')})",
        f"i AS ({_claim_upsert_sql()} AND {head_exists} "  # noqa: S608 -- model metadata
        f"AND NOT EXISTS (SELECT 1 FROM {slot} WHERE {qn('centre_id')} = %s "
        f"AND {qn('group_id')} = %s AND {qn('start')} = %s) "
        f"ON CONFLICT ({key}) DO UPDATE SET {qn('booked')} = {booked} + 1 "
        f"WHERE {booked} < s.{qn('capacity')} RETURNING s.{qn('id')}, s.{qn('end')})",
        "c AS (SELECT * FROM u UNION ALL SELECT * FROM i)",
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
    select = (
        f"SELECT CAST(c.{qn('id')} AS bigint), c.{qn('end')}, CAST(b.{qn('id')} AS bigint), "  # noqa: S608
        f"CAST({message} AS bigint) FROM c, b, e"
    )
    return f"WITH {', '.join(parts)} {select}"


def insert_booking(
    booking: Booking,
    *,
    day: date,
    planned_places: int,
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

    ``booking.start`` and ``booking.end`` are the slot's, ``day`` its local date at the
    centre and ``planned_places`` the places the day's plan gives it without an override
    (for the slot's row, if this is its first booking). ``after`` is the event's ``after``
    with ``hole("slot")`` for the slot's id; ``dedupe`` the message's dedupe key before and
    after the booking's id. Returns ``(slot id, slot end, booking id, message id)``, or
    None, having written nothing, when the slot is full or has no place, the citizen is at
    the cap, or the stream's head does not exist yet.
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
    params += _claim_upsert_params(
        booking, day=day, planned_places=planned_places, national_id=national_id, rules=rules
    )
    params += [stream, booking.centre_id, booking.group_id, prep(Slot, "start", booking.start)]
    params += insert_values(booking, _fields(Booking, _CLAIMED))
    params.append(stream)
    params += event_params
    if idempotency is not None:
        params += insert_values(idempotency, _fields(IdempotencyKey, ("booking",)))
    if message is not None:
        params += insert_values(message, _fields(OutboxMessage, ("dedupe_key",)))
        params += list(dedupe)
    lock_params: list[Any] = [booking.centre.country_id, national_id]
    function = _function(sql, [*lock_params, *params])
    if function is None:  # the two statements in a transaction of their own
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(citizen_lock_sql(), lock_params)
            cursor.execute(sql, params)
            row = cursor.fetchone()
    else:
        # one call, committed by itself; within a caller's transaction, in a savepoint
        nested = transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()
        with nested, connection.cursor() as cursor:
            cursor.execute(function, [*lock_params, *params])
            row = cursor.fetchone()
    if row is None:
        return None
    slot_id, end, pk, message_id = row
    return int(slot_id), from_db(Slot, "end", end), int(pk), message_id


# --------------------------------------------------------------------------- one round trip
#
# The citizen's lock must be a statement of its own: the cap is read by the statement after
# it, whose snapshot is taken once the lock is held. Sent from here, that is four round
# trips (BEGIN, the lock, the statement, COMMIT), and between them the transaction waits
# for this process's Python, holding the citizen's row, the slot's row and the centre's
# audit head, which every other booking of the centre needs: under load, a server thread
# that got its answer may wait for the GIL before it sends COMMIT. A PL/pgSQL function runs
# both statements in one call that commits by itself, each statement with its own snapshot
# (a volatile function takes a new one for every statement). The function is made from
# the very text above, so it cannot drift from it; its name carries a hash of its text and
# parameter types, and each process makes sure of it once, over a connection of its own
# (so that a caller's transaction rolling back cannot take it away). Should that fail (no
# right to create functions, say), bookings take the two statements in a transaction.

_FUNCTION_RESULT = "o_slot bigint, o_end timestamptz, o_booking bigint, o_message bigint"
_made: dict[tuple[str, tuple[str | None, ...]], str | None] = {}


def _param_type(value: Any) -> str | None:
    if value is None:
        return "text"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "bigint"
    if isinstance(value, str):
        return "text"
    if isinstance(value, datetime):
        return "timestamptz" if value.tzinfo is not None else "timestamp"
    if isinstance(value, date):
        return "date"
    if isinstance(value, Decimal):
        return "numeric"
    if isinstance(value, Jsonb):
        return "jsonb"
    if isinstance(value, Json):
        return "json"
    return None


def _numbered(sql: str, first: int) -> str:
    """``sql`` with its ``%s`` numbered ``$first``, ``$first+1``, … (and ``%%`` as ``%``)."""
    pieces = sql.split("%s")
    if any("%" in piece.replace("%%", "") for piece in pieces):
        raise ValueError("a placeholder other than %s")
    out = [pieces[0]]
    for index, piece in enumerate(pieces[1:]):
        out += [f"${first + index}", piece]
    return "".join(out).replace("%%", "%")


def _function(sql: str, params: list[Any]) -> str | None:
    """``SELECT * FROM <the function>(%s, …)`` for the lock and ``sql``, or None."""
    types = tuple(_param_type(value) for value in params)
    call = _made.get((sql, types), "")  # ``sql`` is one object per form: its hash is kept
    if call == "":
        name = None if None in types else _make_function(sql, types)  # type: ignore[arg-type]
        call = f"SELECT * FROM {name}({', '.join(['%s'] * len(types))})" if name else None  # noqa: S608
        _made[(sql, types)] = call
    return call


def _make_function(sql: str, types: tuple[str, ...]) -> str | None:
    import psycopg

    lock = citizen_lock_sql()
    key = hashlib.sha256(f"{lock}\x00{sql}\x00{types}".encode()).hexdigest()
    name = f"onestop_booking_{key[:24]}"
    body = f"BEGIN {_numbered(lock, 1)}; RETURN QUERY {_numbered(sql, 1 + lock.count('%s'))}; END"
    if "$onestop$" in body:
        return None
    ddl = (
        f"CREATE FUNCTION {name}({', '.join(types)}) RETURNS TABLE ({_FUNCTION_RESULT}) "
        f"LANGUAGE plpgsql VOLATILE AS $onestop${body}$onestop$"
    )
    exists = "SELECT 1 FROM pg_proc WHERE proname = %s"
    try:
        with psycopg.connect(**connection.get_connection_params(), autocommit=True) as own:
            if own.execute(exists, [name]).fetchone() is None:
                try:
                    own.execute(ddl)  # type: ignore[arg-type]
                except psycopg.Error:
                    # made meanwhile by another process, or not allowed: tell which
                    if own.execute(exists, [name]).fetchone() is None:
                        raise
    except Exception:  # noqa: BLE001 -- whatever stops it, the two statements still work
        log.warning("bookings: cannot make %s, using two statements", name, exc_info=True)
        return None
    return name

