"""Date display for the booking pages, in the active language's own formats."""

from __future__ import annotations

from datetime import date, datetime

from django import template
from django.utils import formats

register = template.Library()


@register.filter(expects_localtime=True)
def longday(value: date | datetime | None) -> str:
    """Weekday and date, e.g. "Bazar ertəsi 8 iyun 2026" or "понедельник 8 июня 2026 г."."""
    if not value:
        return ""
    return f"{formats.date_format(value, 'l')} {formats.date_format(value, 'DATE_FORMAT')}"


@register.filter(expects_localtime=True)
def shortday(value: date | datetime | None) -> str:
    """Day and month, with the month as in a date ("8 июня")."""
    if not value:
        return ""
    return formats.date_format(value, "j E")
