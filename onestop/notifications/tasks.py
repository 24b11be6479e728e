from celery import shared_task

from .services import outbox_deliver


@shared_task(name="onestop.notifications.deliver", acks_late=True, ignore_result=True)
def deliver(message_id: int) -> bool:
    """Send one outbox message (idempotent: a duplicate delivery sends nothing twice)."""
    return outbox_deliver(message_id)


@shared_task(name="onestop.notifications.deliver_many", acks_late=True, ignore_result=True)
def deliver_many(message_ids: list[int]) -> int:
    """Send the outbox messages one process committed in a short window; how many this call sent."""
    return sum(1 for message_id in message_ids if outbox_deliver(message_id))
