"""The retry sweep: sends every outbox message that is due (idempotent)."""

from onestop.core.sweeps import sweep

from .services import deliver_due


@sweep("notifications.retry", every_seconds=30)
def retry_due_messages() -> int:
    return deliver_due()
