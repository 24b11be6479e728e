"""Booking pages: every step in every pack language, the flow by form posts, kiosk, reception."""

from __future__ import annotations

import re
from datetime import date
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from conftest import PACKS, make_staff
from onestop.accounts.models import PhoneCode, Role
from onestop.appointments import links, services
from onestop.appointments.models import Booking, BookingStatus, CapacityOverride
from onestop.catalogue.models import Service
from onestop.packs.services import pack_load

from .conftest import MONDAY, baku, national_ids, phone

pytestmark = pytest.mark.django_db

PACK_LANGUAGES = {"az": ["az", "ru", "en"], "af": ["fa", "ps", "en"]}
RTL = {"fa", "ps"}
# a Monday that is a working day in both packs (Kabul centres open on Mondays too)
TRAVEL = baku(2026, 6, 8, 7, 0)


def _first_bookable(country):
    """(service, centre, day, slot) of the first free slot of the pack, through the selectors."""
    from onestop.appointments import selectors

    for service in selectors.bookable_services(country):
        for centre in selectors.centres_offering(service):
            days = selectors.free_days(centre, service.group, limit=1)
            if days:
                slot = selectors.slots_on(centre, service.group, days[0][0])[0]
                return service, centre, days[0][0], slot
    raise AssertionError("nothing bookable")


@pytest.mark.parametrize("code", ["az", "af"])
def test_every_booking_page_renders_in_every_pack_language(code, settings):
    settings.ONESTOP_PACK = code
    pack_load(PACKS / code)
    from onestop.packs.models import Country

    country = Country.objects.get(code=code)
    with time_machine.travel(TRAVEL, tick=False):
        service, centre, day, slot = _first_bookable(country)
        nid = national_ids(country, 1)[0]
        booking = services.booking_create(
            centre=centre,
            service=service,
            start=slot.start,
            national_id=nid,
            phone="",
            language=country.default_language,
        ).booking
        token = links.manage_token(booking.code)
        hhmm = slot.start.astimezone(ZoneInfo(centre.time_zone)).strftime("%H%M")
        urls = [
            reverse("appointments:portal"),
            reverse("appointments:centres", kwargs={"service": service.code}),
            reverse("appointments:days", kwargs={"service": service.code, "centre": centre.code}),
            reverse(
                "appointments:slots",
                kwargs={"service": service.code, "centre": centre.code, "day": day.isoformat()},
            ),
            reverse(
                "appointments:identity",
                kwargs={
                    "service": service.code,
                    "centre": centre.code,
                    "day": day.isoformat(),
                    "hhmm": hhmm,
                },
            ),
            reverse("appointments:my_booking"),
            reverse("appointments:manage", kwargs={"token": token}),
            reverse("appointments:move", kwargs={"token": token}) + f"?date={day.isoformat()}",
            reverse("appointments:kiosk_checkin", kwargs={"centre": centre.code}),
        ]
        client = Client()
        for lang in PACK_LANGUAGES[code]:
            for url in urls:
                sep = "&" if "?" in url else "?"
                response = client.get(f"{url}{sep}lang={lang}")
                assert response.status_code == 200, (url, lang)
                html = response.content.decode()
                direction = "rtl" if lang in RTL else "ltr"
                assert f'<html lang="{lang}" dir="{direction}">' in html, (url, lang)
                assert "appointments/appointments.css" in html


def test_the_landing_page_links_to_the_portal_and_my_booking(loaded_mini):
    html = Client().get("/").content.decode()
    assert 'href="/book/"' in html and 'href="/book/my/"' in html


@pytest.fixture
def hq(loaded_mini):
    centre = loaded_mini.centres.get(code="hq")
    CapacityOverride.objects.create(centre=centre, date=date(2026, 6, 10), capacity=1)
    return centre


def test_the_portal_flow_books_with_a_code_sent_by_sms(
    hq, loaded_mini, outbox, django_capture_on_commit_callbacks
):
    from .conftest import sms_lines

    nid = national_ids(loaded_mini, 1)[0]
    client = Client()
    url = reverse(
        "appointments:identity",
        kwargs={"service": "id-card", "centre": "hq", "day": "2026-06-10", "hhmm": "1000"},
    )
    with time_machine.travel(MONDAY, tick=False):
        assert client.get(url).status_code == 200
        with django_capture_on_commit_callbacks(execute=True):
            sent = client.post(
                url, {"national_id": nid, "phone": "050 100 00 01", "action": "send"}
            )
        assert sent.status_code == 200 and "otp" in sent.content.decode()
        text = sms_lines(outbox)[-1]["text"]
        code = re.search(r"\b(\d{6})\b", text).group(1)
        wrong = client.post(
            url,
            {"national_id": nid, "phone": "050 100 00 01", "otp": "000000", "action": "confirm"},
        )
        assert wrong.status_code == 422 and Booking.objects.count() == 0
        with django_capture_on_commit_callbacks(execute=True):
            done = client.post(
                url,
                {"national_id": nid, "phone": "050 100 00 01", "otp": code, "action": "confirm"},
            )
        assert done.status_code == 302 and "/book/b/" in done["Location"]
        booking = Booking.objects.get()
        page = client.get(done["Location"]).content.decode()
        assert booking.display_code in page and "<svg" in page and ".ics" in page
        assert booking.national_id == nid and booking.phone == "+994501000001"
        confirmation = sms_lines(outbox)[-1]
        assert booking.display_code in confirmation["text"]
        # the SMS link opens the same booking page
        link = re.search(r"https?://\S+/book/b/\S+/", confirmation["text"]).group(0)
        assert client.get(link.split("testserver", 1)[1]).status_code == 200
        # the phone is now confirmed in this session: a second booking of another group needs
        # no new code
        other = reverse(
            "appointments:identity",
            kwargs={"service": "birth", "centre": "hq", "day": "2026-06-10", "hhmm": "1000"},
        )
        CapacityOverride.objects.filter(centre=hq).update(capacity=2)
        second = client.post(
            other, {"national_id": nid, "phone": "+994501000001", "action": "confirm"}
        )
        assert second.status_code == 302
        assert Booking.objects.count() == 2
        assert PhoneCode.objects.filter(used_at__isnull=True).count() == 0


def test_a_full_slot_sends_the_citizen_back_to_the_times(hq, loaded_mini):
    ids = national_ids(loaded_mini, 2)
    with time_machine.travel(MONDAY, tick=False):
        services.booking_create(
            centre=hq,
            service=Service.objects.get(code="id-card"),
            start=baku(2026, 6, 10, 10),
            national_id=ids[0],
            phone=phone(0),
        )
        client = Client()
        url = reverse(
            "appointments:identity",
            kwargs={"service": "id-card", "centre": "hq", "day": "2026-06-10", "hhmm": "1000"},
        )
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].endswith("/2026-06-10/")
        page = client.get(response["Location"]).content.decode()
        assert "Full" in page


def test_my_booking_finds_by_code_and_id_then_moves_and_cancels(hq, loaded_mini):
    ids = national_ids(loaded_mini, 2)
    with time_machine.travel(MONDAY, tick=False):
        booking = services.booking_create(
            centre=hq,
            service=Service.objects.get(code="id-card"),
            start=baku(2026, 6, 10, 10),
            national_id=ids[0],
            phone=phone(0),
        ).booking
        client = Client()
        wrong = client.post(
            reverse("appointments:my_booking"), {"code": booking.code, "national_id": ids[1]}
        )
        assert wrong.status_code == 200 and "No booking" in wrong.content.decode()
        found = client.post(
            reverse("appointments:my_booking"),
            {"code": booking.display_code.lower(), "national_id": ids[0]},
        )
        assert found.status_code == 302
        manage = found["Location"]
        moved = client.post(
            manage + "move/", {"start": baku(2026, 6, 10, 11).isoformat(), "date": "2026-06-10"}
        )
        assert moved.status_code == 302
        booking.refresh_from_db()
        assert booking.start == baku(2026, 6, 10, 11)
        cancelled = client.post(manage + "cancel/")
        assert cancelled.status_code == 302
        booking.refresh_from_db()
        assert booking.status == BookingStatus.CANCELLED
        assert "Cancelled" in client.get(manage).content.decode()


def test_a_forged_or_expired_manage_link_is_404(hq, loaded_mini, settings):
    ids = national_ids(loaded_mini, 1)
    with time_machine.travel(MONDAY, tick=False) as traveller:
        booking = services.booking_create(
            centre=hq,
            service=Service.objects.get(code="id-card"),
            start=baku(2026, 6, 10, 10),
            national_id=ids[0],
            phone=phone(0),
        ).booking
        token = links.manage_token(booking.code)
        client = Client()
        assert (
            client.get(reverse("appointments:manage", kwargs={"token": token})).status_code == 200
        )
        forged = token[:-1] + ("A" if token[-1] != "A" else "B")
        assert (
            client.get(reverse("appointments:manage", kwargs={"token": forged})).status_code == 404
        )
        calendar_with_manage_token = reverse("appointments:calendar", kwargs={"token": token})
        assert client.get(calendar_with_manage_token).status_code == 404  # one salt per purpose
        traveller.shift(settings.ONESTOP_BOOKING_LINK_MAX_AGE + 1)
        assert (
            client.get(reverse("appointments:manage", kwargs={"token": token})).status_code == 404
        )


def test_the_calendar_file_follows_rfc_5545(hq, loaded_mini):
    ids = national_ids(loaded_mini, 1)
    with time_machine.travel(MONDAY, tick=False):
        booking = services.booking_create(
            centre=hq,
            service=Service.objects.get(code="id-card"),
            start=baku(2026, 6, 10, 10),
            national_id=ids[0],
            phone=phone(0),
        ).booking
        response = Client().get(
            reverse("appointments:calendar", kwargs={"token": links.calendar_token(booking.code)})
        )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    raw = response.content
    text = raw.decode()
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:")
    assert text.endswith("END:VEVENT\r\nEND:VCALENDAR\r\n")
    assert "\r\nDTSTART:20260610T060000Z\r\n" in text and "\r\nDTEND:20260610T061500Z\r\n" in text
    assert f"UID:{booking.code}@onestop" in text
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))
    assert "\n" not in text.replace("\r\n", "")


def test_ics_escaping_and_folding():
    from onestop.appointments.ics import escape_text, fold

    assert escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    long = "DESCRIPTION:" + "ә" * 60
    folded = fold(long)
    assert all(len(part.encode()) <= 75 for part in folded.split("\r\n"))
    assert folded.replace("\r\n ", "") == long


def test_kiosk_check_in_page_gives_a_ticket_or_a_clear_message(hq, loaded_mini):
    ids = national_ids(loaded_mini, 1)
    with time_machine.travel(MONDAY, tick=False) as traveller:
        booking = services.booking_create(
            centre=hq,
            service=Service.objects.get(code="id-card"),
            start=baku(2026, 6, 10, 10),
            national_id=ids[0],
            phone=phone(0),
        ).booking
        client = Client()
        url = reverse("appointments:kiosk_checkin", kwargs={"centre": "hq"})
        traveller.move_to(baku(2026, 6, 10, 9, 20))
        early = client.post(url, {"code": booking.code})
        assert early.status_code == 409 and "09:30" in early.content.decode()
        traveller.move_to(baku(2026, 6, 10, 9, 45))
        done = client.post(url, {"code": booking.code})
        assert done.status_code == 200
        assert 'data-ticket="A001"' in done.content.decode()
        unknown = client.post(url, {"code": "ZZZZZZZZ"})
        assert unknown.status_code == 404


def test_kiosk_offers_a_walk_in_when_late(hq, loaded_mini):
    ids = national_ids(loaded_mini, 1)
    with time_machine.travel(MONDAY, tick=False) as traveller:
        booking = services.booking_create(
            centre=hq,
            service=Service.objects.get(code="id-card"),
            start=baku(2026, 6, 10, 10),
            national_id=ids[0],
            phone=phone(0),
        ).booking
        traveller.move_to(baku(2026, 6, 10, 10, 30))
        client = Client()
        url = reverse("appointments:kiosk_checkin", kwargs={"centre": "hq"})
        late = client.post(url, {"code": booking.code}).content.decode()
        assert 'name="walk_in" value="1"' in late
        walk_in = client.post(url, {"code": booking.code, "walk_in": "1"})
        assert 'data-ticket="A001"' in walk_in.content.decode()


def test_reception_is_for_staff_of_the_centre(hq, loaded_mini):
    north = loaded_mini.centres.get(code="north")
    greeter = make_staff("greeter.hq", Role.GREETER, centres=[hq])
    outsider = make_staff("greeter.north", Role.GREETER, centres=[north])
    url = reverse("appointments:reception", kwargs={"centre": "hq"})
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    client = Client()
    client.force_login(outsider)
    assert client.get(url).status_code == 403
    client.force_login(greeter)
    assert client.get(url).status_code == 200
    assert (
        client.get(reverse("appointments:reception_index")).status_code == 302
    )  # one centre: straight there


def test_reception_books_on_behalf_and_checks_in_by_code(hq, loaded_mini):
    greeter = make_staff("greeter.hq", Role.GREETER, centres=[hq])
    ids = national_ids(loaded_mini, 1)
    client = Client()
    client.force_login(greeter)
    with time_machine.travel(MONDAY, tick=False) as traveller:
        book = reverse("appointments:reception_book", kwargs={"centre": "hq"})
        page = client.get(book, {"service": "id-card", "date": "2026-06-10"})
        assert page.status_code == 200 and 'type="radio"' in page.content.decode()
        start = baku(2026, 6, 10, 10).isoformat()
        done = client.post(
            book,
            {
                "service": "id-card",
                "date": "2026-06-10",
                "start": start,
                "national_id": ids[0],
                "phone": "",
            },
        )
        assert done.status_code == 302
        booking = Booking.objects.get()
        assert booking.source == "reception" and booking.created_by == greeter
        traveller.move_to(baku(2026, 6, 10, 9, 50))
        desk = reverse("appointments:reception", kwargs={"centre": "hq"})
        listing = client.get(desk).content.decode()
        assert booking.display_code in listing and "Booked" in listing
        checked = client.post(desk, {"code": booking.code})
        assert checked.status_code == 200 and 'data-ticket="A001"' in checked.content.decode()
        assert "Checked in" in checked.content.decode()
