"""Issuing writes the ticket and its audit event together; on PostgreSQL in one statement.

Whichever path the database takes, the chain must verify: every event's stored hash is
the digest Python computes from the stored row, each links to the one before, and the
stream head ends at the last event. Issues are interleaved with events written by
``audit_record`` (counter and call events) in the same stream.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import make_staff
from onestop.accounts.models import Role
from onestop.audit.models import AuditEvent, AuditStream
from onestop.audit.services import event_digest
from onestop.audit.verify import verify_all
from onestop.catalogue.models import PriorityGroup
from onestop.queueing import services as q
from onestop.queueing.models import Ticket, TicketSequence

from .conftest import OPEN_TIME

pytestmark = pytest.mark.django_db



@pytest.fixture
def greeter(hall):
    """A greeter whose name is not ASCII: the hashed text is UTF-8 as is."""
    return make_staff("پذیرش.۱", Role.GREETER, centres=[hall["hq"]])


@pytest.fixture
def priority(hall):
    return PriorityGroup.objects.filter(country=hall["hq"].country).first()


def test_issues_and_other_events_form_one_verified_chain(hall, greeter, priority):
    hq = hall["hq"]
    with time_machine.travel(OPEN_TIME, tick=True) as clock:
        first = q.ticket_issue(centre=hq, service=hall["id"], source="kiosk")  # the day's first: rows created
        q.counter_open(counter=hall["c1"], operator=hall["op1"])
        second = q.ticket_issue(centre=hq, service=hall["birth"], source="reception", actor=greeter,
                                priority_group=priority, phone="+994 50 123 45 67")
        q.ticket_call_next(counter=hall["c1"], operator=hall["op1"])
        third = q.ticket_issue(centre=hq, service=hall["id"], source="kiosk")
        clock.shift(timedelta(days=1))
        next_day = q.ticket_issue(centre=hq, service=hall["id"], source="kiosk")
    assert [first.number, second.number, third.number, next_day.number] == ["A001", "D001", "A002", "A001"]
    assert verify_all()[2] == []
    events = list(AuditEvent.objects.filter(stream="centre:zz:hq").order_by("seq"))
    assert [e.action for e in events] == ["ticket.issued", "counter.opened", "ticket.issued", "ticket.called",
                                          "ticket.issued", "ticket.issued"]
    for event in events:
        assert event.hash == event_digest(
            stream=event.stream, seq=event.seq, created_at=event.created_at, actor_name=event.actor_name,
            action=event.action, object_type=event.object_type, object_id=event.object_id, before=event.before,
            after=event.after, prev_hash=event.prev_hash)
    head = AuditStream.objects.get(name="centre:zz:hq")
    assert (head.last_seq, head.last_hash) == (events[-1].seq, events[-1].hash)
    issued = events[2]
    assert issued.object_type == "queueing.ticket" and issued.object_id == str(second.pk)
    assert issued.actor_id == greeter.pk and issued.actor_name == "پذیرش.۱"
    assert issued.after == {"number": "D001", "status": "waiting", "group": hall["birth"].group_id,
                            "counter": None, "source": "reception", "priority": priority.code}
    stored = Ticket.objects.get(pk=second.pk)
    assert (stored.number, stored.sequence, stored.phone, stored.priority_group_id) == (
        "D001", 1, second.phone, priority.pk)
    assert second.phone.startswith("+994")


def test_issue_recreates_missing_rows_and_leaves_no_trace_when_they_were_missing(hall):
    hq = hall["hq"]
    with time_machine.travel(OPEN_TIME, tick=False):
        q.ticket_issue(centre=hq, service=hall["id"], source="kiosk")
        # the numbering row and the head vanish (as when a test database is emptied)
        TicketSequence.objects.all().delete()
        Ticket.objects.all().delete()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("TRUNCATE audit_auditevent, audit_auditstream")
        else:
            AuditEvent.objects.all().delete()
            AuditStream.objects.all().delete()
        again = q.ticket_issue(centre=hq, service=hall["id"], source="kiosk")
    assert again.number == "A001"
    assert AuditStream.objects.get(name="centre:zz:hq").last_seq == 1
    assert verify_all()[2] == []


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the one-statement issue is PostgreSQL's")
def test_kiosk_issue_is_two_statements(hall):
    hq = hall["hq"]
    with time_machine.travel(OPEN_TIME, tick=False):
        q.ticket_issue(centre=hq, service=hall["id"], source="kiosk")  # creates the day's rows
        with CaptureQueriesContext(connection) as queries:
            ticket = q.ticket_issue(centre=hq, service=hall["id"], source="kiosk")
    statements = [query["sql"].split()[0] for query in queries.captured_queries]
    assert statements == ["SELECT", "WITH"], statements  # the queue figures, then the issue itself
    assert ticket.number == "A002" and AuditEvent.objects.filter(object_id=str(ticket.pk)).count() == 1
