"""Shared by ``onestop plan`` and ``onestop simulate``: argument checks and text tables."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from django.core.management.base import CommandError

from onestop.centres.models import Centre
from onestop.core import clock
from onestop.core.models import translate
from onestop.planning.centre import (
    DEFAULT_OCCUPANCY,
    HISTORY_WEEKS,
    MIN_HISTORY_DAYS,
    CentreForecast,
    check_day,
)
from onestop.planning.timevarying import Target

DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TARGET_EXAMPLES = "80/15 (80% called within 15 min), mean<=10, 0.2 (P(wait) <= 20%), abandon<=0.05"


def add_centre_arguments(parser) -> None:
    parser.add_argument(
        "--centre", required=True, metavar="CODE", help="centre code, as in the pack"
    )
    parser.add_argument(
        "--date", required=True, metavar="YYYY-MM-DD", help="local date at the centre"
    )


def find_centre(code: str) -> Centre:
    """The active centre with that code: in the deployment's country first, else the only one."""
    from onestop.web.selectors import current_country

    found = list(
        Centre.objects.filter(code=code, archived_at__isnull=True).select_related("country")
    )
    if len(found) > 1:
        country = current_country()
        found = [c for c in found if country is not None and c.country_id == country.pk] or found[
            :1
        ]
    if not found:
        known = ", ".join(
            Centre.objects.filter(archived_at__isnull=True).values_list("code", flat=True)[:30]
        )
        raise CommandError(
            f"unknown centre '{code}' (centres: {known or 'none loaded'})", returncode=1
        )
    return found[0]


def parse_day(text: str, centre: Centre) -> date:
    """A YYYY-MM-DD date no further than five years from today at the centre."""
    if not DATE_RE.match(text or ""):
        raise CommandError(f"bad date '{text}': expected YYYY-MM-DD", returncode=1)
    try:
        day = date.fromisoformat(text)
        check_day(day, clock.local_today(centre.time_zone))
    except ValueError as exc:
        raise CommandError(f"bad date '{text}': {exc}", returncode=1) from None
    return day


def parse_target(text: str) -> Target:
    try:
        return Target.parse(text)
    except (ValueError, KeyError, TypeError) as exc:
        raise CommandError(
            f"bad target '{text}': {exc}; examples: {TARGET_EXAMPLES}", returncode=1
        ) from None


def centre_label(centre: Centre) -> str:
    name = translate(centre.name, "en")
    return f"{centre.code} ({name})" if name and name != centre.code else centre.code


def forecast_line(fc: CentreForecast) -> str:
    days = "route stops" if fc.centre.kind == "mobile" else f"open {fc.day.strftime('%A')}s"
    if fc.source == "history":
        return (
            f"forecast: history of {fc.history_days} {days} "
            f"(last {HISTORY_WEEKS} weeks, recent weeks weigh more)"
        )
    if fc.source == "default":
        return (
            f"forecast: default profile (history has {fc.history_days} {days}, "
            f"{MIN_HISTORY_DAYS} needed): a typical daily curve, the centre's counters "
            f"{DEFAULT_OCCUPANCY:.0%} busy in the busiest hour"
        )
    if fc.closed_reason == "holiday":
        return "closed: public holiday or closure"
    return "closed: no opening hours on this day"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool]) -> str:
    """Columns padded to their widest cell; numbers (``right``) aligned to the right."""
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]

    def line(cells: Sequence[str]) -> str:
        parts = [
            c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right, strict=True)
        ]
        return "  ".join(parts).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    out += [line(r) for r in rows]
    return "\n".join(out)
