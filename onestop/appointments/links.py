"""Signed, expiring links and tokens (Django signing, one salt per purpose).

* the *manage link* sent by SMS opens a booking to view, move or cancel it;
* the *calendar link* serves the booking as an iCalendar file;
* the *phone token* says that a phone number passed the one-time code check, so that a
  citizen whose first choice of slot was taken can choose again without a new code.

A token carries the booking code (or the phone number) and the time it was made; it is
refused once older than its maximum age or when the secret key changes.
"""

from __future__ import annotations

import functools
from urllib.parse import quote

from django.conf import settings
from django.core import signing
from django.urls import get_script_prefix, reverse

MANAGE_SALT = "onestop.appointments.manage"
CALENDAR_SALT = "onestop.appointments.calendar"
PHONE_SALT = "onestop.appointments.phone"


def _max_age(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def link_max_age() -> int:
    return _max_age("ONESTOP_BOOKING_LINK_MAX_AGE", 60 * 24 * 3600)


def phone_token_max_age() -> int:
    return _max_age("ONESTOP_PHONE_TOKEN_MAX_AGE", 30 * 60)


def manage_token(code: str) -> str:
    return signing.TimestampSigner(salt=MANAGE_SALT).sign(code)


def calendar_token(code: str) -> str:
    return signing.TimestampSigner(salt=CALENDAR_SALT).sign(code)


def read_manage_token(token: str) -> str | None:
    """The booking code in a manage link, or None when the link is forged or expired."""
    try:
        return signing.TimestampSigner(salt=MANAGE_SALT).unsign(token, max_age=link_max_age())
    except signing.BadSignature:  # SignatureExpired is a BadSignature
        return None


def read_calendar_token(token: str) -> str | None:
    try:
        return signing.TimestampSigner(salt=CALENDAR_SALT).unsign(token, max_age=link_max_age())
    except signing.BadSignature:
        return None


def phone_token(phone: str) -> str:
    return signing.TimestampSigner(salt=PHONE_SALT).sign(phone)


def read_phone_token(token: str) -> str | None:
    """The verified E.164 phone number in a phone token, or None."""
    try:
        return signing.TimestampSigner(salt=PHONE_SALT).unsign(
            token or "", max_age=phone_token_max_age()
        )
    except signing.BadSignature:
        return None


# A token is the value, base62 and base64url parts joined by ":", which reversing leaves as is.
_SAFE_IN_PATH = ":"


@functools.lru_cache(maxsize=32)
def _around_token(viewname: str, script_prefix: str) -> tuple[str, str]:
    """The path of ``viewname`` before and after its ``token``, reversed once per script prefix."""
    marker = "TOKEN"
    path = reverse(viewname, kwargs={"token": marker})
    before, _, after = path.rpartition(marker)
    return before, after


def _path(viewname: str, token: str) -> str:
    before, after = _around_token(viewname, get_script_prefix())
    return f"{before}{quote(token, safe=_SAFE_IN_PATH)}{after}"


def manage_path(code: str) -> str:
    """The path of the booking's manage page, with a new token."""
    return _path("appointments:manage", manage_token(code))


def calendar_path(code: str) -> str:
    """The path of the booking's iCalendar file, with a new token."""
    return _path("appointments:calendar", calendar_token(code))
