"""Writing audit events: the only way rows enter the hash-chained log."""

from __future__ import annotations

import hashlib
import json
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


def event_digest(*, stream: str, seq: int, created_at: datetime, actor_name: str, action: str,
                 object_type: str, object_id: str, before: Any, after: Any, prev_hash: str) -> str:
    payload = {
        "stream": stream,
        "seq": seq,
        "created_at": created_at.isoformat(timespec="microseconds"),
        "actor": actor_name,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "before": before,
        "after": after,
        "prev": prev_hash,
    }
    raw = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), cls=DjangoJSONEncoder)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def stream_for_centre(centre) -> str:
    return f"centre:{centre.country.code}:{centre.code}"


def stream_for_agency(agency) -> str:
    return f"agency:{agency.country.code}:{agency.code}"


def stream_national(country_code: str) -> str:
    return f"national:{country_code}"


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
    actor_name = getattr(actor, "username", "") if actor is not None else "system"
    digest = event_digest(stream=stream, seq=seq, created_at=created_at, actor_name=actor_name, action=action,
                          object_type=object_type, object_id=object_id, before=before_c, after=after_c,
                          prev_hash=prev_hash)
    event = AuditEvent(
        stream=stream, seq=seq, created_at=created_at, actor=actor if getattr(actor, "pk", None) else None,
        actor_name=actor_name, action=action, object_type=object_type, object_id=str(object_id),
        before=before_c, after=after_c, prev_hash=prev_hash, hash=digest,
    )
    _append(event)
    return event


def _append(event: AuditEvent) -> None:
    """Insert ``event`` and move the stream head's hash to it.

    On PostgreSQL both go in one statement (a data-modifying ``WITH``), one round trip less
    while the head row is locked; elsewhere in two.
    """
    insert, fields = insert_statement(AuditEvent)
    values = insert_values(event, fields)
    qn = connection.ops.quote_name
    head = qn(AuditStream._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"WITH e AS ({insert} RETURNING {qn('id')}) "  # noqa: S608 -- names from model metadata
                f"UPDATE {head} SET {qn('last_hash')} = %s FROM e WHERE {head}.{qn('name')} = %s RETURNING e.{qn('id')}",
                [*values, event.hash, event.stream])
            mark_saved(event, cursor.fetchone()[0])
        else:
            cursor.execute(f"{insert} RETURNING {qn('id')}", values)
            mark_saved(event, cursor.fetchone()[0])
            cursor.execute(f"UPDATE {head} SET {qn('last_hash')} = %s WHERE {qn('name')} = %s",  # noqa: S608
                           [event.hash, event.stream])


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
        AuditStream.objects.bulk_create([AuditStream(name=stream)], ignore_conflicts=True)
    raise AssertionError("the stream's head exists after it was created")
