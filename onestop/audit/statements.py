"""An audit event written by the same SQL statement as the change it records (PostgreSQL).

The hot writes (a kiosk ticket, a booking) are one data-modifying ``WITH`` statement each:
the change, the stream head's next sequence number and the event. The event's hash is
computed by the database from the text Python would hash (``payload_parts``): the literal
parts of that text are parameters, and the values only the database knows when the
statement runs (sequence number, previous hash, the new row's id, anything the caller
marks with ``hole(name)``) are SQL expressions of the statement's other parts.

:func:`event_insert` gives the ``INSERT … SELECT`` of the event and its parameters; the
caller puts it in a CTE after the head's ``UPDATE … RETURNING last_seq, last_hash`` and
the changed row, and adds the ``FROM``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import connection

from .models import AuditEvent
from .services import actor_name, json_parts, payload_parts

#: The event's columns the database fills: from the head (``<head>.last_seq``,
#: ``<head>.last_hash``) and from the changed row's id.
_FILLED = ("seq", "object_id", "prev_hash")


def column_type(field) -> str:
    """The column type of a concrete field, for ``CAST(%s AS <type>)``."""
    column_type = field.db_type(connection)
    if column_type is None:  # only fields without a column, which concrete_fields excludes
        raise AssertionError(f"{field.name} has no column type")
    return column_type


def _concat(holes: tuple[str, ...], hole_sql: Mapping[str, str]) -> str:
    """``CAST(%s AS text) || <hole> || CAST(%s AS text) …``: the literal parts around the
    holes are parameters, the holes are SQL."""
    pieces = ["CAST(%s AS text)"]
    for name in holes:
        pieces += [hole_sql[name], "CAST(%s AS text)"]
    return " || ".join(pieces)


@functools.cache
def _sql(vendor: str, head: str, object_id: str, holes: tuple[tuple[str, str], ...],
         payload_holes: tuple[str, ...], after_holes: tuple[str, ...]) -> str:
    qn = connection.ops.quote_name
    hole_sql = {"seq": f"CAST({head}.{qn('last_seq')} AS text)", "object_id": f"CAST({object_id} AS text)",
                "prev": f"{head}.{qn('last_hash')}", **dict(holes)}
    computed = {
        "seq": f"{head}.{qn('last_seq')}", "object_id": f"CAST({object_id} AS text)",
        "prev_hash": f"{head}.{qn('last_hash')}",
        "after": f"CAST({_concat(after_holes, hole_sql)} AS jsonb)",
        "hash": f"encode(sha256(convert_to({_concat(payload_holes, hole_sql)}, 'UTF8')), 'hex')",
    }
    fields = [f for f in AuditEvent._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(qn(str(f.column)) for f in fields)
    values = ", ".join(computed.get(f.name, f"CAST(%s AS {column_type(f)})") for f in fields)
    return f"INSERT INTO {qn(AuditEvent._meta.db_table)} ({columns}) SELECT {values}"  # noqa: S608 -- names from model metadata


def event_insert(*, head: str, object_id: str, holes: Mapping[str, str], stream: str, action: str,
                 object_type: str, actor, created_at: datetime, after: dict[str, Any],
                 bare: tuple[str, ...] = ()) -> tuple[str, list[Any]]:
    """``INSERT INTO <event> (…) SELECT …`` (without ``FROM``) and its parameters.

    ``head`` is the alias of the CTE that advanced the stream's head, ``object_id`` the SQL
    of the changed row's id, ``holes`` the SQL (text) of each ``hole(name)`` in ``after``;
    ``bare`` names the holes that stand for numbers. ``before`` is empty: these are
    creations.
    """
    name = actor_name(actor)
    payload = payload_parts(stream=stream, created_at=created_at, actor_name=name, action=action,
                            object_type=object_type, before=None, after=after, bare=bare)
    after_text = json_parts(after, bare=bare)
    sql = _sql(connection.vendor, head, object_id, tuple(sorted(holes.items())), tuple(payload[1::2]),
               tuple(after_text[1::2]))
    values = {"stream": stream, "created_at": created_at, "actor": getattr(actor, "pk", None),
              "actor_name": name, "action": action, "object_type": object_type, "before": None}
    params: list[Any] = []
    for field in AuditEvent._meta.concrete_fields:
        if field.primary_key or field.name in _FILLED:
            continue
        if field.name == "after":
            params += after_text[0::2]
        elif field.name == "hash":
            params += payload[0::2]
        else:
            params.append(field.get_db_prep_save(values[field.name], connection))
    return sql, params
