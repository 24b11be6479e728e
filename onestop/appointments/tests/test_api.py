"""The booking API: slots, one-time codes, bookings, idempotency, rate limits, check-in."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from rest_framework.test import APIClient

from conftest import ROOT
from onestop.appointments.models import (
    Booking,
    BookingStatus,
    CapacityOverride,
    IdempotencyKey,
    Slot,
)
from onestop.appointments.ratelimit import refuse_unsafe_settings
from onestop.queueing.models import Ticket

from .conftest import baku, known_code, national_ids, phone

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


@pytest.fixture
def api(loaded_mini, frozen):
    return APIClient()


@pytest.fixture
def hq(loaded_mini):
    centre = loaded_mini.centres.get(code="hq")
    CapacityOverride.objects.create(centre=centre, date=date(2026, 6, 10), capacity=1)
    return centre


@pytest.fixture
def ids(loaded_mini):
    return national_ids(loaded_mini, 10)


def body(
    national_id: str, index: int = 0, start: str = "2026-06-10T10:00:00+04:00", **extra
) -> dict:
    return {
        "service": "id-card",
        "centre": "hq",
        "start": start,
        "national_id": national_id,
        "phone": phone(index),
        **extra,
    }


def post_booking(api, national_id, index=0, key=None, code="123456", **extra):
    known_code(phone(index), code)
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return api.post(
        "/api/v1/bookings/", body(national_id, index, otp=code, **extra), format="json", **headers
    )


# --------------------------------------------------------------------------- slots


def test_slots_of_a_day_with_capacity_and_available_places(api, hq, ids):
    response = api.get("/api/v1/centres/hq/slots/", {"service": "id-card", "date": "2026-06-10"})
    assert response.status_code == 200
    rows = response.json()
    assert len(rows) == 36  # 09:00-18:00 in quarters, 1 place each (override)
    assert rows[0] == {
        "start": "2026-06-10T09:00:00+04:00",
        "end": "2026-06-10T09:15:00+04:00",
        "capacity": 1,
        "available": 1,
    }
    assert post_booking(api, ids[0]).status_code == 201
    rows = api.get("/api/v1/centres/hq/slots/", {"service": "id-card", "date": "2026-06-10"}).json()
    assert next(r for r in rows if r["start"] == "2026-06-10T10:00:00+04:00")["available"] == 0


def test_slots_follow_the_computed_plan_without_an_override(api, hq):
    rows = api.get("/api/v1/centres/hq/slots/", {"service": "id-card", "date": "2026-06-09"}).json()
    assert sum(r["capacity"] for r in rows) == 23 and rows[0]["start"].endswith("09:00:00+04:00")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"service": "id-card", "date": "10.06.2026"}, "date"),
        ({"service": "id-card"}, "date"),
        ({"service": "nope", "date": "2026-06-10"}, "service"),
        ({"date": "2026-06-10"}, "service"),
        ({"service": "id-card", "date": "2026-07-09"}, "date"),  # beyond the 30-day horizon
    ],
)
def test_slots_bad_input_is_422_naming_the_field(api, hq, params, field):
    response = api.get("/api/v1/centres/hq/slots/", params)
    assert response.status_code == 422
    assert response["Content-Type"].startswith(PROBLEM)
    assert response.json()["field"] == field


def test_slots_of_a_service_the_centre_does_not_offer_and_of_an_unknown_centre(api, hq):
    # north has no counter for the civil registry
    response = api.get("/api/v1/centres/north/slots/", {"service": "birth", "date": "2026-06-08"})
    assert response.status_code == 422 and response.json()["field"] == "service"
    assert (
        api.get(
            "/api/v1/centres/nowhere/slots/", {"service": "id-card", "date": "2026-06-10"}
        ).status_code
        == 404
    )


def test_no_slots_on_a_holiday_and_none_in_the_past(api, hq):
    assert (
        api.get("/api/v1/centres/hq/slots/", {"service": "id-card", "date": "2026-06-15"}).json()
        == []
    )
    assert (
        api.get("/api/v1/centres/hq/slots/", {"service": "id-card", "date": "2026-06-01"}).json()
        == []
    )


# --------------------------------------------------------------------------- one-time codes


def test_otp_request_sends_a_code_by_sms(api, hq, outbox, django_capture_on_commit_callbacks):
    from .conftest import sms_lines

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/otp/", {"phone": "050 100 00 01"}, format="json")
    assert response.status_code == 202
    lines = sms_lines(outbox)
    assert [line["to"] for line in lines] == ["+994501000001"]
    assert any(ch.isdigit() for ch in lines[0]["text"])


def test_otp_request_with_a_bad_phone_is_422(api, hq):
    response = api.post("/api/v1/otp/", {"phone": "12"}, format="json")
    assert response.status_code == 422 and response.json()["field"] == "phone"


def test_a_wrong_code_is_refused_and_counts_an_attempt(api, hq, ids):
    known_code(phone(0), "123456")
    response = api.post("/api/v1/bookings/", body(ids[0], otp="654321"), format="json")
    assert response.status_code == 422
    assert response.json()["field"] == "otp" and response.json()["code"] == "otp_wrong"
    assert Booking.objects.count() == 0


def test_an_expired_code_is_refused(api, hq, ids, frozen):
    known_code(phone(0), "123456")
    frozen.shift(timedelta(minutes=5, seconds=1))
    response = api.post("/api/v1/bookings/", body(ids[0], otp="123456"), format="json")
    assert response.status_code == 422 and response.json()["code"] == "otp_expired"


def test_the_code_is_locked_after_five_wrong_attempts(api, hq, ids):
    known_code(phone(0), "123456")
    for _ in range(5):
        assert (
            api.post("/api/v1/bookings/", body(ids[0], otp="000000"), format="json").status_code
            == 422
        )
    response = api.post("/api/v1/bookings/", body(ids[0], otp="123456"), format="json")
    assert response.status_code == 422 and response.json()["code"] == "otp_locked"
    assert Booking.objects.count() == 0


def test_a_code_is_used_once(api, hq, ids):
    known_code(phone(0), "123456")
    first = api.post("/api/v1/bookings/", body(ids[0], otp="123456"), format="json")
    assert first.status_code == 201
    again = api.post(
        "/api/v1/bookings/",
        body(ids[0], otp="123456", start="2026-06-10T11:00:00+04:00"),
        format="json",
    )
    assert again.status_code == 422 and again.json()["code"] == "otp_missing"


def test_a_code_for_another_purpose_does_not_book(api, hq, ids):
    known_code(phone(0), "123456", purpose="remote_join")
    response = api.post("/api/v1/bookings/", body(ids[0], otp="123456"), format="json")
    assert response.status_code == 422 and response.json()["field"] == "otp"


def test_verify_gives_a_phone_token_that_books_without_a_new_code(api, hq, ids):
    known_code(phone(0), "123456")
    verified = api.post("/api/v1/otp/verify/", {"phone": phone(0), "otp": "123456"}, format="json")
    assert verified.status_code == 200
    token = verified.json()["phone_token"]
    response = api.post("/api/v1/bookings/", body(ids[0], phone_token=token), format="json")
    assert response.status_code == 201
    # the token is bound to its phone number
    other = api.post("/api/v1/bookings/", body(ids[1], index=1, phone_token=token), format="json")
    assert other.status_code == 422 and other.json()["field"] == "phone_token"


def test_phone_token_expires(api, hq, ids, frozen, settings):
    known_code(phone(0), "123456")
    token = api.post(
        "/api/v1/otp/verify/", {"phone": phone(0), "otp": "123456"}, format="json"
    ).json()["phone_token"]
    frozen.shift(timedelta(seconds=settings.ONESTOP_PHONE_TOKEN_MAX_AGE + 1))
    response = api.post("/api/v1/bookings/", body(ids[0], phone_token=token), format="json")
    assert response.status_code == 422 and response.json()["field"] == "phone_token"


# --------------------------------------------------------------------------- bookings


def test_booking_created_is_201_with_code_and_local_times(api, hq, ids):
    response = post_booking(api, ids[0])
    assert response.status_code == 201
    data = response.json()
    assert data["centre"] == "hq" and data["service"] == "id-card" and data["status"] == "booked"
    assert (
        data["start"] == "2026-06-10T10:00:00+04:00" and data["end"] == "2026-06-10T10:15:00+04:00"
    )
    assert len(data["code"]) == 8
    assert "/book/calendar/" in data["calendar_url"] and "/book/b/" in data["manage_url"]


def test_a_full_slot_is_409_problem_json_and_carries_a_phone_token(api, hq, ids):
    assert post_booking(api, ids[0]).status_code == 201
    response = post_booking(api, ids[1], index=1)
    assert response.status_code == 409
    assert response["Content-Type"].startswith(PROBLEM)
    problem = response.json()
    assert (
        problem["status"] == 409 and problem["code"] == "slot_full" and problem["field"] == "start"
    )
    # the code was accepted: retry at another time with the token, no new SMS needed
    retry = api.post(
        "/api/v1/bookings/",
        body(ids[1], 1, start="2026-06-10T10:15:00+04:00", phone_token=problem["phone_token"]),
        format="json",
    )
    assert retry.status_code == 201


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"national_id": "123"}, "national_id"),
        ({"phone": "12"}, "phone"),
        ({"service": "nope"}, "service"),
        ({"centre": "nowhere"}, "centre"),
        ({"start": "tomorrow"}, "start"),
        ({"start": "2026-06-10T10:05:00+04:00"}, "start"),
        ({"start": "2026-07-20T10:00:00+04:00"}, "start"),
        ({"language": "xx"}, "language"),
    ],
)
def test_invalid_fields_are_422_naming_the_field(api, hq, ids, change, field):
    known_code(phone(0))
    response = api.post(
        "/api/v1/bookings/", {**body(ids[0], otp="123456"), **change}, format="json"
    )
    assert response.status_code == 422, response.json()
    assert response.json()["field"] == field


def test_missing_fields_are_422(api, hq):
    response = api.post("/api/v1/bookings/", {"service": "id-card"}, format="json")
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} >= {
        "centre",
        "start",
        "national_id",
        "phone",
    }
    known_code(phone(0))
    no_code = api.post("/api/v1/bookings/", body(national_ids(hq.country, 1)[0]), format="json")
    assert no_code.status_code == 422 and no_code.json()["field"] == "otp"


def test_a_start_without_offset_is_the_centres_local_time(api, hq, ids):
    response = post_booking(api, ids[0], start="2026-06-10T10:00")
    assert response.status_code == 201 and response.json()["start"] == "2026-06-10T10:00:00+04:00"


def test_same_idempotency_key_gives_the_same_booking_never_a_second(api, hq, ids):
    first = post_booking(api, ids[0], key="key-0001")
    assert first.status_code == 201
    # the replay comes after the code was used: it must not need it again
    replay = api.post(
        "/api/v1/bookings/",
        body(ids[0], otp="123456"),
        format="json",
        HTTP_IDEMPOTENCY_KEY="key-0001",
    )
    assert replay.status_code == 201
    assert replay.json() == first.json()
    assert replay["Idempotent-Replayed"] == "true"
    assert Booking.objects.count() == 1 and IdempotencyKey.objects.count() == 1
    assert Slot.objects.get().booked == 1


def test_an_idempotency_key_reused_for_another_request_is_422(api, hq, ids):
    assert post_booking(api, ids[0], key="key-0002").status_code == 201
    other = post_booking(api, ids[1], index=1, key="key-0002", start="2026-06-10T11:00:00+04:00")
    assert other.status_code == 422 and other.json()["field"] == "Idempotency-Key"
    assert Booking.objects.count() == 1


def test_detail_cancel_and_move_by_code_and_id_number(api, hq, ids):
    code = post_booking(api, ids[0]).json()["code"]
    assert (
        api.get(f"/api/v1/bookings/{code}/", {"national_id": ids[0]}).json()["status"] == "booked"
    )
    # a wrong ID number does not reveal the booking
    assert api.get(f"/api/v1/bookings/{code}/", {"national_id": ids[1]}).status_code == 404
    assert api.get("/api/v1/bookings/ZZZZZZZZ/", {"national_id": ids[0]}).status_code == 404
    moved = api.post(
        f"/api/v1/bookings/{code}/move/",
        {"start": "2026-06-10T11:00:00+04:00", "national_id": ids[0]},
        format="json",
    )
    assert moved.status_code == 200 and moved.json()["start"] == "2026-06-10T11:00:00+04:00"
    cancelled = api.post(f"/api/v1/bookings/{code}/cancel/", {"national_id": ids[0]}, format="json")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = api.post(f"/api/v1/bookings/{code}/cancel/", {"national_id": ids[0]}, format="json")
    assert again.status_code == 409 and again["Content-Type"].startswith(PROBLEM)


def test_move_to_a_full_slot_is_409_and_the_booking_stays(api, hq, ids):
    code = post_booking(api, ids[0]).json()["code"]
    assert post_booking(api, ids[1], index=1, start="2026-06-10T11:00:00+04:00").status_code == 201
    response = api.post(
        f"/api/v1/bookings/{code}/move/",
        {"start": "2026-06-10T11:00:00+04:00", "national_id": ids[0]},
        format="json",
    )
    assert response.status_code == 409 and response.json()["code"] == "slot_full"
    kept = api.get(f"/api/v1/bookings/{code}/", {"national_id": ids[0]}).json()
    assert kept["start"] == "2026-06-10T10:00:00+04:00" and kept["status"] == "booked"


# --------------------------------------------------------------------------- check-in


def test_check_in_api_issues_an_appointment_ticket(api, hq, ids, frozen):
    code = post_booking(api, ids[0]).json()["code"]
    frozen.move_to(baku(2026, 6, 10, 9, 40))
    response = api.post("/api/v1/centres/hq/check-in/", {"code": code}, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert (
        data["source"] == "appointment"
        and data["number"].startswith("A")
        and data["booking"] == code
    )
    assert Ticket.objects.get().booked_start == baku(2026, 6, 10, 10, 0)
    again = api.post("/api/v1/centres/hq/check-in/", {"code": code}, format="json")
    assert again.status_code == 200 and again.json()["id"] == data["id"]


def test_check_in_api_too_early_and_too_late(api, hq, ids, frozen):
    code = post_booking(api, ids[0]).json()["code"]
    frozen.move_to(baku(2026, 6, 10, 9, 29))
    early = api.post("/api/v1/centres/hq/check-in/", {"code": code}, format="json")
    assert early.status_code == 409 and early.json()["code"] == "too_early"
    assert early.json()["opens_at"] == "2026-06-10T09:30:00+04:00"
    frozen.move_to(baku(2026, 6, 10, 10, 11))
    late = api.post("/api/v1/centres/hq/check-in/", {"code": code}, format="json")
    assert late.status_code == 409 and late.json()["late_policy"] == "walk_in"
    walk_in = api.post(
        "/api/v1/centres/hq/check-in/", {"code": code, "walk_in": True}, format="json"
    )
    assert (
        walk_in.status_code == 201
        and walk_in.json()["source"] == "kiosk"
        and walk_in.json()["walk_in"]
    )
    assert Booking.objects.get().status == BookingStatus.LATE


def test_check_in_api_unknown_code_is_404(api, hq):
    response = api.post("/api/v1/centres/hq/check-in/", {"code": "ABCDEFGH"}, format="json")
    assert response.status_code == 404 and response["Content-Type"].startswith(PROBLEM)


# --------------------------------------------------------------------------- rate limits


def test_code_requests_per_phone_are_limited_with_retry_after(api, hq, settings):
    settings.ONESTOP_RATE_LIMITS = {"otp_per_phone": "3/h"}
    for _ in range(3):
        assert api.post("/api/v1/otp/", {"phone": phone(0)}, format="json").status_code == 202
    response = api.post("/api/v1/otp/", {"phone": phone(0)}, format="json")
    assert response.status_code == 429
    assert response["Content-Type"].startswith(PROBLEM)
    assert response.json()["status"] == 429 and response.json()["title"] == "Too many requests"
    # 07:00 now, the hour window ends at 08:00 (UTC hour boundaries: Baku is UTC+4)
    assert int(response["Retry-After"]) == 3600
    # another phone is not affected; the same phone is again after the window
    assert api.post("/api/v1/otp/", {"phone": phone(1)}, format="json").status_code == 202


def test_code_requests_per_client_address_are_limited(api, hq, settings):
    settings.ONESTOP_RATE_LIMITS = {"otp_per_ip": "2/m"}
    assert api.post("/api/v1/otp/", {"phone": phone(0)}, format="json").status_code == 202
    assert api.post("/api/v1/otp/", {"phone": phone(1)}, format="json").status_code == 202
    response = api.post("/api/v1/otp/", {"phone": phone(2)}, format="json", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 429 and int(response["Retry-After"]) == 60
    assert (
        api.post(
            "/api/v1/otp/", {"phone": phone(3)}, format="json", REMOTE_ADDR="10.0.0.9"
        ).status_code
        == 202
    )


def test_booking_attempts_per_id_number_are_limited(api, hq, ids, settings, frozen):
    settings.ONESTOP_RATE_LIMITS = {"booking_per_national_id": "2/h"}
    assert post_booking(api, ids[0]).status_code == 201
    assert (
        post_booking(api, ids[0], start="2026-06-10T11:00:00+04:00").status_code == 422
    )  # the cap
    response = post_booking(api, ids[0], start="2026-06-10T12:00:00+04:00")
    assert response.status_code == 429 and response["Retry-After"] == "3600"
    frozen.shift(timedelta(hours=1))
    assert post_booking(api, ids[1], index=1, start="2026-06-10T12:00:00+04:00").status_code == 201


def test_booking_attempts_per_address_are_limited(api, hq, ids, settings):
    settings.ONESTOP_RATE_LIMITS = {"booking_per_ip": "1/h"}
    assert post_booking(api, ids[0]).status_code == 201
    assert post_booking(api, ids[1], index=1, start="2026-06-10T11:00:00+04:00").status_code == 429


def test_rate_limits_off(api, hq, settings):
    settings.ONESTOP_RATE_LIMITS = "off"
    for _ in range(8):
        assert api.post("/api/v1/otp/", {"phone": phone(0)}, format="json").status_code == 202


def test_rate_limits_off_is_refused_without_debug(settings):
    settings.ONESTOP_RATE_LIMITS = "off"
    settings.DEBUG = False
    with pytest.raises(ImproperlyConfigured, match="DEBUG"):
        refuse_unsafe_settings()
    settings.DEBUG = True
    refuse_unsafe_settings()
    settings.ONESTOP_RATE_LIMITS = {"otp_per_phone": "five an hour"}
    with pytest.raises(ImproperlyConfigured):
        refuse_unsafe_settings()


@pytest.mark.parametrize(("debug", "ok"), [("0", False), ("1", True)])
def test_the_process_does_not_start_with_rate_limits_off_unless_debug(debug, ok, tmp_path):
    env = {
        **os.environ,
        "ONESTOP_RATE_LIMITS": "off",
        "DEBUG": debug,
        "ONESTOP_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
    }
    env.pop("DATABASE_URL", None)
    run = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],  # noqa: S603
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if ok:
        assert run.returncode == 0 and "started" in run.stdout, run.stderr
    else:
        assert run.returncode != 0
        assert "ImproperlyConfigured" in run.stderr and "ONESTOP_RATE_LIMITS=off" in run.stderr
