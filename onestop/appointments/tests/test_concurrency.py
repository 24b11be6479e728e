"""Real parallel HTTP booking requests against a live server: a slot is never overbooked.

The identity step is done beforehand (a fresh one-time code with a known value per phone);
rate limits are off for the test. Runs on SQLite and PostgreSQL (DATABASE_URL).
"""

from __future__ import annotations

import threading
import time
from collections import Counter as Tally
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import httpx
import pytest
import time_machine

from onestop.appointments.models import Booking, BookingStatus, CapacityOverride, Slot

from .conftest import MONDAY, known_code, national_ids, phone

pytestmark = pytest.mark.django_db(transaction=True)

DAY = date(2026, 6, 10)
START = "2026-06-10T10:00:00+04:00"


def _fire(base: str, bodies: list[dict]) -> list[httpx.Response]:
    barrier = threading.Barrier(len(bodies))

    def send(payload: dict) -> httpx.Response:
        with httpx.Client(base_url=base, timeout=120) as client:
            # Open the keep-alive connection first (retrying a refused connect is safe for a GET),
            # so that the bookings themselves leave together and none is lost to a full accept
            # queue.
            for attempt in range(20):
                try:
                    client.get("/healthz").raise_for_status()
                    break
                except httpx.TransportError:
                    if attempt == 19:
                        raise
                    time.sleep(0.05 * (attempt + 1))
            barrier.wait()
            return client.post("/api/v1/bookings/", json=payload)

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(send, bodies))


def _race(live_server, country, capacity: int, clients: int) -> tuple[Tally, list[httpx.Response]]:
    hq = country.centres.get(code="hq")
    CapacityOverride.objects.create(centre=hq, date=DAY, capacity=capacity)
    ids = national_ids(country, clients, seed=capacity)
    bodies = []
    for index, national_id in enumerate(ids):
        code = known_code(phone(index), f"{100000 + index}")
        bodies.append(
            {
                "service": "id-card",
                "centre": "hq",
                "start": START,
                "national_id": national_id,
                "phone": phone(index),
                "otp": code,
            }
        )
    responses = _fire(live_server.url, bodies)
    return Tally(r.status_code for r in responses), responses


@pytest.mark.parametrize(("capacity", "clients"), [(1, 40), (5, 60)])
def test_simultaneous_bookings_never_overbook_a_slot(
    loaded_mini, live_server, settings, capacity, clients
):
    settings.ONESTOP_RATE_LIMITS = "off"
    with time_machine.travel(MONDAY, tick=True):
        statuses, responses = _race(live_server, loaded_mini, capacity, clients)
    assert statuses == {201: capacity, 409: clients - capacity}, [
        r.text for r in responses if r.status_code >= 500
    ]
    for response in responses:
        if response.status_code == 409:
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.json()["code"] == "slot_full"
    codes = {r.json()["code"] for r in responses if r.status_code == 201}
    assert len(codes) == capacity
    # what the database holds: exactly `capacity` active bookings, all in the one slot, none twice
    slot = Slot.objects.get()
    assert (slot.capacity, slot.booked) == (capacity, capacity)
    active = Booking.objects.filter(status=BookingStatus.BOOKED)
    assert active.count() == capacity == Booking.objects.count()
    assert set(active.values_list("code", flat=True)) == codes
    assert active.values("national_id").distinct().count() == capacity


def test_simultaneous_bookings_of_one_citizen_never_pass_the_cap(loaded_mini, live_server, settings):
    """One ID number books 12 free slots of one group at once: the cap (one active booking of
    the group within the period, the mini pack's rule) lets exactly one through. The citizen's
    row is locked before the claim, whose snapshot then sees the winner's booking."""
    settings.ONESTOP_RATE_LIMITS = "off"
    hq = loaded_mini.centres.get(code="hq")
    CapacityOverride.objects.create(centre=hq, date=DAY, capacity=3)
    (national_id,) = national_ids(loaded_mini, 1, seed=99)
    bodies = []
    for index in range(12):
        code = known_code(phone(index), f"{200000 + index}")
        hour, quarter = divmod(index, 4)
        bodies.append(
            {
                "service": "id-card",
                "centre": "hq",
                "start": f"2026-06-10T{10 + hour:02d}:{15 * quarter:02d}:00+04:00",
                "national_id": national_id,
                "phone": phone(index),
                "otp": code,
            }
        )
    with time_machine.travel(MONDAY, tick=True):
        responses = _fire(live_server.url, bodies)
    statuses = Tally(r.status_code for r in responses)
    assert statuses == {201: 1, 422: 11}, [r.text for r in responses if r.status_code >= 500]
    for response in responses:
        if response.status_code == 422:
            assert response.json()["code"] == "booking_cap"
    assert Booking.objects.filter(national_id=national_id, status=BookingStatus.BOOKED).count() == 1
    assert sum(Slot.objects.values_list("booked", flat=True)) == 1


def test_a_second_booking_of_the_citizen_waits_for_the_first_and_sees_it(loaded_mini):
    """The cap under a race, made certain: a first booking's transaction stays open (it holds
    the citizen's lock and its uncommitted booking) while a second booking of the same ID
    number starts, at another centre (bookings of one centre also queue for its audit
    stream). The second must wait for the first's commit and then be refused by the cap; a
    claim that read the cap before that commit would let both through."""
    from django.db import connection, transaction

    from onestop.appointments import services
    from onestop.catalogue.models import Service
    from onestop.core.problems import DomainError

    from .conftest import baku

    hq = loaded_mini.centres.select_related("country").get(code="hq")
    idcard = Service.objects.select_related("group").get(country=loaded_mini, code="id-card")
    north = loaded_mini.centres.select_related("country").get(code="north")  # open on Mondays
    CapacityOverride.objects.create(centre=hq, date=DAY, capacity=3)
    CapacityOverride.objects.create(centre=north, date=date(2026, 6, 8), capacity=3)
    (national_id,) = national_ids(loaded_mini, 1, seed=7)
    booked = threading.Event()
    outcome: dict[str, object] = {}

    def first() -> None:
        try:
            with transaction.atomic():
                services.booking_create(
                    centre=hq, service=idcard, start=baku(2026, 6, 10, 10, 0), national_id=national_id
                )
                booked.set()
                time.sleep(1.0)  # the second booking starts meanwhile
        finally:
            booked.set()
            connection.close()

    with time_machine.travel(MONDAY, tick=True):
        thread = threading.Thread(target=first)
        thread.start()
        assert booked.wait(30)
        try:
            services.booking_create(
                centre=north, service=idcard, start=baku(2026, 6, 8, 11, 0), national_id=national_id
            )
        except DomainError as exc:
            outcome["code"] = exc.code
        thread.join(30)
    assert outcome.get("code") == "booking_cap"
    assert Booking.objects.filter(national_id=national_id).count() == 1
