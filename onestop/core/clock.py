"""The clock: one place to read the current time, so tests can freeze it."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.utils import timezone


def now() -> datetime:
    """Current time, timezone-aware UTC."""
    return timezone.now()


def local_now(tz: str) -> datetime:
    return now().astimezone(ZoneInfo(tz))


def local_today(tz: str) -> date:
    return local_now(tz).date()
