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
import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from psycopg.types.json import Json, Jsonb

from onestop.audit.models import AuditStream
from onestop.audit.statements import column_type, event_insert
from onestop.core.sql import from_db, insert_values, prep
from onestop.notifications.models import OutboxMessage
from onestop.notifications.models import Status as MessageStatus

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


def _claim_upsert_sql(unless: str = "") -> str:
    """The claim as an upsert of the slot's row (PostgreSQL), to be followed by more
    conditions and the ``ON CONFLICT`` part (see :func:`_statement`).

    On the slot's first booking the row is inserted with one place taken and the day's
    places: the capacity override of the day for the group, else the one for every group,
    else the places the plan gives the slot (a parameter). A slot with no place gets no
    row. When the row exists, ``booked`` is raised only while under its capacity (which
    ``services.capacity_refresh`` keeps to later overrides); a second first booking of the
    slot waits for the first's commit and then takes that path. The cap is checked in the
    ``SELECT``: a citizen at the cap neither makes nor claims the row. ``unless`` is a query
    whose rows make the upsert do nothing, tested before anything else.
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
        f"WHERE {f'NOT EXISTS ({unless}) AND ' if unless else ''}p.places > 0 AND {_cap_sql()}"
    )


@functools.cache
def _fields(model, skip: tuple[str, ...] = ()) -> tuple:
    """The columns a statement writes for ``model``: every concrete field but the key and
    ``skip`` (filled by the statement), in the order of the insert and its parameters."""
    return tuple(f for f in model._meta.concrete_fields if not f.primary_key and f.name not in skip)


# Parameters are named (``%(name)s``): a value the statement uses in several places (the
# centre, the group, the start, the cap's bounds, the stream) is sent once, and so is each
# value of the booking that the claim already has.

_CAP_NAMES = ("national_id", "group", "status", "from", "to", "max", "max")
_CLAIM_NAMES = ("centre", "group", "start", *_CAP_NAMES)
_UPSERT_NAMES = ("centre", "group", "start", "end", "centre", "day", "group", "centre", "day",
                 "planned", *_CAP_NAMES)
#: Booking columns that are one of the claim's parameters.
_BOOKING_SHARED = {"centre_id": "centre", "group_id": "group", "start": "start",
                   "national_id": "national_id", "status": "status"}
#: Columns every new booking (or confirmation SMS) has the same value in: written as
#: constants. ``insert_booking`` refuses an instance that differs.
_BOOKING_FIXED: dict[str, Any] = {"checked_in_at": None, "cancelled_at": None, "no_show_at": None,
                                  "moves": 0, "ticket_id": None}
_MESSAGE_FIXED: dict[str, Any] = {"subject": "", "status": MessageStatus.PENDING.value,
                                  "attempts": 0, "claimed_until": None, "last_error": "",
                                  "provider_id": "", "sent_at": None}
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _named(sql: str, names: Sequence[str]) -> str:
    """``sql`` with its ``%s`` placeholders named ``names``, in order."""
    pieces = sql.split("%s")
    if len(pieces) != len(names) + 1:
        raise ValueError(f"{len(pieces) - 1} placeholders for {len(names)} names")
    out = [pieces[0]]
    for name, piece in zip(names, pieces[1:], strict=True):
        out += [f"%({name})s", piece]
    return "".join(out)


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"no constant for {value!r}")
    if isinstance(value, int):
        return str(value)
    return "'" + value.replace("'", "''") + "'"


def _own(prefix: str, model, skip: tuple[str, ...], shared: dict[str, str], fixed: dict[str, Any]):
    """The fields of ``model``'s insert that take a parameter of their own, with its name."""
    return tuple((f, f"{prefix}{f.attname}") for f in _fields(model, skip)
                 if f.attname not in shared and f.attname not in fixed)


@functools.cache
def _statement(vendor: str, event_sql: str, event_params: int, with_key: bool, with_message: bool) -> str:
    qn = connection.ops.quote_name
    head = qn(AuditStream._meta.db_table)

    def insert(model, skip: tuple[str, ...], tail: list[tuple[str, str]], prefix: str,
               shared: dict[str, str], fixed: dict[str, Any]) -> str:
        fields = _fields(model, skip)
        values = []
        for f in fields:
            if f.attname in fixed:
                value = _literal(fixed[f.attname])
            else:
                value = f"%({shared.get(f.attname, prefix + f.attname)})s"
            values.append(f"CAST({value} AS {column_type(f)})")
        columns = ", ".join([qn(str(f.column)) for f in fields] + [column for column, _ in tail])
        values += [sql for _, sql in tail]
        return f"INSERT INTO {qn(model._meta.db_table)} ({columns}) SELECT {', '.join(values)}"  # noqa: S608

    booking_insert = insert(Booking, _CLAIMED, [(qn("slot_id"), "c.id"), (qn("end"), f"c.{qn('end')}")],
                            "b_", _BOOKING_SHARED, _BOOKING_FIXED)
    key_insert = insert(IdempotencyKey, ("booking",), [(qn("booking_id"), "b.id")], "k_", {}, {})
    dedupe = "CAST(%(m_dedupe_before)s AS text) || CAST(b.id AS text) || CAST(%(m_dedupe_after)s AS text)"
    message_insert = insert(OutboxMessage, ("dedupe_key",), [(qn("dedupe_key"), dedupe)], "m_", {},
                            _MESSAGE_FIXED)
    key = ", ".join(qn(c) for c in ("centre_id", "group_id", "start"))
    booked = f"s.{qn('booked')}"
    slot = qn(Slot._meta.db_table)
    head_exists = f"EXISTS (SELECT 1 FROM {head} WHERE {qn('name')} = %(stream)s)"  # noqa: S608
    event = _named(event_sql, [f"e{index}" for index in range(event_params)])
    # u claims a row the statement's snapshot sees; i makes the row when it sees none (or,
    # when another booking made it meanwhile, claims it after that one's commit). Only one
    # of them can take the place. The plain UPDATE leaves a full slot's row unlocked,
    # which ON CONFLICT DO UPDATE would not: it locks the row it conflicts with even when
    # its WHERE refuses, so every refusal on a full slot would wait for the one before.
    parts = [
        f"u AS ({_named(claim_sql(), _CLAIM_NAMES)} AND {head_exists} RETURNING {qn('id')}, {qn('end')})",
        # (i reads nothing more once u has claimed: its conditions stop at the first)
        f"i AS ({_named(_claim_upsert_sql('SELECT 1 FROM u'), _UPSERT_NAMES)} AND {head_exists} "  # noqa: S608 -- model metadata
        f"AND NOT EXISTS (SELECT 1 FROM {slot} WHERE {qn('centre_id')} = %(centre)s "
        f"AND {qn('group_id')} = %(group)s AND {qn('start')} = %(start)s) "
        f"ON CONFLICT ({key}) DO UPDATE SET {qn('booked')} = {booked} + 1 "
        f"WHERE {booked} < s.{qn('capacity')} RETURNING s.{qn('id')}, s.{qn('end')})",
        "c AS (SELECT * FROM u UNION ALL SELECT * FROM i)",
        f"b AS ({booking_insert} "
        f"FROM c RETURNING {qn('id')})",
        f"h AS (UPDATE {head} SET {qn('last_seq')} = {qn('last_seq')} + 1 "  # noqa: S608
        f"WHERE {qn('name')} = %(stream)s AND EXISTS (SELECT 1 FROM b) "
        f"RETURNING {qn('last_seq')}, {qn('last_hash')})",
        f"e AS ({event} FROM c, b, h RETURNING {qn('id')})",
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


def _check_fixed(instance, fixed: dict[str, Any]) -> None:
    for attname, value in fixed.items():
        if getattr(instance, attname) != value:
            raise ValueError(f"a new {instance._meta.label} has {attname}={value!r} (the statement writes it so)")


def _own_values(instance, own, out: dict[str, Any]) -> None:
    for (_, name), value in zip(own, insert_values(instance, [f for f, _ in own]), strict=True):
        out[name] = value


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
    sql = _statement(connection.vendor, event_sql, len(event_params), idempotency is not None,
                     message is not None)
    if booking.status != BookingStatus.BOOKED or national_id != booking.national_id:
        raise ValueError("a new booking is booked, for the citizen it was made for")
    if booking.start.utcoffset() is None or booking.end.utcoffset() is None:
        raise ValueError("a booking's start and end are aware date-times")
    _check_fixed(booking, _BOOKING_FIXED)
    values: dict[str, Any] = {
        "country": booking.centre.country_id,
        "centre": booking.centre_id,
        # PostgreSQL takes aware date-times and dates as they are (no field preparation)
        "start": booking.start,
        "stream": stream,
        "end": booking.end,
        "day": day,
        "planned": planned_places,
    }
    # the cap's values, named as the statement names them (national ID, group, status, bounds)
    values.update(zip(_CAP_NAMES, _cap_params(group_id=booking.group_id, start=booking.start,
                                              national_id=national_id, rules=rules), strict=True))
    _own_values(booking, _own("b_", Booking, _CLAIMED, _BOOKING_SHARED, _BOOKING_FIXED), values)
    for index, value in enumerate(event_params):
        values[f"e{index}"] = value
    if idempotency is not None:
        _own_values(idempotency, _own("k_", IdempotencyKey, ("booking",), {}, {}), values)
    if message is not None:
        _check_fixed(message, _MESSAGE_FIXED)
        _own_values(message, _own("m_", OutboxMessage, ("dedupe_key",), {}, _MESSAGE_FIXED), values)
        values["m_dedupe_before"], values["m_dedupe_after"] = dedupe
    call = _function(sql, values)
    if call is None:  # the two statements in a transaction of their own
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_locked_citizen_sql(), values)
            cursor.execute(sql, values)
            row = cursor.fetchone()
    else:
        # one call, committed by itself; within a caller's transaction, in a savepoint
        function, order = call
        nested = transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()
        with nested, connection.cursor() as cursor:
            cursor.execute(function, [values[name] for name in order])
            row = cursor.fetchone()
    if row is None:
        return None
    slot_id, end, pk, message_id = row
    return int(slot_id), from_db(Slot, "end", end), int(pk), message_id


def _locked_citizen_sql() -> str:
    return _named(citizen_lock_sql(), ("country", "national_id"))


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
_made: dict[tuple[str, tuple[str | None, ...]], tuple[str, tuple[str, ...]] | None] = {}


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


@functools.cache
def _names(sql: str) -> tuple[str, ...]:
    """The parameter names of ``sql`` (with the citizen's lock), in order of first use."""
    return tuple(dict.fromkeys(_PLACEHOLDER.findall(f"{_locked_citizen_sql()} {sql}")))


def _numbered(sql: str, order: Sequence[str]) -> str:
    """``sql`` with each ``%(name)s`` as ``$n``, ``n`` its place in ``order`` (and ``%%`` as ``%``)."""
    place = {name: index for index, name in enumerate(order, 1)}
    if "%" in _PLACEHOLDER.sub("", sql).replace("%%", ""):
        raise ValueError("a placeholder other than %(name)s")
    return _PLACEHOLDER.sub(lambda m: f"${place[m.group(1)]}", sql).replace("%%", "%")


def _function(sql: str, values: dict[str, Any]) -> tuple[str, tuple[str, ...]] | None:
    """``SELECT * FROM <the function>(%s, …)`` for the lock and ``sql`` with the order of
    its arguments (names of ``values``), or None."""
    order = _names(sql)
    types = tuple(_param_type(values[name]) for name in order)
    call = _made.get((sql, types), "")  # ``sql`` is one object per form: its hash is kept
    if call == "":
        name = None if None in types else _make_function(sql, order, types)  # type: ignore[arg-type]
        made = f"SELECT * FROM {name}({', '.join(['%s'] * len(types))})" if name else None  # noqa: S608
        call = _made[(sql, types)] = (made, order) if made else None
    return call  # type: ignore[return-value]


def _make_function(sql: str, order: tuple[str, ...], types: tuple[str, ...]) -> str | None:
    import psycopg

    lock = _locked_citizen_sql()
    key = hashlib.sha256(f"{lock}\x00{sql}\x00{order}\x00{types}".encode()).hexdigest()
    name = f"onestop_booking_{key[:24]}"
    body = f"BEGIN {_numbered(lock, order)}; RETURN QUERY {_numbered(sql, order)}; END"
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
