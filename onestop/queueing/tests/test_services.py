"""Queue transitions through the service functions: states, scope, fairness, audit."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied

from conftest import make_staff
from onestop.accounts.models import Role
from onestop.audit.models import AuditEvent
from onestop.catalogue.models import PriorityGroup, ServiceGroup
from onestop.core.problems import Conflict, DomainError
from onestop.queueing import services as q
from onestop.queueing.models import Status, Ticket

from .conftest import OPEN_TIME

pytestmark = pytest.mark.django_db





def test_numbers_are_per_prefix_and_per_day(hall):
    with time_machine.travel(OPEN_TIME, tick=False):
        a1 = q.ticket_issue(centre=hall["hq"], service=hall["id"], source="kiosk")
        a2 = q.ticket_issue(centre=hall["hq"], service=hall["id"], source="kiosk")
        d1 = q.ticket_issue(centre=hall["hq"], service=hall["birth"], source="kiosk")
    with time_machine.travel(OPEN_TIME + timedelta(days=1), tick=False):
        next_day = q.ticket_issue(centre=hall["hq"], service=hall["id"], source="kiosk")
    assert [a1.number, a2.number, d1.number, next_day.number] == ["A001", "A002", "D001", "A001"]


def test_a_ticket_carries_an_estimate(hall):
    with time_machine.travel(OPEN_TIME, tick=False):
        q.counter_open(counter=hall["c1"], operator=hall["op1"])
        for _ in range(3):
            ticket = q.ticket_issue(centre=hall["hq"], service=hall["id"], source="kiosk")
    # three ahead... the third ticket has two ahead at one open counter, 8-minute service
    assert ticket.estimate_mean == pytest.approx(3 * 8.0, rel=1e-6)
    assert ticket.estimate_p95 > ticket.estimate_mean


def test_full_visit_and_audit_trail(hall):
    with time_machine.travel(OPEN_TIME, tick=False) as clock:
        ticket = q.ticket_issue(centre=hall["hq"], service=hall["id"], source="kiosk")
        q.counter_open(counter=hall["c1"], operator=hall["op1"])
        called = q.ticket_call_next(counter=hall["c1"], operator=hall["op1"])
        assert called.pk == ticket.pk and called.status == Status.CALLED
        q.ticket_start(ticket=called, operator=hall["op1"])
        clock.shift(timedelta(minutes=7))
        done = q.ticket_finish(ticket=called, operator=hall["op1"], services=[hall["id"], hall["birth"]])
    assert done.status == Status.DONE
    assert sorted(done.services_done.values_list("code", flat=True)) == ["birth", "id-card"]
    actions = list(AuditEvent.objects.filter(stream="centre:zz:hq").order_by("seq").values_list("action", flat=True))
    assert actions == ["ticket.issued", "counter.opened", "ticket.called", "ticket.started", "ticket.finished"]


def test_operator_cannot_act_on_another_counter_and_nothing_changes(hall):
    with time_machine.travel(OPEN_TIME, tick=False):
        ticket = q.ticket_issue(centre=hall["hq"], service=hall["birth"], source="kiosk")
        q.counter_open(counter=hall["c2"], operator=hall["op2"])
        before_events = AuditEvent.objects.count()
        with pytest.raises(PermissionDenied):
            q.ticket_call_next(counter=hall["c2"], operator=hall["op1"])
        with pytest.raises(PermissionDenied):
            q.counter_close(counter=hall["c2"], operator=hall["op1"])
        called = q.ticket_call_next(counter=hall["c2"], operator=hall["op2"])
        with pytest.raises(PermissionDenied):
            q.ticket_start(ticket=called, operator=hall["op1"])
    assert Ticket.objects.get(pk=ticket.pk).status == Status.CALLED
    assert AuditEvent.objects.count() == before_events + 1  # only op2's call


def test_operator_of_another_centre_is_refused(hall):
    north = hall["hq"].country.centres.get(code="north")
    stranger = make_staff("op.north.1", Role.OPERATOR, centres=[north])
    with pytest.raises(PermissionDenied):
        q.counter_open(counter=hall["c1"], operator=stranger)
    assert not hasattr(hall["c1"], "state") or hall["c1"].state.status == "closed"


def test_reception_needs_centre_staff(hall):
    north = hall["hq"].country.centres.get(code="north")
    greeter = make_staff("greeter.north", Role.GREETER, centres=[north])
    with pytest.raises(PermissionDenied):
        q.ticket_issue(centre=hall["hq"], service=hall["id"], source="reception", actor=greeter)
    assert Ticket.objects.count() == 0


def test_call_next_needs_an_open_counter_and_a_free_one(hall):
    with time_machine.travel(OPEN_TIME, tick=False):
        q.ticket_issue(centre=hall["hq"], service=hall["id"], source="kiosk")
        q.ticket_issue(centre=hall["hq"], service=hall["id"], source="kiosk")
        with pytest.raises(Conflict):
            q.ticket_call_next(counter=hall["c1"], operator=hall["op1"])
        q.counter_open(counter=hall["c1"], operator=hall["op1"])
        q.ticket_call_next(counter=hall["c1"], operator=hall["op1"])
        with pytest.raises(Conflict):
            q.ticket_call_next(counter=hall["c1"], operator=hall["op1"])


def test_empty_queue_returns_none(hall):
    q.counter_open(counter=hall["c1"], operator=hall["op1"])
    assert q.ticket_call_next(counter=hall["c1"], operator=hall["op1"]) is None


def test_no_show_only_after_the_recall_timeout(hall):
    with time_machine.travel(OPEN_TIME, tick=False) as clock:
        q.ticket_issue(centre=hall["hq"], service=hall["id"], source="kiosk")
        q.counter_open(counter=hall["c1"], operator=hall["op1"])
        called = q.ticket_call_next(counter=hall["c1"], operator=hall["op1"])
        clock.shift(timedelta(seconds=119))
        with pytest.raises(Conflict):
            q.ticket_no_show(ticket=called, operator=hall["op1"])
        clock.shift(timedelta(seconds=1))
        gone = q.ticket_no_show(ticket=called, operator=hall["op1"])
    assert gone.status == Status.NO_SHOW


def test_recall_requeue_keeps_the_place(hall):
    with time_machine.travel(OPEN_TIME, tick=False) as clock:
        first = q.ticket_issue(centre=hall["hq"], service=hall["id"], source="kiosk")
        clock.shift(timedelta(minutes=1))
        q.ticket_issue(centre=hall["hq"], service=hall["id"], source="kiosk")
        q.counter_open(counter=hall["c1"], operator=hall["op1"])
        called = q.ticket_call_next(counter=hall["c1"], operator=hall["op1"])
        q.ticket_recall(ticket=called, operator=hall["op1"])
        q.ticket_requeue(ticket=called, operator=hall["op1"])
        again = q.ticket_call_next(counter=hall["c1"], operator=hall["op1"])
    assert called.pk == first.pk and again.pk == first.pk


def test_transfer_keeps_the_original_issue_time(hall):
    """A transferred citizen is not sent to the back of the new group's queue."""
    with time_machine.travel(OPEN_TIME, tick=False) as clock:
        moved = q.ticket_issue(centre=hall["hq"], service=hall["id"], source="kiosk")
        clock.shift(timedelta(minutes=5))
        later = q.ticket_issue(centre=hall["hq"], service=hall["birth"], source="kiosk")
        q.counter_open(counter=hall["c1"], operator=hall["op1"])
        q.counter_open(counter=hall["c2"], operator=hall["op2"])
        called = q.ticket_call_next(counter=hall["c1"], operator=hall["op1"])
        assert called.pk == moved.pk
        q.ticket_transfer(ticket=called, operator=hall["op1"], group=ServiceGroup.objects.get(code="civil"))
        clock.shift(timedelta(minutes=1))
        nxt = q.ticket_call_next(counter=hall["c2"], operator=hall["op2"])
    assert nxt.pk == moved.pk, "the transferred ticket was issued before the other civil ticket"
    assert Ticket.objects.get(pk=later.pk).status == Status.WAITING


def test_transfer_to_a_counter_is_served_there_first(hall):
    with time_machine.travel(OPEN_TIME, tick=False) as clock:
        moved = q.ticket_issue(centre=hall["hq"], service=hall["id"], source="kiosk")
        clock.shift(timedelta(minutes=1))
        q.ticket_issue(centre=hall["hq"], service=hall["birth"], source="kiosk")  # waits at counter 2
        q.counter_open(counter=hall["c1"], operator=hall["op1"])
        q.counter_open(counter=hall["c2"], operator=hall["op2"])
        called = q.ticket_call_next(counter=hall["c1"], operator=hall["op1"])
        assert called.pk == moved.pk
        q.ticket_transfer(ticket=called, operator=hall["op1"], counter=hall["c2"],
                          group=ServiceGroup.objects.get(code="civil"))
        # counter 2 takes the transferred citizen before the civil ticket that waited longer
        assert q.ticket_call_next(counter=hall["c2"], operator=hall["op2"]).pk == moved.pk


def test_park_and_return(hall):
    with time_machine.travel(OPEN_TIME, tick=False):
        q.ticket_issue(centre=hall["hq"], service=hall["id"], source="kiosk")
        q.counter_open(counter=hall["c1"], operator=hall["op1"])
        called = q.ticket_call_next(counter=hall["c1"], operator=hall["op1"])
        q.ticket_start(ticket=called, operator=hall["op1"])
        parked = q.ticket_park(ticket=called, operator=hall["op1"])
        assert parked.status == Status.PARKED
        back = q.ticket_return(ticket=parked, operator=hall["op1"])
    assert back.status == Status.SERVING


def test_priority_ticket_is_called_ahead_within_bound(hall):
    elderly = PriorityGroup.objects.get(code="elderly")
    hall["hq"].country.rules["queue"]["max_priority_overtakes"] = 1
    hall["hq"].country.save()
    with time_machine.travel(OPEN_TIME, tick=False) as clock:
        regular = q.ticket_issue(centre=hall["hq"], service=hall["id"], source="kiosk")
        clock.shift(timedelta(minutes=1))
        p1 = q.ticket_issue(centre=hall["hq"], service=hall["id"], source="kiosk", priority_group=elderly)
        p2 = q.ticket_issue(centre=hall["hq"], service=hall["id"], source="kiosk", priority_group=elderly)
        q.counter_open(counter=hall["c1"], operator=hall["op1"])
        order = []
        for _ in range(3):
            t = q.ticket_call_next(counter=hall["c1"], operator=hall["op1"])
            order.append(t.pk)
            q.ticket_finish(ticket=t, operator=hall["op1"])
    assert order == [p1.pk, regular.pk, p2.pk]


def test_walk_in_at_the_counter(hall):
    with time_machine.travel(OPEN_TIME, tick=False):
        q.counter_open(counter=hall["c1"], operator=hall["op1"])
        ticket = q.ticket_walk_in(counter=hall["c1"], operator=hall["op1"], service=hall["id"])
    assert ticket.status == Status.SERVING and ticket.source == "counter"


def test_cancel_by_the_citizen(hall):
    ticket = q.ticket_issue(centre=hall["hq"], service=hall["id"], source="kiosk")
    assert q.ticket_cancel(ticket=ticket).status == Status.CANCELLED
    with pytest.raises(Conflict):
        q.ticket_cancel(ticket=ticket)


def test_bad_phone_is_a_field_error_and_writes_nothing(hall):
    with pytest.raises(DomainError) as err:
        q.ticket_issue(centre=hall["hq"], service=hall["id"], source="kiosk", phone="12")
    assert err.value.field == "phone"
    assert Ticket.objects.count() == 0
