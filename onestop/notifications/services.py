"""Queueing, sending and retrying notifications through the transactional outbox.

The rules:

* :func:`message_enqueue` runs inside the transaction that makes the change the message is
  about (a ticket, a booking). The message is a row in that transaction: if the change
  rolls back, so does the message, and nothing is sent.
* After the commit, :func:`deliver_soon` hands the message to :func:`outbox_deliver`:
  directly in the embedded set-up, through Celery beyond one machine (the messages one
  process commits within a quarter of a second go as one task). The
  ``notifications.retry`` sweep picks up whatever is still due, so a lost task or a
  crashed worker only delays a message.
* :func:`outbox_deliver` first *claims* the row (a short transaction: row lock with
  ``SKIP LOCKED`` where the database has it, and in every case a conditional UPDATE),
  then talks to the provider outside any transaction, then records the outcome. A sent
  row is never claimed again, and two workers never hold the same claim.
* A retryable failure is tried again after ``ONESTOP_NOTIFICATIONS_RETRY_SECONDS`` x 2^(n-1)
  (capped at an hour) until ``ONESTOP_NOTIFICATIONS_MAX_ATTEMPTS`` attempts; a permanent
  failure, or the last attempt, marks the message failed.

Delivery is at-least-once at the provider boundary: if a worker dies after the provider
accepted a message but before the row is marked sent, the message goes out again when its
claim expires. Nothing else sends a message twice.
"""

from __future__ import annotations

import logging
import re
import threading
from datetime import timedelta
from functools import partial

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connections, router, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from onestop.core import clock
from onestop.core.sql import insert_statement, insert_values, mark_saved

from .base import ProviderError
from .models import Channel, OutboxMessage, Status
from .registry import get_email_provider, get_sms_provider

log = logging.getLogger("onestop.notifications")

#: How long a worker may take to send one message before another may try it again.
#: Must exceed every provider's own timeout.
CLAIM_SECONDS = 300
MAX_RETRY_DELAY = timedelta(hours=1)
SWEEP_BATCH = 500
E164_PATTERN = re.compile(r"^\+[1-9]\d{6,14}$")


# --- phone numbers ------------------------------------------------------------------------


def normalise_phone(raw: str, region: str) -> str:
    """Return ``raw`` as an E.164 number (``+994501234567``), read as dialled in ``region``.

    ``region`` is the pack's ISO 3166 region code (``"AZ"``). Raises ``ValueError`` with a
    message fit to show to the person who typed the number.

    A number this gives back is remembered as valid, so that reading it again (a booking
    reads the number in the view and again, normalised, in the service; a parse costs about
    0.1 ms under load) returns it at once.
    """
    if raw in _VALID_E164:
        return raw
    number = _parse_phone(raw, region)
    if len(_VALID_E164) >= _VALID_E164_MAX:
        _VALID_E164.clear()
    _VALID_E164.add(number)
    return number


_VALID_E164: set[str] = set()
_VALID_E164_MAX = 100_000


def _parse_phone(raw: str, region: str) -> str:
    text = (raw or "").strip()
    if not text:
        raise ValueError(_("Please enter a phone number."))
    region_code = (region or "").strip().upper() or None
    if region_code is not None and region_code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(_("Unknown phone region %(region)s.") % {"region": region})
    try:
        number = phonenumbers.parse(text, region_code)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(_("%(number)s is not a phone number.") % {"number": text}) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError(_("%(number)s is not a valid phone number.") % {"number": text})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# --- enqueueing ---------------------------------------------------------------------------


def _db() -> str:
    return router.db_for_write(OutboxMessage)


def message_enqueue(*, channel: str, to: str, text: str, subject: str = "", template: str = "",
                    language: str = "", dedupe_key: str | None = None) -> OutboxMessage:
    """Queue one message; it is sent after the caller's transaction commits.

    Must be called inside that transaction. ``to`` is an E.164 number for SMS (see
    :func:`normalise_phone`) or an e-mail address. With a ``dedupe_key`` that is already
    in the outbox, the existing message is returned and nothing new is queued.
    """
    using = _db()
    if not transaction.get_connection(using).in_atomic_block:
        raise RuntimeError("message_enqueue must be called inside the transaction that makes the change")
    message = new_message(channel=channel, to=to, text=text, subject=subject, template=template,
                          language=language, dedupe_key=dedupe_key)
    if not _insert_new(message, using):
        # The key is already queued (by this transaction or one committed before).
        return OutboxMessage.objects.using(using).get(dedupe_key=dedupe_key)
    transaction.on_commit(partial(deliver_soon, message.pk), using=using, robust=True)
    return message


def new_message(*, channel: str, to: str, text: str, subject: str = "", template: str = "",
                language: str = "", dedupe_key: str | None = None) -> OutboxMessage:
    """An unsaved message, checked as :func:`message_enqueue` checks it (``ValueError``).

    For statements that insert the message themselves; they hand it to :func:`deliver_soon`
    after the commit.
    """
    try:
        channel = Channel(channel)
    except ValueError:
        raise ValueError(f"unknown channel {channel!r}; expected one of {Channel.values}") from None
    to = (to or "").strip()
    if channel == Channel.SMS and not E164_PATTERN.match(to):
        raise ValueError(f"SMS recipient {to!r} is not in E.164 form; normalise it with normalise_phone()")
    if channel == Channel.EMAIL:
        try:
            validate_email(to)
        except ValidationError:
            raise ValueError(f"e-mail recipient {to!r} is not an e-mail address") from None
    if not (text or "").strip():
        raise ValueError("a message needs text")
    return OutboxMessage(channel=channel, to=to, text=text, subject=subject, template=template,
                         language=language, dedupe_key=dedupe_key or None, next_attempt_at=clock.now())


def _insert_new(message: OutboxMessage, using: str) -> bool:
    """Insert ``message`` in one statement; ``False`` when its dedupe key is already queued.

    ``INSERT … ON CONFLICT (dedupe_key) DO NOTHING RETURNING id``: a clash inserts nothing
    and raises nothing, so the caller's transaction goes on without a savepoint.
    """
    connection = connections[using]
    insert, fields = insert_statement(OutboxMessage, connection)
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"{insert} ON CONFLICT ({qn('dedupe_key')}) DO NOTHING RETURNING {qn('id')}",
                       insert_values(message, fields, connection))
        row = cursor.fetchone()
    if row is None:
        return False
    mark_saved(message, row[0], connection)
    return True


# Beyond one machine, messages committed in the same short window by one process go to the
# workers as one task: a Celery publish costs a few milliseconds of the server's CPU, once
# per message it was a seventh of a booking's time, and once per 50 ms still about a tenth
# of a server process's CPU under load (bench/README.md). A quarter of a second is nothing
# to an SMS. A process that exits inside the window leaves its messages to the
# ``notifications.retry`` sweep (30 s).
HANDOFF_SECONDS = 0.25
_handoff_lock = threading.Lock()
_handoff_ids: list[int] = []
_handoff_timer: threading.Timer | None = None


def deliver_soon(message_id: int) -> None:
    """Send a committed message now (embedded set-up) or hand it to the Celery workers."""
    global _handoff_timer
    if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
        outbox_deliver(message_id)
        return
    with _handoff_lock:
        _handoff_ids.append(message_id)
        if _handoff_timer is None:
            _handoff_timer = threading.Timer(HANDOFF_SECONDS, hand_off)
            _handoff_timer.daemon = True
            _handoff_timer.start()


def hand_off() -> int:
    """Publish the messages waiting in this process as one task; how many it carried."""
    global _handoff_timer
    from .tasks import deliver_many

    with _handoff_lock:
        ids = list(_handoff_ids)
        _handoff_ids.clear()
        _handoff_timer = None
    if ids:
        try:
            deliver_many.delay(ids)
        except Exception:  # the broker is down: the retry sweep sends them
            log.exception("could not hand %d outbox messages to the workers; the retry sweep will", len(ids))
    return len(ids)


# --- delivering ---------------------------------------------------------------------------


def max_attempts() -> int:
    return max(1, int(getattr(settings, "ONESTOP_NOTIFICATIONS_MAX_ATTEMPTS", 6)))


def retry_delay(attempt: int) -> timedelta:
    """How long to wait after failed attempt number ``attempt`` (1, 2, ...)."""
    base = max(1, int(getattr(settings, "ONESTOP_NOTIFICATIONS_RETRY_SECONDS", 30)))
    exponent = min(max(attempt, 1) - 1, 20)
    return min(timedelta(seconds=base * 2**exponent), MAX_RETRY_DELAY)


def _due(now) -> Q:
    return Q(status=Status.PENDING, next_attempt_at__lte=now) & (
        Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)
    )


def _claim(message_id: int) -> OutboxMessage | None:
    """Take the message for one attempt, or return None if it is not ours to send now."""
    using = _db()
    now = clock.now()
    rows = OutboxMessage.objects.using(using).filter(_due(now), pk=message_id)
    with transaction.atomic(using=using):
        if connections[using].features.has_select_for_update_skip_locked:
            message = rows.select_for_update(skip_locked=True).order_by().first()
        else:
            message = rows.order_by().first()
        if message is None:
            return None
        claimed = rows.filter(attempts=message.attempts).update(
            attempts=message.attempts + 1, claimed_until=now + timedelta(seconds=CLAIM_SECONDS),
        )
        if claimed != 1:
            return None
    message.attempts += 1
    return message


def _send(message: OutboxMessage) -> str:
    if message.channel == Channel.SMS:
        return get_sms_provider().send(message.to, message.text)
    if message.channel == Channel.EMAIL:
        return get_email_provider().send(message.to, message.subject, message.text)
    raise ProviderError(f"unknown channel {message.channel!r}", retryable=False)


def _record_sent(message: OutboxMessage, provider_id: str) -> None:
    OutboxMessage.objects.using(_db()).filter(pk=message.pk, status=Status.PENDING).update(
        status=Status.SENT, sent_at=clock.now(), provider_id=(provider_id or "")[:200],
        claimed_until=None,
    )


def _record_failure(message: OutboxMessage, error: str, *, retryable: bool) -> str:
    attempt = message.attempts
    mine = OutboxMessage.objects.using(_db()).filter(pk=message.pk, status=Status.PENDING, attempts=attempt)
    if retryable and attempt < max_attempts():
        delay = retry_delay(attempt)
        mine.update(next_attempt_at=clock.now() + delay, claimed_until=None, last_error=error[:2000])
        log.warning("message %s attempt %s failed, retrying in %ss: %s",
                    message.pk, attempt, int(delay.total_seconds()), error)
        return "retry"
    mine.update(status=Status.FAILED, claimed_until=None, last_error=error[:2000])
    log.error("message %s failed after %s attempt(s): %s", message.pk, attempt, error)
    return "failed"


def _attempt(message_id: int) -> str | None:
    """One delivery attempt: ``"sent"``, ``"retry"``, ``"failed"``, or None if not due/ours."""
    message = _claim(message_id)
    if message is None:
        return None
    try:
        provider_id = _send(message)
    except ProviderError as exc:
        return _record_failure(message, str(exc), retryable=exc.retryable)
    except Exception as exc:  # a provider bug or misconfiguration must not lose the message
        log.exception("provider raised unexpectedly for message %s", message.pk)
        return _record_failure(message, f"{type(exc).__name__}: {exc}", retryable=True)
    _record_sent(message, provider_id)
    return "sent"


def outbox_deliver(message_id: int) -> bool:
    """Try to send one message now if it is due; True if this call sent it.

    Safe to call any number of times from any number of workers: a message that is sent,
    failed, not yet due, or being sent by someone else is left alone. Provider errors are
    recorded on the row (retry or failed), never raised. Call it outside a transaction.
    """
    return _attempt(message_id) == "sent"


def deliver_due(limit: int = SWEEP_BATCH) -> int:
    """Attempt every message that is due; return how many attempts were made."""
    now = clock.now()
    ids = list(
        OutboxMessage.objects.using(_db()).filter(_due(now))
        .order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit]
    )
    return sum(1 for pk in ids if _attempt(pk) is not None)


def message_retry(message_ids: list[int]) -> int:
    """Make messages that are not sent due now, and send them after commit.

    A failed message gets one more attempt each time; a message being sent right now is
    left to its sender. Returns how many messages were rescheduled.
    """
    using = _db()
    with transaction.atomic(using=using):
        ids = list(
            OutboxMessage.objects.using(using).filter(pk__in=message_ids)
            .exclude(status=Status.SENT).values_list("pk", flat=True)
        )
        # The status test sits in the UPDATE too: a message sent meanwhile stays sent.
        OutboxMessage.objects.using(using).filter(pk__in=ids).exclude(status=Status.SENT).update(
            status=Status.PENDING, next_attempt_at=clock.now(),
        )
        for pk in ids:
            transaction.on_commit(partial(deliver_soon, pk), using=using, robust=True)
    return len(ids)
