"""Plain quantities on the hall screens (people waiting, minutes) in the language's own digits.

Babel knows each locale's default numbering system (``arabext`` for fa and ps, ``latn`` for
az, ru and en) and, with ``numbering_system="default"``, its separators, but it still writes
ASCII digits (python-babel/babel#731), so the digits are mapped here. Browsers do the same
with ``Intl.NumberFormat(lang)`` (``Hall.num`` in hall.js, for the live updates of the board and
the ticket page). Ticket and counter numbers are codes printed on paper and signs: they never
go through this.
"""

from __future__ import annotations

import functools

from babel import Locale, UnknownLocaleError
from babel.numbers import format_decimal
from django import template
from django.utils import translation

register = template.Library()

# The zero of each decimal numbering system CLDR names as a locale's default; the other nine
# digits follow it in Unicode.
ZEROS = {"arab": "\u0660", "arabext": "\u06f0", "deva": "\u0966", "beng": "\u09e6", "mymr": "\u1040",
         "tibt": "\u0f20", "olck": "\u1c50"}


@functools.cache
def _locale(language: str) -> Locale | None:
    try:
        return Locale.parse(translation.to_locale(language))
    except (UnknownLocaleError, ValueError, TypeError):
        return None


def local_number(value: int | float, language: str | None = None) -> str:
    """``value`` as the language (default: the active one) writes it: 12 -> "۱۲" in fa, "12" in az.

    A language Babel does not know gets ``str(value)``.
    """
    locale = _locale(language or translation.get_language() or "")
    if locale is None:
        return str(value)
    text = format_decimal(value, locale=locale, numbering_system="default")
    zero = ZEROS.get(locale.default_numbering_system or "")
    if zero:
        text = text.translate({ord("0") + d: chr(ord(zero) + d) for d in range(10)})
    return text


@register.filter
def local_digits(value) -> str:
    """Template filter: a count or minutes in the active language's digits (``{{ g.waiting|local_digits }}``)."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return local_number(value)
