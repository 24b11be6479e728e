from celery import shared_task

from .services import outbox_deliver


@shared_task(name="onestop.notifications.deliver", acks_late=True, ignore_result=True)
def deliver(message_id: int) -> bool:
    """Send one outbox message (idempotent: a duplicate delivery sends nothing twice)."""
    return outbox_deliver(message_id)
