"""The trigger-kept waiting counts (``QueueLength``) equal a fresh count after any change.

A seeded random walk drives the hall through the service functions (issue, call-next,
recall, requeue, no-show, start, finish, transfer, park, return, cancel, walk-in) and
through writes that bypass them (a bulk status update, a group change of a waiting
ticket, a delete), and compares the kept counts with ``COUNT(*)`` after every step, on
whichever database the suite runs.
"""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
import time_machine
from django.db.models import Count, Q

from onestop.catalogue.models import PriorityGroup, ServiceGroup
from onestop.core.problems import Conflict, DomainError
from onestop.queueing import services as q
from onestop.queueing.models import QueueLength, Status, Ticket
from onestop.queueing.selectors import queue_load, queue_overview

from .conftest import OPEN_TIME

pytestmark = pytest.mark.django_db



def fresh_counts() -> dict[tuple[int, int], tuple[int, int]]:
    rows = (Ticket.objects.filter(status=Status.WAITING).order_by().values("centre_id", "group_id")
            .annotate(n=Count("pk"), p=Count("pk", filter=Q(priority_group__isnull=False))))
    return {(r["centre_id"], r["group_id"]): (r["n"], r["p"]) for r in rows}


def kept_counts() -> dict[tuple[int, int], tuple[int, int]]:
    return {(r.centre_id, r.group_id): (r.waiting, r.waiting_priority)
            for r in QueueLength.objects.all() if r.waiting or r.waiting_priority}


@pytest.fixture
def walk(hall):
    """The hall as lists to choose from at random."""
    hq = hall["hq"]
    return {"hq": hq, "counters": [hall["c1"], hall["c2"]], "operators": [hall["op1"], hall["op2"]],
            "services": [hall["birth"], hall["id"]],
            "groups": list(ServiceGroup.objects.filter(country=hq.country).order_by("code")),
            "priority": list(PriorityGroup.objects.filter(country=hq.country))}


def test_counts_follow_every_change(walk):
    hq = walk["hq"]
    with time_machine.travel(OPEN_TIME, tick=False) as clock:
        for counter, operator in zip(walk["counters"], walk["operators"], strict=True):
            q.counter_open(counter=counter, operator=operator)
        issued = peak = 0
        for seed in range(3):
            rng = random.Random(seed)
            for _step in range(120):
                clock.shift(timedelta(seconds=rng.randint(1, 90)))
                i = rng.randrange(len(walk["counters"]))
                counter, operator = walk["counters"][i], walk["operators"][i]
                mine = list(Ticket.objects.filter(counter=counter).exclude(
                    status__in=[Status.DONE, Status.NO_SHOW, Status.CANCELLED]))
                ticket = rng.choice(mine) if mine else None
                waiting = list(Ticket.objects.filter(status=Status.WAITING))
                action = rng.choice(["issue", "issue", "issue", "call", "call", "recall", "requeue", "no_show",
                                     "start", "finish", "transfer", "park", "return", "cancel", "walk_in",
                                     "bulk", "regroup", "delete"])
                try:
                    if action == "issue":
                        priority = rng.choice([None, None, *walk["priority"]])
                        q.ticket_issue(centre=hq, service=rng.choice(walk["services"]), source="kiosk",
                                       priority_group=priority)
                        issued += 1
                    elif action == "call":
                        q.ticket_call_next(counter=counter, operator=operator)
                    elif action == "walk_in":
                        q.ticket_walk_in(counter=counter, operator=operator, service=rng.choice(walk["services"]))
                    elif action == "cancel" and waiting:
                        q.ticket_cancel(ticket=rng.choice(waiting))
                    elif action == "bulk" and waiting:
                        # a write that bypasses the services (an admin action, a data fix)
                        Ticket.objects.filter(pk__in=[t.pk for t in rng.sample(waiting, min(3, len(waiting)))]
                                              ).update(status=Status.CANCELLED)
                    elif action == "regroup" and waiting:
                        Ticket.objects.filter(pk=rng.choice(waiting).pk).update(
                            group=rng.choice(walk["groups"]),
                            priority_group=rng.choice([None, *walk["priority"]]))
                    elif action == "delete" and waiting:
                        Ticket.objects.filter(pk=rng.choice(waiting).pk).delete()
                    elif ticket is not None:
                        if action == "transfer":
                            q.ticket_transfer(ticket=ticket, operator=operator, group=rng.choice(walk["groups"]))
                        elif action in ("recall", "requeue", "no_show", "start", "finish", "park", "return"):
                            getattr(q, f"ticket_{action}")(ticket=ticket, operator=operator)
                except (Conflict, DomainError):
                    pass  # not allowed in this state: nothing changed
                counts = fresh_counts()
                assert kept_counts() == counts, (seed, _step, action)
                peak = max(peak, sum(n for n, _p in counts.values()))
    assert issued > 30
    assert peak >= 5  # the walk built real queues, not one ticket at a time
    # every kind of change happened at least once in the walk
    statuses = set(Ticket.objects.values_list("status", flat=True))
    assert {Status.DONE, Status.CANCELLED, Status.NO_SHOW, Status.PARKED} <= statuses


def test_readers_use_the_kept_counts(walk):
    hq = walk["hq"]
    service = walk["services"][0]
    with time_machine.travel(OPEN_TIME, tick=False):
        q.ticket_issue(centre=hq, service=service, source="kiosk")
        q.ticket_issue(centre=hq, service=service, source="kiosk", priority_group=walk["priority"][0])
        q.ticket_issue(centre=hq, service=service, source="kiosk")
    assert queue_load(hq, service.group) == (3, 0)
    assert queue_load(hq, service.group, priority_only=True) == (1, 0)
    assert {item.group.pk: item.waiting for item in queue_overview(hq)}[service.group_id] == 3
    # the readers take the kept row, not a count: a row set by hand shows through
    QueueLength.objects.filter(centre=hq, group=service.group).update(waiting=40, waiting_priority=7)
    assert queue_load(hq, service.group) == (40, 0)
    assert queue_load(hq, service.group, priority_only=True) == (7, 0)
    assert {item.group.pk: item.waiting for item in queue_overview(hq)}[service.group_id] == 40
    # a group nobody has queued in yet has no row and reads as empty
    other = next(g for g in walk["groups"] if g.pk != service.group_id)
    assert not QueueLength.objects.filter(group=other).exists()
    assert queue_load(hq, other) == (0, 0)
