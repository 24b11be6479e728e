"""How a ticket gets its number, and on PostgreSQL how it is issued in one statement.

Numbers come from a row per (centre, local day, prefix) whose ``last`` is raised by one
``UPDATE … RETURNING``: the row stays locked until the issuing transaction ends, so
numbers are handed out one at a time, and an issue that fails gives its number back (no
gaps). A unique constraint on the ticket backs this.

On PostgreSQL the kiosk's issue is one statement (``issue_in_one_statement``): it takes
the number, advances the centre's audit stream, inserts the ticket and inserts the
audit event with its hash computed by the database from the same text Python would hash
(``onestop.audit.services.payload_parts``). A single statement is atomic by itself, so
outside a transaction it needs no ``BEGIN`` and ``COMMIT`` round trips; inside one it
is part of it. Elsewhere (SQLite) the ticket is numbered and inserted here and the event
is written by ``audit_record``.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from django.db import connection

from onestop.audit.models import AuditStream
from onestop.audit.services import ensure_stream
from onestop.audit.statements import column_type, event_insert
from onestop.core.sql import insert_values, mark_saved

from .models import Ticket, TicketSequence

_NUMBERED_FIELDS = ("sequence", "number")


def _sequence_sql() -> str:
    qn = connection.ops.quote_name
    return (f"UPDATE {qn(TicketSequence._meta.db_table)} SET {qn('last')} = {qn('last')} + 1 "  # noqa: S608 -- names from model metadata
            f"WHERE {qn('centre_id')} = %s AND {qn('day')} = %s AND {qn('prefix')} = %s")


def create_sequence_row(centre_id: int, day, prefix: str) -> None:
    TicketSequence.objects.bulk_create([TicketSequence(centre_id=centre_id, day=day, prefix=prefix)],
                                       ignore_conflicts=True)


def next_sequence(centre_id: int, day, prefix: str) -> int:
    """Take the next number of the day's sequence row (created on first use)."""
    sql = f"{_sequence_sql()} RETURNING {connection.ops.quote_name('last')}"
    for _attempt in range(2):
        with connection.cursor() as cursor:
            cursor.execute(sql, [centre_id, day, prefix])
            row = cursor.fetchone()
        if row is not None:
            return int(row[0])
        create_sequence_row(centre_id, day, prefix)
    raise AssertionError("the sequence row exists after it was created")


def format_number(prefix: str, sequence: int) -> str:
    return f"{prefix}{sequence:03d}"


def insert_numbered(ticket: Ticket) -> None:
    """Give ``ticket`` the next number of its centre, day and prefix and insert it (ORM)."""
    ticket.sequence = next_sequence(ticket.centre_id, ticket.day, ticket.prefix)
    ticket.number = format_number(ticket.prefix, ticket.sequence)
    ticket.save(force_insert=True)


# --------------------------------------------------------------------------- one statement


# What the database fills into the event's holes, from the CTEs below.
_HOLES = {"number": "t.number"}


@functools.cache
def _statement(vendor: str, event_sql: str) -> tuple[str, list]:
    """The issue statement around one form of the event's insert.

    Returns ``(sql, ticket fields)``; the parameters are, in order: centre, day, prefix,
    stream (numbering row), stream (audit head), the ticket's field values, prefix
    (number), then the event's (:func:`onestop.audit.statements.event_insert`).
    """
    qn = connection.ops.quote_name
    head = qn(AuditStream._meta.db_table)
    ticket_fields = [f for f in Ticket._meta.concrete_fields if not f.primary_key and f.name not in _NUMBERED_FIELDS]
    ticket_columns = ", ".join([qn(str(f.column)) for f in ticket_fields] + [qn("sequence"), qn("number")])
    ticket_values = ", ".join(f"CAST(%s AS {column_type(f)})" for f in ticket_fields)
    last = f"s.{qn('last')}"
    number = (f"CAST(%s AS varchar) || CASE WHEN {last} < 1000 THEN lpad(CAST({last} AS text), 3, '0') "
              f"ELSE CAST({last} AS text) END")
    sql = (
        f"WITH s AS ({_sequence_sql()} AND EXISTS (SELECT 1 FROM {head} WHERE {qn('name')} = %s) "  # noqa: S608 -- names from model metadata
        f"RETURNING {qn('last')}), "
        f"h AS (UPDATE {head} SET {qn('last_seq')} = {qn('last_seq')} + 1 "
        f"WHERE {qn('name')} = %s AND EXISTS (SELECT 1 FROM s) RETURNING {qn('last_seq')}, {qn('last_hash')}), "
        f"t AS (INSERT INTO {qn(Ticket._meta.db_table)} ({ticket_columns}) "
        f"SELECT {ticket_values}, {last}, {number} FROM s, h "
        f"RETURNING {qn('id')}, {qn('sequence')}, {qn('number')}), "
        f"e AS ({event_sql} FROM t, h RETURNING {qn('id')}) "
        f"SELECT t.{qn('id')}, t.{qn('sequence')}, t.{qn('number')} FROM t, e"
    )
    return sql, ticket_fields


def issue_in_one_statement(ticket: Ticket, *, stream: str, action: str, actor, created_at: datetime,
                           after: dict[str, Any]) -> bool:
    """Number and insert ``ticket`` and its audit event in one statement (PostgreSQL).

    ``after`` is the event's ``after`` with ``hole("number")`` where the number goes.
    Returns False, having changed nothing, when the day's numbering row or the stream's
    head does not exist yet; the caller creates them and calls again.
    """
    event_sql, event_params = event_insert(head="h", object_id="t.id", holes=_HOLES, stream=stream, action=action,
                                           object_type=Ticket._meta.label_lower, actor=actor, created_at=created_at,
                                           after=after)
    sql, ticket_fields = _statement(connection.vendor, event_sql)
    params: list[Any] = [ticket.centre_id, ticket.day, ticket.prefix, stream, stream]
    params += insert_values(ticket, ticket_fields)
    params.append(ticket.prefix)
    params += event_params
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return False
    pk, ticket.sequence, ticket.number = row
    mark_saved(ticket, pk)
    return True


def ensure_rows(centre_id: int, day, prefix: str, stream: str) -> None:
    """Create the day's numbering row and the stream's head if they do not exist."""
    create_sequence_row(centre_id, day, prefix)
    ensure_stream(stream)
