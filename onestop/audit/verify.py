"""Verification of the audit chains: recompute every hash, check every link."""

from __future__ import annotations

from dataclasses import dataclass

from .models import AuditEvent, AuditStream
from .services import GENESIS, event_digest


@dataclass(frozen=True)
class Break:
    stream: str
    seq: int
    event_id: int | None
    reason: str

    def __str__(self) -> str:
        where = f"row id {self.event_id}" if self.event_id is not None else "end of stream"
        return f"stream {self.stream}: seq {self.seq} ({where}): {self.reason}"


def verify_stream(name: str) -> Break | None:
    head = AuditStream.objects.filter(name=name).first()
    expected_prev = GENESIS
    expected_seq = 1
    for event in AuditEvent.objects.filter(stream=name).order_by("seq", "id").iterator(chunk_size=2000):
        if event.seq != expected_seq:
            reason = (f"sequence jumps from {expected_seq - 1} to {event.seq}: rows missing (deleted)"
                      if event.seq > expected_seq else f"sequence number {event.seq} repeated or out of order")
            return Break(name, event.seq, event.id, reason)
        if event.prev_hash != expected_prev:
            return Break(name, event.seq, event.id, "previous-hash link does not match the preceding row")
        digest = event_digest(stream=event.stream, seq=event.seq, created_at=event.created_at,
                              actor_name=event.actor_name, action=event.action, object_type=event.object_type,
                              object_id=event.object_id, before=event.before, after=event.after,
                              prev_hash=event.prev_hash)
        if digest != event.hash:
            return Break(name, event.seq, event.id, "content does not match its hash (row altered)")
        expected_prev = event.hash
        expected_seq += 1
    if head is not None and (head.last_seq != expected_seq - 1 or head.last_hash != expected_prev):
        return Break(name, expected_seq, None,
                     f"stream head records seq {head.last_seq} but the chain ends at {expected_seq - 1} "
                     "(rows deleted at the end)")
    return None


def verify_all() -> tuple[int, int, list[Break]]:
    """Verify every stream. Returns (streams, events, breaks)."""
    names = set(AuditStream.objects.values_list("name", flat=True))
    names |= set(AuditEvent.objects.values_list("stream", flat=True).distinct())
    breaks = [b for name in sorted(names) if (b := verify_stream(name)) is not None]
    return len(names), AuditEvent.objects.count(), breaks
