"""The kiosk's hot path: reference data cached per process, one-query queue figures,
the direct ticket representation, and numbering by one UPDATE … RETURNING."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from rest_framework import serializers

from conftest import make_staff
from onestop.accounts.models import Role
from onestop.catalogue.models import PriorityGroup
from onestop.centres.models import Counter
from onestop.core import localcache
from onestop.queueing import services as q
from onestop.queueing.api import TicketSerializer
from onestop.queueing.models import Status, Ticket, TicketSequence
from onestop.queueing.selectors import (
    centre_by_code,
    queue_load,
    served_group_ids,
    service_by_code,
    serving_counts,
    ticket_position,
)

from .conftest import OPEN_TIME

pytestmark = pytest.mark.django_db





def test_queue_load_counts_waiting_and_open_counters(hall):
    hq, group = hall["hq"], hall["id"].group
    with time_machine.travel(OPEN_TIME, tick=False):
        assert queue_load(hq, group) == (0, 0)
        q.counter_open(counter=hall["c1"], operator=hall["op1"])
        for _ in range(3):
            q.ticket_issue(centre=hq, service=hall["id"], source="kiosk")
        q.ticket_issue(centre=hq, service=hall["birth"], source="kiosk")  # another group
        priority = PriorityGroup.objects.filter(country=hq.country).first()
        if priority is not None:
            q.ticket_issue(centre=hq, service=hall["id"], source="kiosk", priority_group=priority)
    waiting = Ticket.objects.filter(centre=hq, group=group, status=Status.WAITING)
    open_for_group = Counter.objects.filter(centre=hq, group_links__group=group, state__status="open").count()
    assert queue_load(hq, group) == (waiting.count(), open_for_group)
    assert queue_load(hq, group, priority_only=True) == (
        waiting.filter(priority_group__isnull=False).count(), open_for_group)
    assert open_for_group == 1


def test_position_matches_the_fairness_order(hall):
    with time_machine.travel(OPEN_TIME, tick=False) as traveller:
        tickets = []
        for _ in range(4):
            tickets.append(q.ticket_issue(centre=hall["hq"], service=hall["id"], source="kiosk"))
            traveller.shift(timedelta(seconds=5))
    assert [ticket_position(t) for t in tickets] == [0, 1, 2, 3]
    q.ticket_cancel(ticket=tickets[1])
    tickets = [Ticket.objects.get(pk=t.pk) for t in tickets]
    assert [ticket_position(t) for t in tickets] == [0, 0, 1, 2]


def test_direct_representation_equals_the_declared_serializer(hall, rf):
    """The hand-written ``to_representation`` must give exactly what DRF's generic one gives."""
    request = rf.get("/")
    hq = hall["hq"]
    with time_machine.travel(OPEN_TIME, tick=False) as traveller:
        q.counter_open(counter=hall["c1"], operator=hall["op1"])
        waiting = q.ticket_issue(centre=hq, service=hall["id"], source="kiosk", language="en")
        traveller.shift(timedelta(seconds=30))
        other = q.ticket_issue(centre=hq, service=hall["id"], source="reception",
                               actor=make_staff("greeter.hot", Role.GREETER, centres=[hq]))
        traveller.shift(timedelta(seconds=30))
        called = q.ticket_call_next(counter=hall["c1"], operator=hall["op1"])
        traveller.shift(timedelta(minutes=1))
        served = q.ticket_start(ticket=called, operator=hall["op1"])
        traveller.shift(timedelta(minutes=5))
        done = q.ticket_finish(ticket=served, operator=hall["op1"])
    for ticket in (waiting, other, called, done):
        ticket = Ticket.objects.select_related("centre", "service", "group", "counter", "priority_group").get(
            pk=ticket.pk)
        serializer = TicketSerializer(ticket, context={"request": request})
        generic = serializers.ModelSerializer.to_representation(serializer, ticket)
        assert serializer.data == dict(generic)
    assert dict(TicketSerializer(done, context={"request": request}).data)["finished_at"] is not None


def test_reference_data_is_cached_and_cleared_on_change(hall, django_assert_num_queries):
    hq = hall["hq"]
    country = hq.country
    localcache.clear()
    with django_assert_num_queries(1):
        assert centre_by_code(country, "hq").pk == hq.pk
    with django_assert_num_queries(0):
        assert centre_by_code(country, "hq").pk == hq.pk
    assert hall["id"].group_id in served_group_ids(hq)
    # Archiving the centre (a save) clears the cache of this process at once.
    hq.archived_at = OPEN_TIME
    hq.save()
    assert centre_by_code(country, "hq") is None
    service = hall["id"]
    assert service_by_code(country, service.code).pk == service.pk
    service.archived_at = OPEN_TIME
    service.save()
    assert service_by_code(country, service.code) is None


def test_numbering_creates_the_day_row_and_counts_from_it(hall):
    with time_machine.travel(OPEN_TIME, tick=False):
        first = q.ticket_issue(centre=hall["hq"], service=hall["id"], source="kiosk")
        second = q.ticket_issue(centre=hall["hq"], service=hall["id"], source="kiosk")
    row = TicketSequence.objects.get(centre=hall["hq"], day=first.day, prefix=first.prefix)
    assert (first.sequence, second.sequence, row.last) == (1, 2, 2)


def test_issue_response_position_is_the_count_the_estimate_used(hall, client):
    """The issue response reports the citizens ahead without counting again; it must agree
    with a fresh count (sequential issues: nothing happens between the two)."""
    hq = hall["hq"]
    priority = PriorityGroup.objects.filter(country=hq.country).first()
    url = f"/api/v1/centres/{hq.code}/tickets/"
    with time_machine.travel(OPEN_TIME, tick=True):
        q.counter_open(counter=hall["c1"], operator=hall["op1"])
        bodies = [{"service": hall["id"].code}] * 3
        if priority is not None:
            bodies += [{"service": hall["id"].code, "priority_group": priority.code}] * 2
        bodies.append({"service": hall["id"].code})
        for body in bodies:
            response = client.post(url, body, content_type="application/json")
            assert response.status_code == 201, response.content
            data = response.json()
            ticket = Ticket.objects.get(pk=data["id"])
            assert data["position"] == ticket_position(ticket)
            assert data["status_url"] == f"http://testserver/hall/t/{ticket.token}/"
            assert client.get(f"/api/v1/tickets/{ticket.pk}/").json()["position"] == data["position"]
    assert Ticket.objects.filter(centre=hq).count() == len(bodies)


def test_serving_counts_are_cached_and_follow_counter_changes(hall):
    hq, group = hall["hq"], hall["id"].group
    expected = Counter.objects.filter(centre=hq, archived_at__isnull=True, group_links__group=group).count()
    localcache.clear()
    counts = serving_counts(hq)
    assert counts[group.pk] == expected
    assert served_group_ids(hq) == frozenset(counts)
    hall["c1"].archived_at = OPEN_TIME
    hall["c1"].save()  # a watched model: the cache of this process is cleared at once
    assert serving_counts(hq).get(group.pk, 0) == expected - 1
