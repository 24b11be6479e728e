"""Writing audit events: the only way rows enter the hash-chained log."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction

from onestop.core import clock
from onestop.core.sql import insert_statement, insert_values, mark_saved

from .models import AuditEvent, AuditStream

GENESIS = "0" * 64


def _canonical(value: Any) -> Any:
    """JSON-round-trip a value so that what is hashed equals what is stored."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, sort_keys=True)) if value is not None else None


def _payload(*, stream: str, seq: Any, created_at: datetime, actor_name: str, action: str, object_type: str,
             object_id: Any, before: Any, after: Any, prev_hash: str) -> str:
    """The text that is hashed: one JSON object, keys sorted, no spaces, UTF-8 as is."""
    payload = {
        "stream": stream,
        "seq": seq,
        "created_at": created_at.isoformat(timespec="microseconds"),
        "actor": actor_name,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "before": before,
        "after": after,
        "prev": prev_hash,
    }
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), cls=DjangoJSONEncoder)


def event_digest(*, stream: str, seq: int, created_at: datetime, actor_name: str, action: str,
                 object_type: str, object_id: str, before: Any, after: Any, prev_hash: str) -> str:
    raw = _payload(stream=stream, seq=seq, created_at=created_at, actor_name=actor_name, action=action,
                   object_type=object_type, object_id=str(object_id), before=before, after=after,
                   prev_hash=prev_hash)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def hole(name: str) -> str:
    """A stand-in for a value only the database knows when the statement runs (see ``payload_parts``)."""
    if not re.fullmatch(r"[a-z_]+", name):
        raise ValueError(f"hole names are lower-case words, not {name!r}")
    return f"\ue000{name}\ue000"


_HOLE = re.compile("\"?\ue000([a-z_]+)\ue000\"?")


def payload_parts(*, stream: str, created_at: datetime, actor_name: str, action: str, object_type: str,
                  before: Any, after: Any, bare: tuple[str, ...] = ()) -> list[str]:
    """The hashed text of an event whose sequence number, previous hash and object id (and any
    ``hole(name)`` inside ``after``) are filled in by the database in the statement that
    writes the event.

    Returns ``[text, name, text, name, …, text]``: literal text alternating with hole names
    (``seq``, ``object_id``, ``prev`` and those of ``after``). The text is cut from the very
    JSON ``event_digest`` hashes, so filling each hole with its value's JSON gives exactly
    that text: ``seq`` and the holes named in ``bare`` are bare numbers, the others are
    strings that need no JSON escaping (digits, hex, ticket numbers), so their holes sit
    inside their quotes.
    """
    raw = _payload(stream=stream, seq=hole("seq"), created_at=created_at, actor_name=actor_name, action=action,
                   object_type=object_type, object_id=hole("object_id"), before=_canonical(before),
                   after=_canonical(after), prev_hash=hole("prev"))
    return _split(raw, bare=("seq", *bare))


def json_parts(value: Any, bare: tuple[str, ...] = ()) -> list[str]:
    """``value`` as stored in an event's JSON column, split at its holes like ``payload_parts``."""
    return _split(json.dumps(_canonical(value), cls=DjangoJSONEncoder, ensure_ascii=False), bare=bare)


def _split(raw: str, bare: tuple[str, ...]) -> list[str]:
    parts: list[str] = []
    position = 0
    for match in _HOLE.finditer(raw):
        name = match.group(1)
        start, end = match.span()
        if name not in bare:  # a string value: its quotes stay in the text
            start += match.group(0).startswith('"')
            end -= match.group(0).endswith('"')
        parts += [raw[position:start], name]
        position = end
    parts.append(raw[position:])
    return parts


def stream_for_centre(centre) -> str:
    return f"centre:{centre.country.code}:{centre.code}"


def stream_for_agency(agency) -> str:
    return f"agency:{agency.country.code}:{agency.code}"


def stream_national(country_code: str) -> str:
    return f"national:{country_code}"


def actor_name(actor) -> str:
    """The name an event records for ``actor``: the username, or "system" without one."""
    return getattr(actor, "username", "") if actor is not None else "system"


def ensure_stream(name: str) -> None:
    """Create the stream's head unless it exists."""
    AuditStream.objects.bulk_create([AuditStream(name=name)], ignore_conflicts=True)


def audit_record(*, stream: str, action: str, obj: Any = None, object_type: str = "", object_id: str = "",
                 actor=None, before: Any = None, after: Any = None) -> AuditEvent:
    """Append one event to ``stream``. Must run inside the caller's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must be called inside the transaction that makes the change")
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    seq, prev_hash = _advance_head(stream)
    created_at = clock.now()
    before_c, after_c = _canonical(before), _canonical(after)
    name = actor_name(actor)
    digest = event_digest(stream=stream, seq=seq, created_at=created_at, actor_name=name, action=action,
                          object_type=object_type, object_id=object_id, before=before_c, after=after_c,
                          prev_hash=prev_hash)
    event = AuditEvent(
        stream=stream, seq=seq, created_at=created_at, actor=actor if getattr(actor, "pk", None) else None,
        actor_name=name, action=action, object_type=object_type, object_id=str(object_id),
        before=before_c, after=after_c, prev_hash=prev_hash, hash=digest,
    )
    _append(event)
    return event


def _append(event: AuditEvent) -> None:
    """Insert ``event``; a trigger moves the stream head's hash to it (migration 0003)."""
    insert, fields = insert_statement(AuditEvent)
    values = insert_values(event, fields)
    with connection.cursor() as cursor:
        cursor.execute(f"{insert} RETURNING {connection.ops.quote_name('id')}", values)
        mark_saved(event, cursor.fetchone()[0])


def _advance_head(stream: str) -> tuple[int, str]:
    """Lock the stream's head row and take the next sequence number: ``(seq, previous hash)``.

    One ``UPDATE … RETURNING`` (the head is created on first use); the row stays locked
    until the caller's transaction ends, so events of a stream are chained one at a time.
    """
    qn = connection.ops.quote_name
    table = qn(AuditStream._meta.db_table)
    sql = (f"UPDATE {table} SET {qn('last_seq')} = {qn('last_seq')} + 1 WHERE {qn('name')} = %s "  # noqa: S608 -- names from model metadata
           f"RETURNING {qn('last_seq')}, {qn('last_hash')}")
    for _ in range(2):
        with connection.cursor() as cursor:
            cursor.execute(sql, [stream])
            row = cursor.fetchone()
        if row is not None:
            return int(row[0]), row[1]
        ensure_stream(stream)
    raise AssertionError("the stream's head exists after it was created")
