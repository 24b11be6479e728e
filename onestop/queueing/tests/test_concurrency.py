"""Real parallel HTTP requests against a real server: numbering and call-next hold under load.

The server is uvicorn with two worker processes on the test database (``asgi_server``),
so requests race across processes and threads. Runs on whichever database DATABASE_URL
selects (SQLite by default, PostgreSQL in CI).
"""

from __future__ import annotations

import threading
from collections import Counter as Tally
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from rest_framework.authtoken.models import Token

from conftest import make_staff
from onestop.accounts.models import Role
from onestop.centres.models import Counter, CounterGroup
from onestop.queueing.models import Status, Ticket
from onestop.queueing.services import counter_open

pytestmark = pytest.mark.django_db(transaction=True)


def _issue_many(base: str, total: int, clients: int, service: str) -> list[int]:
    barrier = threading.Barrier(clients)
    per_client = total // clients
    statuses: list[int] = []
    lock = threading.Lock()

    def worker(_: int) -> None:
        with httpx.Client(base_url=base, timeout=60) as client:
            barrier.wait()
            for _ in range(per_client):
                response = client.post("/api/v1/centres/hq/tickets/", json={"service": service})
                with lock:
                    statuses.append(response.status_code)

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(worker, range(clients)))
    return statuses


def test_fifty_clients_issue_a_thousand_gap_free_numbers(loaded_mini, asgi_server):
    base = asgi_server("zz", workers=2)
    statuses = _issue_many(base, 1000, 50, "id-card")
    assert Tally(statuses) == {201: 1000}
    numbers = list(Ticket.objects.filter(centre__code="hq", prefix="A").values_list("sequence", flat=True))
    assert len(numbers) == 1000
    assert sorted(numbers) == list(range(1, 1001))  # unique and gap-free
    assert len(set(Ticket.objects.values_list("number", flat=True))) == 1000


def test_ten_counters_calling_at_once_call_every_ticket_exactly_once(loaded_mini, asgi_server):
    from onestop.catalogue.models import Service, ServiceGroup
    from onestop.queueing.services import ticket_issue

    hq = loaded_mini.centres.get(code="hq")
    idcard = ServiceGroup.objects.get(code="idcard")
    counters = []
    for number in range(3, 13):  # ten counters serving the same group
        counter = Counter.objects.create(centre=hq, number=number)
        CounterGroup.objects.create(counter=counter, group=idcard, priority=1)
        counters.append(counter)
    tokens = []
    for counter in counters:
        op = make_staff(f"op.hq.{counter.number}", Role.OPERATOR, centres=[hq])
        op.counter = counter
        op.save()
        counter_open(counter=counter, operator=op)
        tokens.append((counter.pk, Token.objects.create(user=op).key))
    service = Service.objects.get(code="id-card")
    for _ in range(200):
        ticket_issue(centre=hq, service=service, source="kiosk")
    base = asgi_server("zz", workers=2)
    barrier = threading.Barrier(len(tokens))
    called: list[int] = []
    first_status: dict[int, int] = {}
    lock = threading.Lock()

    def operator(args):
        counter_pk, token = args
        headers = {"Authorization": f"Token {token}"}
        with httpx.Client(base_url=base, timeout=60, headers=headers) as client:
            barrier.wait()
            while True:
                response = client.post(f"/api/v1/counters/{counter_pk}/call-next/")
                with lock:
                    first_status.setdefault(counter_pk, response.status_code)
                if response.status_code == 204:
                    return
                assert response.status_code == 200, response.text
                ticket_id = response.json()["id"]
                with lock:
                    called.append(ticket_id)
                finish = client.post(f"/api/v1/tickets/{ticket_id}/finish/", json={})
                assert finish.status_code == 200, finish.text

    with ThreadPoolExecutor(len(tokens)) as pool:
        list(pool.map(operator, tokens))
    assert len(called) == 200
    assert len(set(called)) == 200  # never the same citizen at two counters
    assert Ticket.objects.filter(status=Status.WAITING).count() == 0
    assert Ticket.objects.filter(status=Status.DONE).count() == 200
    # the ten simultaneous first presses, with 200 tickets waiting, each got a citizen:
    # no counter was turned away (204) or kept waiting for another's lock while tickets remained
    assert first_status == {pk: 200 for pk, _ in tokens}
