"""Templates render whole translated sentences with named parameters and real plurals."""

from __future__ import annotations

from datetime import date, time

import pytest
from django.conf import settings

from onestop.notifications.templates import (
    get_template,
    is_sensitive,
    render_message,
    render_subject,
    template_names,
)

SAMPLE = {"number": "A012", "centre": "Baku ASAN 1", "minutes": 2, "url": "https://example.org/t/x",
          "ahead": 3, "counter": "7", "code": "493021", "service": "Passport",
          "date": date(2030, 3, 5), "time": time(14, 30), "reference": "BK-1234"}


def test_required_templates_exist():
    assert {"ticket_issued", "ticket_ahead", "ticket_called", "otp_code", "booking_confirmed",
            "booking_reminder", "booking_cancelled"} <= set(template_names())


def test_ticket_issued_in_english():
    text = render_message("ticket_issued", "en", number="A012", centre="Baku ASAN 1", minutes=25,
                          url="https://example.org/t/abc")
    assert text == ("Your ticket A012 at Baku ASAN 1. Estimated wait about 25 minutes. "
                    "Follow it: https://example.org/t/abc")


def test_ticket_ahead_uses_ngettext_plurals():
    assert render_message("ticket_ahead", "en", number="A012", ahead=1) == (
        "Ticket A012: 1 citizen ahead of you. Please stay close to the hall.")
    assert render_message("ticket_ahead", "en", number="A012", ahead=4) == (
        "Ticket A012: 4 citizens ahead of you. Please stay close to the hall.")
    assert "1 minute." in render_message("otp_code", "en", code="123456", minutes=1)
    assert "5 minutes." in render_message("otp_code", "en", code="123456", minutes=5)


def test_ticket_called():
    assert render_message("ticket_called", "en", number="B003", counter="12") == (
        "Ticket B003: please go to counter 12 now.")


def test_dates_and_times_are_formatted_for_the_language():
    text = render_message("booking_reminder", "en", service="Passport", centre="Baku ASAN 1",
                          date=date(2030, 3, 5), time=time(14, 30), reference="BK-1")
    assert "03/05/2030" in text and "2:30 p.m." in text


def test_missing_parameter_and_unknown_template_are_errors():
    with pytest.raises(ValueError, match="needs centre"):
        render_message("ticket_issued", "en", number="A1", minutes=3, url="u")
    with pytest.raises(LookupError, match="no message template"):
        render_message("no_such_template", "en")
    with pytest.raises(ValueError, match="whole number"):
        render_message("ticket_ahead", "en", number="A1", ahead="many")


def test_every_template_renders_in_every_language():
    for name in template_names():
        params = {p: SAMPLE[p] for p in get_template(name).params}
        for code, _label in settings.LANGUAGES:
            text = render_message(name, code, **params)
            assert text and "%(" not in text
            for value in ("A012", "Baku ASAN 1", "BK-1234", "493021"):
                if value in params.values():
                    assert value in text, (name, code)
            assert "%(" not in render_subject(name, code, **params)


def test_subjects_and_sensitivity():
    assert render_subject("booking_confirmed", "en", **SAMPLE) == "Your appointment is booked"
    assert render_subject("ticket_called", "en", **SAMPLE) == ""
    assert is_sensitive("otp_code") and not is_sensitive("ticket_called") and not is_sensitive("")
