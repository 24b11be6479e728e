from celery import shared_task

from .sweeps import get_sweep


@shared_task(name="onestop.run_sweep", acks_late=True)
def run_sweep(name: str) -> int:
    """Run one registered sweep (idempotent: a duplicate delivery changes nothing)."""
    return get_sweep(name).func()
