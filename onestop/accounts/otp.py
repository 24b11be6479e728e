"""One-time codes for citizens: sent by SMS through the notifications outbox.

Codes expire (``ONESTOP_OTP_TTL_SECONDS``, default 300), allow a limited number of wrong
attempts (``ONESTOP_OTP_MAX_ATTEMPTS``, default 5), are used once, and are stored only as
a salted hash; the code itself appears in the SMS text and nowhere else (never in logs).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from onestop.core import clock
from onestop.core.problems import DomainError

from .models import PhoneCode


def _ttl() -> int:
    return int(getattr(settings, "ONESTOP_OTP_TTL_SECONDS", 300))


def _max_attempts() -> int:
    return int(getattr(settings, "ONESTOP_OTP_MAX_ATTEMPTS", 5))


def _digest(phone: str, purpose: str, code: str) -> str:
    """Keyed hash of a code (HMAC-SHA256 with the site secret).

    A six-digit code lives five minutes and allows five attempts, so a slow password hash
    adds nothing but CPU cost per request; the key keeps a leaked table from being read.
    """
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"otp:{purpose}:{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def otp_request(*, phone: str, region: str, language: str = "", purpose: str = "identity") -> PhoneCode:
    """Create a code for ``phone`` (normalised to E.164) and enqueue the SMS after commit."""
    from onestop.notifications.services import message_enqueue, normalise_phone
    from onestop.notifications.templates import render_message

    try:
        phone = normalise_phone(phone, region)
    except ValueError as exc:
        raise DomainError(str(exc), field="phone") from None
    code = f"{secrets.randbelow(10**6):06d}"
    now = clock.now()
    with transaction.atomic():
        # A new code replaces the unused ones for the same phone and purpose.
        PhoneCode.objects.filter(phone=phone, purpose=purpose, used_at__isnull=True).update(used_at=now)
        record = PhoneCode.objects.create(phone=phone, purpose=purpose, code_hash=_digest(phone, purpose, code),
                                          created_at=now, expires_at=now + timedelta(seconds=_ttl()))
        text = render_message("otp_code", language, code=code, minutes=max(1, _ttl() // 60))
        message_enqueue(channel="sms", to=phone, text=text, template="otp_code", language=language)
    return record


def otp_verify(*, phone: str, region: str, code: str, purpose: str = "identity", consume: bool = True) -> str:
    """Check ``code`` for ``phone``; returns the normalised phone or raises a DomainError on ``otp``."""
    from onestop.notifications.services import normalise_phone

    try:
        phone = normalise_phone(phone, region)
    except ValueError as exc:
        raise DomainError(str(exc), field="phone") from None
    code = (code or "").strip()
    now = clock.now()
    with transaction.atomic():
        record = (PhoneCode.objects.select_for_update().filter(phone=phone, purpose=purpose, used_at__isnull=True)
                  .order_by("-created_at").first())
        if record is None:
            raise DomainError(_("Ask for a code first."), field="otp", code="otp_missing")
        if record.expires_at <= now:
            raise DomainError(_("This code has expired. Ask for a new one."), field="otp", code="otp_expired")
        if record.attempts >= _max_attempts():
            raise DomainError(_("Too many wrong codes. Ask for a new one."), field="otp", code="otp_locked")
        wrong = not code.isdigit() or not hmac.compare_digest(_digest(phone, purpose, code), record.code_hash)
        if wrong:
            # The failed attempt is counted (and committed) before the error is raised.
            PhoneCode.objects.filter(pk=record.pk).update(attempts=record.attempts + 1)
            left = _max_attempts() - record.attempts - 1
        elif consume:
            PhoneCode.objects.filter(pk=record.pk).update(used_at=now)
    if wrong:
        raise _WrongCode(left)
    return phone


class _WrongCode(DomainError):
    def __init__(self, left: int):
        super().__init__(_("Wrong code. %(left)s attempts left.") % {"left": max(left, 0)}, field="otp",
                         code="otp_wrong")
