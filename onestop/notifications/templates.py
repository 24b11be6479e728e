"""Message templates: each message is one whole translatable sentence with named placeholders.

A template is a ``gettext``-marked string (or an ``ngettext`` pair when a count decides the
grammar) registered under a name. :func:`render_message` fills it in the recipient's
language inside ``translation.override``; translators see the complete sentence with its
``%(name)s`` placeholders and may reorder them freely. Nothing is assembled from pieces.

Dates and times passed as ``date``/``datetime``/``time`` objects are formatted in the
recipient's language (``SHORT_DATE_FORMAT``, ``SHORT_DATETIME_FORMAT``, ``TIME_FORMAT``);
convert aware datetimes to the centre's local time first. Everything else is inserted with
``%s``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.utils import formats, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

log = logging.getLogger("onestop.notifications")

FALLBACK_LANGUAGE = "en"


@dataclass(frozen=True)
class MessageTemplate:
    """``params``: the placeholders the text needs; ``count``: the one choosing the plural."""

    name: str
    text: Promise
    params: tuple[str, ...]
    count: str | None = None
    subject: Promise | None = None
    sensitive: bool = False  # the text holds a secret (a one-time code): hide it in the admin


_TEMPLATES: dict[str, MessageTemplate] = {}


def register_template(template: MessageTemplate) -> MessageTemplate:
    if template.count is not None and template.count not in template.params:
        raise ValueError(f"template {template.name!r}: count {template.count!r} is not a parameter")
    _TEMPLATES[template.name] = template
    return template


def get_template(name: str) -> MessageTemplate:
    try:
        return _TEMPLATES[name]
    except KeyError:
        raise LookupError(f"no message template {name!r}; known: {', '.join(sorted(_TEMPLATES))}") from None


def template_names() -> list[str]:
    return sorted(_TEMPLATES)


def is_sensitive(name: str) -> bool:
    template = _TEMPLATES.get(name)
    return bool(template and template.sensitive)


def _localise(value: Any) -> Any:
    if isinstance(value, datetime):
        return formats.date_format(value, "SHORT_DATETIME_FORMAT")
    if isinstance(value, date):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    if isinstance(value, time):
        return formats.time_format(value, "TIME_FORMAT")
    return value


def _params(template: MessageTemplate, params: dict[str, Any]) -> dict[str, Any]:
    missing = [p for p in template.params if p not in params]
    if missing:
        raise ValueError(f"template {template.name!r} needs {', '.join(missing)}")
    values = dict(params)
    if template.count is not None:
        count = values[template.count]
        if isinstance(count, bool) or not isinstance(count, int):
            try:
                values[template.count] = int(count)
            except (TypeError, ValueError):
                raise ValueError(f"template {template.name!r}: {template.count} must be a whole number") from None
    return values


def _fill(text: Promise, values: dict[str, Any], language: str) -> str:
    with translation.override(language):
        localised = {key: _localise(value) for key, value in values.items()}
        return str(text % localised)


def _render(template: MessageTemplate, text: Promise, language: str, params: dict[str, Any]) -> str:
    values = _params(template, params)
    language = language or FALLBACK_LANGUAGE
    try:
        return _fill(text, values, language)
    except (KeyError, ValueError, TypeError):
        if language == FALLBACK_LANGUAGE:
            raise
        # A catalogue entry with a wrong placeholder must not stop the message.
        log.exception("template %r is broken in %r; sending it in %r", template.name, language,
                      FALLBACK_LANGUAGE)
        return _fill(text, values, FALLBACK_LANGUAGE)


def render_message(name: str, language: str, **params: Any) -> str:
    """The text of template ``name`` in ``language`` with ``params`` filled in.

    Raises ``LookupError`` for an unknown template and ``ValueError`` for a missing
    parameter. Extra parameters are ignored.
    """
    template = get_template(name)
    return _render(template, template.text, language, params)


def render_subject(name: str, language: str, **params: Any) -> str:
    """The e-mail subject of template ``name`` in ``language`` ("" if it has none)."""
    template = get_template(name)
    if template.subject is None:
        return ""
    return _render(template, template.subject, language, params)


register_template(MessageTemplate(
    name="ticket_issued",
    text=ngettext_lazy(
        # Translators: SMS after taking a queue ticket. %(number)s is the ticket (e.g. A012),
        # %(centre)s the centre's name, %(minutes)s the estimated wait, %(url)s a tracking link.
        "Your ticket %(number)s at %(centre)s. Estimated wait about %(minutes)s minute. "
        "Follow it: %(url)s",
        "Your ticket %(number)s at %(centre)s. Estimated wait about %(minutes)s minutes. "
        "Follow it: %(url)s",
        "minutes",
    ),
    params=("number", "centre", "minutes", "url"),
    count="minutes",
))

register_template(MessageTemplate(
    name="ticket_ahead",
    text=ngettext_lazy(
        # Translators: SMS while waiting. %(ahead)s is how many citizens will be called first.
        "Ticket %(number)s: %(ahead)s citizen ahead of you. Please stay close to the hall.",
        "Ticket %(number)s: %(ahead)s citizens ahead of you. Please stay close to the hall.",
        "ahead",
    ),
    params=("number", "ahead"),
    count="ahead",
))

register_template(MessageTemplate(
    name="ticket_called",
    # Translators: SMS when the ticket is called. %(counter)s is the counter's number or name.
    text=_("Ticket %(number)s: please go to counter %(counter)s now."),
    params=("number", "counter"),
))

register_template(MessageTemplate(
    name="otp_code",
    text=ngettext_lazy(
        # Translators: SMS with a one-time code. %(minutes)s is how long the code stays valid.
        "Your confirmation code is %(code)s. It is valid for %(minutes)s minute. "
        "Do not share it with anyone.",
        "Your confirmation code is %(code)s. It is valid for %(minutes)s minutes. "
        "Do not share it with anyone.",
        "minutes",
    ),
    params=("code", "minutes"),
    count="minutes",
    subject=_("Your confirmation code"),
    sensitive=True,
))

register_template(MessageTemplate(
    name="booking_confirmed",
    # Translators: SMS/e-mail after booking. %(reference)s is the booking code, %(url)s a link
    # to see or cancel the booking.
    text=_("Your appointment for %(service)s at %(centre)s is booked for %(date)s at %(time)s. "
           "Reference %(reference)s. Details or cancel: %(url)s"),
    params=("service", "centre", "date", "time", "reference", "url"),
    subject=_("Your appointment is booked"),
))

register_template(MessageTemplate(
    name="booking_reminder",
    # Translators: reminder SMS/e-mail sent before an appointment.
    text=_("Reminder: your appointment for %(service)s at %(centre)s is on %(date)s at %(time)s. "
           "Reference %(reference)s."),
    params=("service", "centre", "date", "time", "reference"),
    subject=_("Reminder of your appointment"),
))

register_template(MessageTemplate(
    name="booking_cancelled",
    # Translators: SMS/e-mail when an appointment is cancelled (by the citizen or the centre).
    text=_("Your appointment for %(service)s at %(centre)s on %(date)s at %(time)s "
           "(reference %(reference)s) has been cancelled."),
    params=("service", "centre", "date", "time", "reference"),
    subject=_("Your appointment is cancelled"),
))
