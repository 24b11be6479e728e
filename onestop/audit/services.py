"""Writing audit events: the only way rows enter the hash-chained log."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from onestop.core import clock

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
    head = AuditStream.objects.select_for_update().filter(name=stream).first()
    if head is None:
        AuditStream.objects.bulk_create([AuditStream(name=stream)], ignore_conflicts=True)
        head = AuditStream.objects.select_for_update().get(name=stream)
    created_at = clock.now()
    before_c, after_c = _canonical(before), _canonical(after)
    actor_name = getattr(actor, "username", "") if actor is not None else "system"
    seq = head.last_seq + 1
    digest = event_digest(stream=stream, seq=seq, created_at=created_at, actor_name=actor_name, action=action,
                          object_type=object_type, object_id=object_id, before=before_c, after=after_c,
                          prev_hash=head.last_hash)
    event = AuditEvent.objects.create(
        stream=stream, seq=seq, created_at=created_at, actor=actor if getattr(actor, "pk", None) else None,
        actor_name=actor_name, action=action, object_type=object_type, object_id=str(object_id),
        before=before_c, after=after_c, prev_hash=head.last_hash, hash=digest,
    )
    AuditStream.objects.filter(pk=head.pk).update(last_seq=seq, last_hash=digest)
    return event
