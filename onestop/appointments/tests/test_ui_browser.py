"""Chromium books in the portal (az, fa), checks in at the kiosk; that ticket is called first.

The live server runs in this process (a thread), so time-machine moves its clock too: the
test travels to a Monday morning when the centre is open and books a slot that starts
within the arrival window, so the kiosk check-in succeeds at once. Screenshots of every
step go to docs/screenshots/booking-*-{az,fa}.png.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from conftest import PACKS, ROOT, make_staff
from onestop.accounts.models import Role
from onestop.appointments.models import Booking, BookingStatus
from onestop.catalogue.models import Service
from onestop.centres.models import Counter
from onestop.packs.services import pack_load
from onestop.queueing.models import Source, Ticket
from onestop.queueing.services import counter_open, ticket_call_next, ticket_issue

from .conftest import sms_lines

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = ROOT / "docs" / "screenshots"

CASES = [
    # pack, language, centre, service, national ID, phone, RTL
    ("az", "az", "baku-1", "id-card", "5ZK7R2P", "050 123 45 67", False),
    ("af", "fa", "kabul-1", "etazkira", "1400-0101-12345", "070 123 4567", True),
]


def _shot(page, name: str, lang: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"booking-{name}-{lang}.png"), full_page=True)


@pytest.mark.parametrize(
    ("pack", "lang", "centre_code", "service_code", "national_id", "phone", "rtl"), CASES
)
def test_book_in_the_portal_check_in_at_the_kiosk_and_be_called_first(
    page,
    live_server,
    settings,
    outbox,
    pack,
    lang,
    centre_code,
    service_code,
    national_id,
    phone,
    rtl,
):
    settings.ONESTOP_PACK = pack
    pack_load(PACKS / pack)
    service = Service.objects.select_related("group").get(country__code=pack, code=service_code)
    centre = service.country.centres.get(code=centre_code)
    tz = ZoneInfo(centre.time_zone)
    # Monday 8 June 2026, 09:50 local: open in both packs; the 10:00 slot's window is open.
    with time_machine.travel(datetime(2026, 6, 8, 9, 50, tzinfo=tz), tick=True):
        # two citizens already wait for the same service, from the kiosk
        walk_ins = [
            ticket_issue(centre=centre, service=service, source=Source.KIOSK) for _ in range(2)
        ]

        base = live_server.url
        page.goto(f"{base}/book/?lang={lang}")
        assert page.locator("html").get_attribute("dir") == ("rtl" if rtl else "ltr")
        _shot(page, "1-services", lang)
        page.click(f"a[href='/book/s/{service_code}/']")

        page.wait_for_selector(f"a[href='/book/s/{service_code}/{centre_code}/']")
        _shot(page, "2-centres", lang)
        page.click(f"a[href='/book/s/{service_code}/{centre_code}/']")

        page.click(f"a[href='/book/s/{service_code}/{centre_code}/2026-06-08/']")
        page.wait_for_selector(".slot-grid")
        _shot(page, "3-times", lang)
        first = page.locator(".slot-grid a").first
        href = first.get_attribute("href")
        assert href.endswith("/2026-06-08/1000/"), href  # the first free time is the next slot
        first.click()

        page.fill("input[name=national_id]", national_id)
        page.fill("input[name=phone]", phone)
        page.click("button[name=action][value=send]")
        page.wait_for_selector("input[name=otp]")
        code = re.search(r"\b(\d{6})\b", sms_lines(outbox)[-1]["text"]).group(1)
        page.fill("input[name=otp]", code)
        _shot(page, "4-identity", lang)
        page.click("button[name=action][value=confirm]")

        page.wait_for_selector(".booking-code")
        assert page.locator(".qr svg").count() == 1
        _shot(page, "5-confirmation", lang)
        page.set_viewport_size({"width": 390, "height": 844})
        _shot(page, "5-confirmation-phone", lang)
        page.set_viewport_size({"width": 1280, "height": 900})
        booking = Booking.objects.get()
        # the confirmation SMS carries the booking code: read it from the outbox as a citizen would
        confirmation = sms_lines(outbox)[-1]["text"]
        typed = re.search(r"\b([A-Z2-9]{4}-[A-Z2-9]{4})\b", confirmation).group(1)
        assert (
            typed.replace("-", "")
            == booking.code
            == page.locator(".booking-code").get_attribute("data-code")
        )
        assert booking.start.astimezone(tz).strftime("%H:%M") == "10:00"

        # check in at the hall's kiosk with the code from the SMS
        page.goto(f"{base}/book/kiosk/{centre_code}/?lang={lang}")
        page.fill("input[name=code]", typed)
        page.click("form button[type=submit]")
        page.wait_for_selector(".ticket-number")
        _shot(page, "6-kiosk", lang)
        booking.refresh_from_db()
        assert booking.status == BookingStatus.CHECKED_IN
        ticket = Ticket.objects.get(pk=booking.ticket_id)
        assert (
            ticket.source == Source.APPOINTMENT
            and page.locator(".ticket-number").inner_text() == ticket.number
        )

        # an operator opens a counter of the group and calls: the booked citizen comes before
        # the walk-ins
        counter = (
            Counter.objects.filter(
                centre=centre, group_links__group=service.group, group_links__priority=1
            )
            .order_by("number")
            .first()
        )
        operator = make_staff(f"op.{centre_code}", Role.OPERATOR, centres=[centre])
        operator.counter = counter
        operator.save()
        counter_open(counter=counter, operator=operator)
        called = ticket_call_next(counter=counter, operator=operator)
        assert called is not None and called.pk == ticket.pk
        assert all(w.issued_at < ticket.issued_at for w in walk_ins)
    _settle_board_pushes()
    page.context.close()  # drop the browser's keep-alive connections to the live server
    _checkpoint_sqlite()


def _checkpoint_sqlite() -> None:
    """Fold the SQLite write-ahead log back into the database file (no-op elsewhere).

    Tests later in the session copy the database file; the live server's threads must not
    leave the newest pages only in the -wal file.
    """
    from django.db import connection

    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _settle_board_pushes() -> None:
    """Let the queue's trailing board pushes (timer threads) finish while the database is here.

    Otherwise they run during a later test and hold a connection to the test database.
    """
    from onestop.queueing import events

    for timer in list(getattr(events, "_pending", {}).values()):
        timer.join(timeout=5)
