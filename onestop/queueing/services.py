"""Queue transitions. Every state change of a ticket or counter is one function here.

Each function checks the actor's scope and the current state first, then writes inside
one transaction, records an audit event in the centre's stream, and defers side effects
(board pushes, SMS) until the transaction commits.

Concurrency:
* numbering locks the (centre, day, prefix) sequence row, so numbers are gap-free and
  unique (backed by a unique constraint);
* call-next picks a candidate with the routing policy, then claims it with
  ``select_for_update(skip_locked=True)`` on PostgreSQL and a conditional update on
  every database; a candidate taken by another counter in the meantime is skipped and
  the next one is tried, so no counter blocks while tickets remain. On SQLite every write
  transaction is serialised (``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable
from datetime import datetime
from typing import cast

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from onestop.accounts.models import Role
from onestop.audit.services import audit_record, hole, stream_for_centre
from onestop.catalogue.models import PriorityGroup, Service, ServiceGroup
from onestop.centres.models import Centre, Counter
from onestop.core import clock
from onestop.core.problems import Conflict, DomainError

from . import events, numbering
from .models import CounterState, CounterStatus, Source, Status, Ticket
from .routing import choose_next, overtaken_ids
from .selectors import (
    counter_groups,
    estimate_for,
    group_rates_cached,
    queue_load,
    routing_params,
    served_group_ids,
    waiting_for_groups,
)

# --------------------------------------------------------------------------- scope


def _is_centre_staff(user, centre: Centre, roles: Iterable[str]) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser or user.role == Role.NATIONAL_ADMIN:
        return True
    return user.role in roles and user.centres.filter(pk=centre.pk).exists()


def check_operator(user, counter: Counter) -> None:
    """An operator acts only on their own counter (a centre manager on any counter of the centre)."""
    if user is None or not getattr(user, "is_authenticated", False):
        raise PermissionDenied(_("Sign in as the operator of this counter."))
    if user.is_superuser or user.role == Role.NATIONAL_ADMIN:
        return
    if user.role == Role.CENTRE_MANAGER and user.centres.filter(pk=counter.centre_id).exists():
        return
    if user.role == Role.OPERATOR and user.centres.filter(pk=counter.centre_id).exists():
        if user.counter_id is None or user.counter_id == counter.pk:
            return
    raise PermissionDenied(_("This counter is outside your scope."))


def check_issuer(user, centre: Centre, source: str) -> None:
    if source in (Source.KIOSK, Source.REMOTE, Source.APPOINTMENT):
        return
    if not _is_centre_staff(user, centre, {Role.GREETER, Role.CENTRE_MANAGER, Role.OPERATOR}):
        raise PermissionDenied(_("Only the centre's staff issue tickets from reception."))


# --------------------------------------------------------------------------- helpers


def _audit(ticket_or_counter, action: str, actor, before=None, after=None) -> None:
    centre = ticket_or_counter.centre
    audit_record(stream=stream_for_centre(centre), action=action, obj=ticket_or_counter, actor=actor,
                 before=before, after=after)


def _snapshot(ticket: Ticket) -> dict:
    return {"number": ticket.number, "status": ticket.status, "group": ticket.group_id,
            "counter": ticket.counter_id}


def _lock_ticket(ticket: Ticket) -> Ticket:
    return (Ticket.objects.select_for_update(of=("self",))
            .select_related("centre__country", "group", "counter").get(pk=ticket.pk))


def _require(ticket: Ticket, *states: str) -> None:
    if ticket.status not in states:
        raise Conflict(
            _("Ticket %(number)s is %(status)s; this action needs it %(needed)s.") % {
                "number": ticket.number, "status": ticket.get_status_display(),
                "needed": " / ".join(str(Status(s).label) for s in states)},
            code="wrong_state")


# --------------------------------------------------------------------------- issue / cancel


def ticket_issue(*, centre: Centre, service: Service, source: str, priority_group: PriorityGroup | None = None,
                 phone: str = "", language: str = "", actor=None, booked_start=None) -> Ticket:
    """Issue a ticket: number it, estimate the wait, audit it; SMS and board after commit."""
    if source not in Source.values:
        raise DomainError(f"unknown source '{source}'", field="source")
    check_issuer(actor, centre, source)
    if centre.archived_at is not None:
        raise DomainError(_("This centre is closed."), field="centre")
    if service.country_id != centre.country_id or service.archived_at is not None:
        raise DomainError(_("This service is not offered here."), field="service")
    if service.group_id not in served_group_ids(centre):
        raise DomainError(_("No counter of this centre serves this service."), field="service")
    if priority_group is not None and priority_group.country_id != centre.country_id:
        raise DomainError(_("Unknown priority group."), field="priority_group")
    if language and language not in centre.country.language_codes:
        raise DomainError(_("This language is not offered here."), field="language")
    if phone:
        from onestop.notifications.services import normalise_phone

        try:
            phone = normalise_phone(phone, centre.country.phone_region)
        except ValueError as exc:
            raise DomainError(str(exc), field="phone") from None
    group = service.group
    # The estimate is computed before the numbering lock is taken, so the lock is held only
    # for the insert and the audit row (the citizens ahead are counted a moment earlier;
    # the phone page and the board refresh the estimate as the queue moves).
    ahead, open_counters = queue_load(centre, group, priority_only=priority_group is not None)
    estimate = estimate_for(centre, group, ahead, open_counters, rates=group_rates_cached(centre, group))
    now = clock.now()
    day = clock.local_today(centre.time_zone)
    ticket = Ticket(
        centre=centre, day=day, prefix=group.prefix, service=service, group=group, source=source,
        priority_group=priority_group, phone=phone, language=language or centre.country.default_language,
        issued_at=now, fairness_at=now, booked_start=booked_start,
        estimate_mean=estimate.mean if estimate else None,
        estimate_p95=estimate.p95 if estimate else None,
    )
    ticket.position_at_issue = ahead  # type: ignore[attr-defined]  # read by the API's response
    after = {"number": hole("number"), "status": ticket.status, "group": group.pk, "counter": None,
             "source": source, "priority": getattr(priority_group, "code", None)}
    if connection.vendor == "postgresql":
        stream = stream_for_centre(centre)
        # One statement is a transaction by itself; an SMS to queue is written with it.
        with transaction.atomic() if phone else contextlib.nullcontext():
            for _attempt in range(2):
                if numbering.issue_in_one_statement(ticket, stream=stream, action="ticket.issued", actor=actor,
                                                    created_at=now, after=after):
                    events.after_commit_ticket_issued(ticket)
                    return ticket
                numbering.ensure_rows(centre.pk, day, group.prefix, stream)
        raise AssertionError("the numbering row and the audit head exist after they were created")
    for attempt in range(5):
        try:
            with transaction.atomic():
                numbering.insert_numbered(ticket)
                _audit(ticket, "ticket.issued", actor, after={**after, "number": ticket.number})
                events.after_commit_ticket_issued(ticket)
                return ticket
        except IntegrityError:
            # Two transactions created the sequence row for a new day at once; the loser
            # retries and now finds the row to lock.
            ticket.pk = None
            ticket._state.adding = True
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


def ticket_cancel(*, ticket: Ticket, actor=None) -> Ticket:
    with transaction.atomic():
        ticket = _lock_ticket(ticket)
        _require(ticket, Status.WAITING, Status.PARKED)
        before = _snapshot(ticket)
        ticket.status = Status.CANCELLED
        ticket.finished_at = clock.now()
        ticket.save(update_fields=["status", "finished_at"])
        _audit(ticket, "ticket.cancelled", actor, before, _snapshot(ticket))
        events.after_commit_queue_changed(ticket.centre)
    return ticket


# --------------------------------------------------------------------------- counters


def _counter_transition(counter: Counter, operator, status: str, action: str, reason: str = "") -> CounterState:
    check_operator(operator, counter)
    with transaction.atomic():
        CounterState.objects.get_or_create(counter=counter)
        state = CounterState.objects.select_for_update().select_related("counter__centre").get(counter=counter)
        if status != CounterStatus.OPEN and state.current_id and cast(Ticket, state.current).status in (
                Status.CALLED, Status.SERVING):
            raise Conflict(_("Finish or hand over the current citizen first."), code="busy")
        if status == CounterStatus.OPEN and state.status == CounterStatus.OPEN and state.operator_id not in (
                None, operator.pk):
            raise Conflict(_("Another operator has this counter open."), code="taken")
        before = {"status": state.status, "reason": state.break_reason}
        state.status = status
        state.break_reason = reason
        state.operator = operator if status != CounterStatus.CLOSED else None
        state.changed_at = clock.now()
        state.save()
        audit_record(stream=stream_for_centre(counter.centre), action=action, obj=counter, actor=operator,
                     before=before, after={"status": status, "reason": reason})
        events.after_commit_queue_changed(counter.centre)
    return state


def counter_open(*, counter: Counter, operator) -> CounterState:
    return _counter_transition(counter, operator, CounterStatus.OPEN, "counter.opened")


def counter_close(*, counter: Counter, operator) -> CounterState:
    return _counter_transition(counter, operator, CounterStatus.CLOSED, "counter.closed")


def counter_break(*, counter: Counter, operator, reason: str) -> CounterState:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give a reason for the break."), field="reason")
    return _counter_transition(counter, operator, CounterStatus.BREAK, "counter.break", reason[:120])


# --------------------------------------------------------------------------- call next

CALL_RETRY_ROUNDS = 50
CALL_RETRY_PAUSE = 0.01  # seconds


def ticket_call_next(*, counter: Counter, operator) -> Ticket | None:
    """Call the next citizen to ``counter``; ``None`` when nobody waits for its groups."""
    check_operator(operator, counter)
    centre = counter.centre
    groups = counter_groups(counter)
    params = routing_params(centre)
    with transaction.atomic():
        CounterState.objects.get_or_create(counter=counter)
        state = CounterState.objects.select_for_update().get(counter=counter)
        if state.status != CounterStatus.OPEN:
            raise Conflict(_("Open the counter before calling."), code="counter_not_open")
        if state.current_id:
            current = Ticket.objects.get(pk=state.current_id)
            if current.status in (Status.CALLED, Status.SERVING):
                raise Conflict(_("Ticket %(number)s is still at this counter.") % {"number": current.number},
                               code="busy")
        waiting = waiting_for_groups(centre, groups.keys(), counter)
        skipped: set[int] = set()
        rounds = 0
        now = clock.now()
        now_min = now.timestamp() / 60.0
        while True:
            pool = [w for w in waiting if w.id not in skipped]
            choice = choose_next(pool, groups, now_min, params)
            if choice is None:
                # Every candidate read was taken or held by other counters meanwhile. Read
                # again (only a window of the oldest tickets is read at a time). If only
                # tickets held by other counters' open transactions remain, give those a
                # moment to commit and look again, rather than turn the operator away
                # while citizens are still waiting (never waiting on a row lock itself,
                # so two counters cannot deadlock).
                fresh_all = waiting_for_groups(centre, groups.keys(), counter)
                fresh = [w for w in fresh_all if w.id not in skipped]
                if fresh:
                    waiting = fresh
                    continue
                if fresh_all and rounds < CALL_RETRY_ROUNDS:
                    rounds += 1
                    time.sleep(CALL_RETRY_PAUSE)
                    skipped, waiting = set(), fresh_all
                    continue
                return None
            qs = Ticket.objects.filter(pk=choice.id, status=Status.WAITING)
            if connection.features.has_select_for_update_skip_locked:
                claimed = qs.select_for_update(skip_locked=True).first()
                if claimed is None:
                    skipped.add(choice.id)
                    continue
            updated = qs.update(status=Status.CALLED, called_at=now, counter=counter, operator=operator,
                                target_counter=None)
            if updated == 1:
                break
            skipped.add(choice.id)
        overtaken = overtaken_ids(choice, pool)
        if overtaken:
            Ticket.objects.filter(pk__in=overtaken).update(overtaken=F("overtaken") + 1)
        ticket = Ticket.objects.select_related("centre__country", "group", "counter").get(pk=choice.id)
        state.current = ticket
        state.save(update_fields=["current"])
        _audit(ticket, "ticket.called", operator, {"status": Status.WAITING}, _snapshot(ticket))
        events.after_commit_ticket_called(ticket)
    return ticket


# --------------------------------------------------------------------------- at the counter


def _counter_ticket(ticket: Ticket, operator, *states: str) -> Ticket:
    ticket = _lock_ticket(ticket)
    if ticket.counter is None:
        raise Conflict(_("Ticket %(number)s is not at a counter.") % {"number": ticket.number}, code="wrong_state")
    check_operator(operator, ticket.counter)
    _require(ticket, *states)
    return ticket


def _free_counter(ticket: Ticket) -> None:
    # Only for a ticket at a counter (_counter_ticket checked it).
    CounterState.objects.filter(counter_id=cast(int, ticket.counter_id), current=ticket).update(current=None)


def _apply(ticket: Ticket, operator, action: str, *, free_counter: bool = False, **changes) -> Ticket:
    """Write a transition on a locked, checked ticket: fields, counter, audit, board push."""
    before = _snapshot(ticket)
    if free_counter:
        _free_counter(ticket)
    for name, value in changes.items():
        setattr(ticket, name, value)
    ticket.save(update_fields=list(changes))
    _audit(ticket, action, operator, before, _snapshot(ticket))
    events.after_commit_queue_changed(ticket.centre)
    return ticket


def ticket_recall(*, ticket: Ticket, operator) -> Ticket:
    with transaction.atomic():
        ticket = _counter_ticket(ticket, operator, Status.CALLED)
        ticket.recalls += 1
        ticket.called_at = clock.now()
        ticket.save(update_fields=["recalls", "called_at"])
        _audit(ticket, "ticket.recalled", operator, after={"recalls": ticket.recalls})
        events.after_commit_ticket_called(ticket)
    return ticket


def ticket_no_show(*, ticket: Ticket, operator) -> Ticket:
    """Mark a called citizen who did not come, once the pack's recall timeout has passed."""
    with transaction.atomic():
        ticket = _counter_ticket(ticket, operator, Status.CALLED)
        timeout = int((ticket.centre.country.rules or {}).get("queue", {}).get("recall_timeout_seconds", 120))
        waited = (clock.now() - cast(datetime, ticket.called_at)).total_seconds()  # CALLED: called_at is set
        if waited < timeout:
            raise Conflict(
                _("Wait %(seconds)s more seconds for the citizen, or recall the ticket.")
                % {"seconds": int(timeout - waited) + 1}, code="too_early")
        return _apply(ticket, operator, "ticket.no_show", free_counter=True, status=Status.NO_SHOW,
                      finished_at=clock.now())


def ticket_requeue(*, ticket: Ticket, operator) -> Ticket:
    """A called citizen who did not come is put back to waiting with their place (recall back)."""
    with transaction.atomic():
        ticket = _counter_ticket(ticket, operator, Status.CALLED)
        return _apply(ticket, operator, "ticket.requeued", free_counter=True, status=Status.WAITING,
                      counter=None, called_at=None)


def ticket_start(*, ticket: Ticket, operator) -> Ticket:
    with transaction.atomic():
        ticket = _counter_ticket(ticket, operator, Status.CALLED)
        return _apply(ticket, operator, "ticket.started", status=Status.SERVING, started_at=clock.now())


def ticket_finish(*, ticket: Ticket, operator, services: Iterable[Service] = ()) -> Ticket:
    """Finish the visit, recording the services actually done (several per visit)."""
    with transaction.atomic():
        ticket = _counter_ticket(ticket, operator, Status.SERVING, Status.CALLED)
        services = list(services) or [ticket.service]
        for service in services:
            if service.country_id != ticket.centre.country_id:
                raise DomainError(_("Unknown service."), field="services")
        before = _snapshot(ticket)
        now = clock.now()
        if ticket.started_at is None:
            ticket.started_at = now
        ticket.status = Status.DONE
        ticket.finished_at = now
        ticket.save(update_fields=["status", "started_at", "finished_at"])
        ticket.services_done.set(services)
        _free_counter(ticket)
        _audit(ticket, "ticket.finished", operator, before,
               {**_snapshot(ticket), "services": sorted(s.code for s in services)})
        events.after_commit_ticket_finished(ticket)
    return ticket


def ticket_transfer(*, ticket: Ticket, operator, group: ServiceGroup | None = None,
                    counter: Counter | None = None, service: Service | None = None) -> Ticket:
    """Send the citizen to another group's queue or to one counter; the original issue time is kept."""
    if group is None and counter is None and service is None:
        raise DomainError(_("Choose a service group, a service or a counter."), field="group")
    with transaction.atomic():
        ticket = _counter_ticket(ticket, operator, Status.CALLED, Status.SERVING)
        centre = ticket.centre
        if service is not None:
            if service.country_id != centre.country_id:
                raise DomainError(_("Unknown service."), field="service")
            group = group or service.group
        if group is not None and group.country_id != centre.country_id:
            raise DomainError(_("Unknown service group."), field="group")
        if counter is not None and counter.centre_id != centre.pk:
            raise DomainError(_("That counter is in another centre."), field="counter")
        before = _snapshot(ticket)
        _free_counter(ticket)
        ticket.status = Status.WAITING
        if service is not None:
            ticket.service = service
        if group is not None:
            ticket.group = group
        ticket.target_counter = counter
        ticket.counter = None
        ticket.called_at = None
        ticket.started_at = None
        ticket.save(update_fields=["status", "service", "group", "target_counter", "counter", "called_at",
                                   "started_at"])
        _audit(ticket, "ticket.transferred", operator, before,
               {**_snapshot(ticket), "target_counter": getattr(counter, "number", None)})
        events.after_commit_queue_changed(centre)
    return ticket


def ticket_park(*, ticket: Ticket, operator) -> Ticket:
    """The citizen steps aside (to fill in a form); the counter is free meanwhile."""
    with transaction.atomic():
        ticket = _counter_ticket(ticket, operator, Status.CALLED, Status.SERVING)
        return _apply(ticket, operator, "ticket.parked", free_counter=True, status=Status.PARKED)


def ticket_return(*, ticket: Ticket, operator) -> Ticket:
    """A parked citizen comes back to the same counter and is served at once."""
    with transaction.atomic():
        ticket = _counter_ticket(ticket, operator, Status.PARKED)
        CounterState.objects.get_or_create(counter=ticket.counter)
        state = CounterState.objects.select_for_update().get(counter=ticket.counter)
        if state.current_id and state.current_id != ticket.pk and cast(Ticket, state.current).status in (
                Status.CALLED, Status.SERVING):
            raise Conflict(_("Finish the current citizen first."), code="busy")
        before = _snapshot(ticket)
        ticket.status = Status.SERVING
        ticket.save(update_fields=["status"])
        state.current = ticket
        state.save(update_fields=["current"])
        _audit(ticket, "ticket.returned", operator, before, _snapshot(ticket))
        events.after_commit_queue_changed(ticket.centre)
    return ticket


def ticket_walk_in(*, counter: Counter, operator, service: Service) -> Ticket:
    """Serve a citizen who came to the counter without a ticket: a ticket is made and started."""
    check_operator(operator, counter)
    with transaction.atomic():
        ticket = ticket_issue(centre=counter.centre, service=service, source=Source.COUNTER, actor=operator)
        CounterState.objects.get_or_create(counter=counter)
        state = CounterState.objects.select_for_update().get(counter=counter)
        if state.status != CounterStatus.OPEN:
            raise Conflict(_("Open the counter first."), code="counter_not_open")
        if state.current_id and cast(Ticket, state.current).status in (Status.CALLED, Status.SERVING):
            raise Conflict(_("Finish the current citizen first."), code="busy")
        now = clock.now()
        Ticket.objects.filter(pk=ticket.pk).update(status=Status.SERVING, called_at=now, started_at=now,
                                                   counter=counter, operator=operator)
        ticket.refresh_from_db()
        state.current = ticket
        state.save(update_fields=["current"])
        _audit(ticket, "ticket.walk_in", operator, after=_snapshot(ticket))
    return ticket


def check_remote_join(*, centre: Centre, phone: str, code: str) -> str:
    """Remote join needs the pack to allow it for the centre and a verified phone."""
    from onestop.accounts.otp import otp_verify

    if not centre.remote_join:
        raise DomainError(_("This centre does not take remote joins."), field="source", status_code=403)
    if not phone:
        raise DomainError(_("A phone number is required."), field="phone")
    return otp_verify(phone=phone, region=centre.country.phone_region, code=code, purpose="remote_join")
