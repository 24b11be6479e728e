"""Booking transitions: create, move, cancel, check in, no-show, reminders, capacity overrides.

Each function validates first (raising :class:`DomainError` / :class:`Conflict`, which
the API turns into problem+json), then writes inside one transaction, records an audit
event in the centre's stream in that same transaction, and queues its SMS in the
notifications outbox, which sends only after the commit.

Concurrency
===========

* **Places.** A booking takes its place with ``UPDATE slot SET booked = booked + 1
  WHERE <centre, group, start> AND booked < capacity AND <the citizen is under the
  cap> RETURNING id`` (a move: by the slot's id, after its own cap check). On
  PostgreSQL a second writer of the same row waits for the first to commit and then
  re-checks the condition; on SQLite every writing transaction is serialised (``BEGIN
  IMMEDIATE``). Zero rows updated means the citizen is at the cap (checked again for
  the message) or the slot is full: 409. The CHECK constraint ``booked <= capacity``
  stands behind it.
* **One citizen.** The citizen's :class:`CitizenRecord` row is locked first, so two
  bookings of the same ID number are decided one after the other and the per-citizen
  cap cannot be passed by sending both at once. A partial unique index also forbids two
  active bookings of one citizen in one slot.
* **Slot rows** are created outside the booking transaction (one ``INSERT ... ON
  CONFLICT DO NOTHING`` statement before it, once per process and slot), so concurrent
  first bookings of a slot do not wait for each other's commit just to create the row.
* **One statement.** On PostgreSQL, after the citizen's lock, the claim, the booking,
  the audit event, the idempotency key and the SMS are one statement
  (:mod:`.statements`): nothing is written unless the claim took a place.
* **Idempotency keys** are stored with the booking (unique). A replay finds the key and
  returns the same booking; two requests with the same key at once end with one booking:
  the loser's transaction fails (full slot, duplicate, or the key itself) and it then
  finds the winner's key.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from onestop.audit.models import AuditStream
from onestop.audit.services import audit_record, ensure_stream, hole, stream_for_centre
from onestop.catalogue.models import Service, ServiceGroup
from onestop.centres.models import Centre
from onestop.core import clock
from onestop.core.models import translate
from onestop.core.problems import Conflict, DomainError
from onestop.core.sql import from_db, mark_saved, prep
from onestop.packs.national_id import NationalIdFormat

from . import links, statements
from .models import (
    Booking,
    BookingSource,
    BookingStatus,
    CapacityOverride,
    CitizenRecord,
    IdempotencyKey,
    Slot,
)
from .rules import BookingRules
from .selectors import (
    active_bookings_in_period,
    booking_window,
    day_plan,
    grid_slot,
    planned_slot,
    rules_for,
    service_offered_at,
)
from .slots import PlannedSlot

log = logging.getLogger("onestop.appointments")

# --------------------------------------------------------------------------- validation


def local(moment: datetime, centre: Centre) -> datetime:
    return moment.astimezone(ZoneInfo(centre.time_zone))


def _fmt_time(moment: datetime, centre: Centre) -> str:
    """24-hour local time at the centre, as on the booking pages."""
    return local(moment, centre).strftime("%H:%M")


def _fmt_date(day: date) -> str:
    return formats.date_format(day, "SHORT_DATE_FORMAT")


def normalise_national_id(country, raw: str) -> str:
    """The ID number in the pack's canonical form; DomainError on ``national_id`` when invalid."""
    fmt = NationalIdFormat.from_pack(country.national_id or {})
    value = (raw or "").strip()
    if not value:
        raise DomainError(_("Enter your ID number."), field="national_id", code="required")
    if not fmt.is_valid(value):
        label = translate((country.national_id or {}).get("label")) or _("ID number")
        example = (country.national_id or {}).get("example", "")
        message = _("This is not a valid %(label)s.") % {"label": label}
        if example:
            message += " " + _("Example: %(example)s") % {"example": example}
        raise DomainError(message, field="national_id", code="invalid_national_id")
    return fmt.normalise(value)


def normalise_phone_number(country, raw: str) -> str:
    from onestop.notifications.services import normalise_phone

    try:
        return normalise_phone(raw, country.phone_region)
    except ValueError as exc:
        raise DomainError(str(exc), field="phone", code="invalid_phone") from None


def parse_start(value: Any, centre: Centre) -> datetime:
    """An ISO 8601 date-time; without an offset it is read as the centre's local time."""
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value or "").strip())
        except ValueError:
            raise DomainError(
                _("Give the start as an ISO 8601 date and time."),
                field="start",
                code="invalid_start",
            ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(centre.time_zone))
    return moment.astimezone(ZoneInfo("UTC"))


def check_target(
    *,
    centre: Centre,
    service: Service,
    start: datetime,
    rules: BookingRules | None = None,
    on_grid: bool = False,
) -> PlannedSlot:
    """The planned slot a booking at ``start`` would hold (rules that need no identity).

    With ``on_grid`` the start is checked against the day's grid only (no query: see
    :func:`selectors.grid_slot`) and the slot returned does not carry the slot's places;
    :func:`booking_create` then takes them from the slot's row, and refuses a slot the
    day's plan gives no place with the same ``no_slot`` error as here.
    """
    rules = rules or rules_for(centre)
    if not service_offered_at(service, centre):
        raise DomainError(
            _("This service cannot be booked at this centre."), field="service", code="not_offered"
        )
    now = clock.now()
    if start <= now:
        raise DomainError(_("This time has already passed."), field="start", code="past")
    first, last = booking_window(centre, rules)
    if local(start, centre).date() > last:
        raise DomainError(
            _("Bookings open %(days)s days ahead: choose a day up to %(last)s.")
            % {"days": rules.horizon_days, "last": _fmt_date(last)},
            field="start",
            code="beyond_horizon",
        )
    planned = (grid_slot if on_grid else planned_slot)(centre, service.group, start)
    if planned is None:
        raise _no_slot()
    return planned


def _no_slot() -> DomainError:
    return DomainError(
        _("No appointment starts at this time. Choose one of the offered times."),
        field="start",
        code="no_slot",
    )


def _check_cap(
    *,
    national_id: str,
    group: ServiceGroup,
    start: datetime,
    rules: BookingRules,
    centre: Centre,
    exclude_pk: int | None = None,
) -> None:
    """At most ``max_active_per_group`` booked bookings of a group, ``period_days`` apart."""
    held = list(
        active_bookings_in_period(
            national_id=national_id,
            group=group,
            around=start,
            period_days=rules.period_days,
            exclude_pk=exclude_pk,
        ).values_list("start", flat=True)[: rules.max_active_per_group]
    )
    if len(held) >= rules.max_active_per_group:
        when = ", ".join(_fmt_date(local(moment, centre).date()) for moment in held)
        raise DomainError(
            ngettext(
                "You already have a booking for %(group)s on %(when)s. "
                "With one ID number you may hold "
                "%(max)s booking for it within %(days)s days: cancel or move that one first.",
                "You already have bookings for %(group)s on %(when)s. "
                "With one ID number you may hold "
                "%(max)s bookings for it within %(days)s days: cancel or move one of them first.",
                rules.max_active_per_group,
            )
            % {
                "group": translate(group.name) or group.code,
                "when": when,
                "max": rules.max_active_per_group,
                "days": rules.period_days,
            },
            field="national_id",
            code="booking_cap",
        )


# --------------------------------------------------------------------------- helpers


def materialise_slot(centre: Centre, group: ServiceGroup, planned: PlannedSlot) -> Slot:
    """The slot's row, created with the planned capacity if nobody booked it before."""
    slot = Slot.objects.filter(centre=centre, group=group, start=planned.start).first()
    if slot is not None:
        return slot
    Slot.objects.bulk_create(
        [
            Slot(
                centre=centre,
                group=group,
                start=planned.start,
                end=planned.end,
                capacity=planned.capacity,
            )
        ],
        ignore_conflicts=True,
    )
    return Slot.objects.get(centre=centre, group=group, start=planned.start)


def _ensure_slot(centre: Centre, group: ServiceGroup, planned: PlannedSlot) -> None:
    """Create the slot's row with the day's planned places unless it exists: one statement.

    The places are those of the plan with the day's capacity override, read fresh here
    (``planned`` may come from the grid, which does not read it); a start the plan gives
    no place is refused (``no_slot``). Outside the booking transaction (in autocommit), so
    that concurrent first bookings of a slot do not wait for each other's commit; an
    existing row is left as it is (``capacity_refresh`` keeps it to later overrides).
    """
    fresh = planned_slot(centre, group, planned.start)
    if fresh is None:
        raise _no_slot()
    planned = fresh
    qn = connection.ops.quote_name
    sql = (
        f"INSERT INTO {qn(Slot._meta.db_table)} "  # noqa: S608 -- names from model metadata
        f"({qn('centre_id')}, {qn('group_id')}, {qn('start')}, {qn('end')}, {qn('capacity')}, "
        f"{qn('booked')}, {qn('released')}) VALUES (%s, %s, %s, %s, %s, 0, 0) "
        f"ON CONFLICT ({qn('centre_id')}, {qn('group_id')}, {qn('start')}) DO NOTHING"
    )
    params = [
        centre.pk,
        group.pk,
        prep(Slot, "start", planned.start),
        prep(Slot, "end", planned.end),
        planned.capacity,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# The slot rows this process has made sure exist, as (centre, group, start). The application
# never deletes a slot row; should one go all the same (the admin can delete a slot nobody
# booked), a claim that finds no row notices it in ``_refuse_claim`` and makes it again.
_KNOWN_SLOTS: set[tuple[int, int, datetime]] = set()
_KNOWN_SLOTS_MAX = 100_000


def _ensure_slot_once(centre: Centre, group: ServiceGroup, planned: PlannedSlot) -> None:
    """:func:`_ensure_slot` unless this process did it before for this slot."""
    key = (centre.pk, group.pk, planned.start)
    if key in _KNOWN_SLOTS:
        return
    _ensure_slot(centre, group, planned)
    if len(_KNOWN_SLOTS) >= _KNOWN_SLOTS_MAX:
        _KNOWN_SLOTS.clear()
    _KNOWN_SLOTS.add(key)


def _claim_place_within_cap(
    *,
    centre: Centre,
    group: ServiceGroup,
    planned: PlannedSlot,
    national_id: str,
    rules: BookingRules,
) -> tuple[int, datetime]:
    """Take a place of the slot if it has one and the citizen is under the cap: ``(slot id, end)``.

    One ``UPDATE … WHERE booked < capacity AND (the citizen's bookings of the group within
    the period) < max RETURNING``. It runs after the citizen's row is locked, so its
    snapshot sees every committed booking of that citizen; a second writer of the same
    slot waits for the first and re-checks ``booked < capacity`` (the CHECK constraint
    stands behind it). When no row is updated, :func:`_check_cap` tells which rule
    refused (with the dates for the message), else the slot is full.
    """
    qn = connection.ops.quote_name
    sql = f"{statements.claim_sql()} RETURNING {qn('id')}, {qn('end')}"
    params = statements.claim_params(
        centre_id=centre.pk,
        group_id=group.pk,
        start=planned.start,
        national_id=national_id,
        rules=rules,
    )
    for _attempt in range(2):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        if row is not None:
            return int(row[0]), from_db(Slot, "end", row[1])
        _refuse_claim(
            national_id=national_id, group=group, planned=planned, rules=rules, centre=centre
        )
    raise AssertionError("the slot's row exists after it was made again")


def _refuse_claim(
    *,
    centre: Centre,
    group: ServiceGroup,
    planned: PlannedSlot,
    national_id: str,
    rules: BookingRules,
) -> None:
    """The refusal of a claim that took no place: the cap (with its dates), a slot the day
    gives no place, or a full slot.

    Returns, for the caller to claim again, only when the slot's row was missing and has
    been made again (see ``_KNOWN_SLOTS``).
    """
    _check_cap(
        national_id=national_id, group=group, start=planned.start, rules=rules, centre=centre
    )
    if not Slot.objects.filter(centre=centre, group=group, start=planned.start).exists():
        _KNOWN_SLOTS.discard((centre.pk, group.pk, planned.start))
        _ensure_slot(centre, group, planned)  # refuses a slot with no place (no_slot)
        return
    if planned_slot(centre, group, planned.start) is None:
        # the day's plan (an override of 0 places, say) gives this slot no place
        raise _no_slot()
    raise Conflict(
        _("This time has just been fully booked. Please choose another time."),
        field="start",
        code="slot_full",
    )


def _claim_place(slot_id: int) -> None:
    taken = Slot.objects.filter(pk=slot_id, booked__lt=F("capacity")).update(booked=F("booked") + 1)
    if taken != 1:
        raise Conflict(
            _("This time has just been fully booked. Please choose another time."),
            field="start",
            code="slot_full",
        )


def _release_place(slot_id: int, *, to_walk_ins: bool = False) -> None:
    changes: dict[str, Any] = {"booked": F("booked") - 1}
    if to_walk_ins:
        changes["released"] = F("released") + 1
    Slot.objects.filter(pk=slot_id, booked__gt=0).update(**changes)


def _lock_citizen(country, national_id: str) -> None:
    """Create or lock the citizen's row in one statement (INSERT ... ON CONFLICT DO UPDATE).

    The row stays locked until the transaction ends, so one citizen's bookings are decided
    one after the other.
    """
    with connection.cursor() as cursor:
        cursor.execute(statements.citizen_lock_sql(), [country.pk, national_id])


def _snapshot(booking: Booking) -> dict[str, Any]:
    return {
        "code": booking.code,
        "status": booking.status,
        "start": booking.start.isoformat(),
        "service": booking.service.code,
        "slot": booking.slot_id,
        "national_id": booking.masked_national_id,
    }


def _audit(booking: Booking, action: str, actor, before=None, after=None) -> None:
    audit_record(
        stream=stream_for_centre(booking.centre),
        action=action,
        obj=booking,
        actor=actor,
        before=before,
        after=after,
    )


def manage_url(booking: Booking, base_url: str = "") -> str:
    path = links.manage_path(booking.code)
    base = (base_url or getattr(settings, "ONESTOP_PUBLIC_URL", "") or "").rstrip("/")
    return f"{base}{path}"


def _message_params(booking: Booking) -> dict[str, Any]:
    language = booking.language or booking.centre.country.default_language
    start = local(booking.start, booking.centre)
    return {
        "service": translate(booking.service.name, language) or booking.service.code,
        "centre": translate(booking.centre.name, language) or booking.centre.code,
        "date": start.date(),
        "time": start.time(),
        "reference": booking.display_code,
    }


def _sms_fields(booking: Booking, template: str, **extra: Any) -> dict[str, Any]:
    """The SMS about ``booking`` from ``template``, in the booking's language."""
    from onestop.notifications.templates import render_message

    language = booking.language or booking.centre.country.default_language
    text = render_message(template, language, **_message_params(booking), **extra)
    return {
        "channel": "sms",
        "to": booking.phone,
        "text": text,
        "template": template,
        "language": language,
    }


def _sms(booking: Booking, template: str, dedupe_key: str, **extra: Any) -> None:
    """Queue one SMS about ``booking`` in the current transaction (sent after commit)."""
    if not booking.phone:
        return
    from onestop.notifications.services import message_enqueue

    message_enqueue(**_sms_fields(booking, template, **extra), dedupe_key=dedupe_key)


def _reminder_already_covered(start: datetime, centre: Centre) -> bool:
    """A booking for today or tomorrow gets its confirmation now instead of a reminder later."""
    today = clock.local_today(centre.time_zone)
    return local(start, centre).date() <= today + timedelta(days=1)


def request_fingerprint(**fields: Any) -> str:
    raw = json.dumps(fields, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()


def replay(key: str, fingerprint: str) -> Booking | None:
    """The booking an earlier request with this Idempotency-Key made, if any."""
    row = IdempotencyKey.objects.select_related("booking").filter(key=key).first()
    if row is None:
        return None
    if row.fingerprint != fingerprint:
        raise DomainError(
            _("This Idempotency-Key was used for a different booking request."),
            field="Idempotency-Key",
            code="idempotency_mismatch",
        )
    return _load(row.booking_id)


def _load(pk: int) -> Booking:
    return Booking.objects.select_related(
        "centre__country", "service", "group", "slot", "ticket"
    ).get(pk=pk)


# --------------------------------------------------------------------------- create


@dataclass(frozen=True)
class BookingResult:
    booking: Booking
    created: bool


def booking_create(
    *,
    centre: Centre,
    service: Service,
    start: datetime,
    national_id: str,
    phone: str = "",
    language: str = "",
    source: str = BookingSource.PORTAL,
    actor=None,
    idempotency_key: str = "",
    base_url: str = "",
    planned: PlannedSlot | None = None,
) -> BookingResult:
    """Book one place. ``phone`` must already be verified (one-time code) by the caller.

    ``national_id`` and ``phone`` are normalised here. With an ``idempotency_key`` a
    repeated request returns the booking the first one made (``created`` is False).
    """
    country = centre.country
    national_id = normalise_national_id(country, national_id)
    phone = normalise_phone_number(country, phone) if phone else ""
    if language and language not in country.language_codes:
        raise DomainError(
            _("This language is not offered here."), field="language", code="invalid_language"
        )
    language = language or translation.get_language() or country.default_language
    if language not in country.language_codes:
        language = country.default_language
    idempotency_key = (idempotency_key or "").strip()[:200]
    fingerprint = request_fingerprint(
        centre=centre.code,
        service=service.code,
        start=start.isoformat(),
        national_id=national_id,
        phone=phone,
    )
    if idempotency_key:
        replayed = replay(idempotency_key, fingerprint)
        if replayed is not None:
            return BookingResult(replayed, created=False)
    rules = rules_for(centre)
    if planned is None or planned.start != start:
        planned = check_target(
            centre=centre, service=service, start=start, rules=rules, on_grid=True
        )
    group = service.group
    if connection.vendor != "postgresql":
        # on PostgreSQL the booking's statement makes the slot's row (statements.py)
        _ensure_slot_once(centre, group, planned)
    for attempt in range(3):
        try:
            booking = _create_in_transaction(
                centre=centre,
                service=service,
                group=group,
                planned=planned,
                national_id=national_id,
                phone=phone,
                language=language,
                source=source,
                actor=actor,
                rules=rules,
                idempotency_key=idempotency_key,
                fingerprint=fingerprint,
                base_url=base_url,
            )
            return BookingResult(booking, created=True)
        except (Conflict, DomainError, IntegrityError) as exc:
            if idempotency_key:
                replayed = replay(idempotency_key, fingerprint)
                if replayed is not None:
                    return BookingResult(replayed, created=False)
            if not isinstance(exc, IntegrityError):
                raise
            if Booking.objects.filter(
                centre=centre,
                group=group,
                start=planned.start,
                national_id=national_id,
                status__in=[BookingStatus.BOOKED, BookingStatus.CHECKED_IN],
            ).exists():
                raise Conflict(
                    _("You already have a booking at this time."), field="start", code="duplicate"
                ) from None
            if attempt == 2:
                raise
            # a booking code collision (1 in 2^40): try again with a new code
    raise AssertionError("unreachable")


def _create_in_transaction(
    *,
    centre: Centre,
    service: Service,
    group: ServiceGroup,
    planned: PlannedSlot,
    national_id: str,
    phone: str,
    language: str,
    source: str,
    actor,
    rules: BookingRules,
    idempotency_key: str,
    fingerprint: str,
    base_url: str,
) -> Booking:
    now = clock.now()
    booking = Booking(
        centre=centre,
        service=service,
        group=group,
        start=planned.start,
        end=planned.end,
        national_id=national_id,
        phone=phone,
        language=language,
        source=source,
        created_by=actor if getattr(actor, "pk", None) else None,
        created_at=now,
        updated_at=now,
        reminder_sent_at=now if _reminder_already_covered(planned.start, centre) else None,
    )
    url = manage_url(booking, base_url)
    if connection.vendor == "postgresql":
        # the citizen's lock and the writes, in one call (statements.insert_booking)
        _write_in_one_statement(
            booking,
            national_id=national_id,
            planned=planned,
            rules=rules,
            actor=actor,
            idempotency_key=idempotency_key,
            fingerprint=fingerprint,
            url=url,
        )
        return booking
    with transaction.atomic():
        _lock_citizen(centre.country, national_id)
        booking.slot_id, booking.end = _claim_place_within_cap(
            centre=centre, group=group, planned=planned, national_id=national_id, rules=rules
        )
        booking.save(force_insert=True)
        if idempotency_key:
            IdempotencyKey.objects.create(
                key=idempotency_key, fingerprint=fingerprint, booking=booking, created_at=now
            )
        _audit(booking, "booking.created", actor, after={**_snapshot(booking), "source": source})
        _sms(booking, "booking_confirmed", f"booking-confirmed:{booking.pk}:0", url=url)
    return booking


def _write_in_one_statement(
    booking: Booking,
    *,
    national_id: str,
    planned: PlannedSlot,
    rules: BookingRules,
    actor,
    idempotency_key: str,
    fingerprint: str,
    url: str,
) -> None:
    """The PostgreSQL form of the writes above: one statement (``statements.insert_booking``)
    writes what the ORM form writes, with the same audit text and SMS."""
    from onestop.notifications.services import deliver_soon, new_message

    stream = stream_for_centre(booking.centre)
    after = {**_snapshot(booking), "slot": hole("slot"), "source": booking.source}
    key = None
    if idempotency_key:
        key = IdempotencyKey(
            key=idempotency_key, fingerprint=fingerprint, created_at=booking.created_at
        )
    message = None
    if booking.phone:
        message = new_message(**_sms_fields(booking, "booking_confirmed", url=url))
    # the places the plan gives the slot without an override (``planned`` may carry one)
    grid = grid_slot(booking.centre, booking.group, planned.start)
    places = grid.capacity if grid is not None else 0
    for _attempt in range(3):
        row = statements.insert_booking(
            booking,
            day=local(planned.start, booking.centre).date(),
            planned_places=places,
            national_id=national_id,
            rules=rules,
            stream=stream,
            actor=actor,
            after=after,
            idempotency=key,
            message=message,
            dedupe=("booking-confirmed:", ":0"),
        )
        if row is not None:
            break
        if AuditStream.objects.filter(name=stream).exists():
            _refuse_claim(
                centre=booking.centre,
                group=booking.group,
                planned=planned,
                national_id=national_id,
                rules=rules,
            )
        else:
            ensure_stream(stream)
    else:
        raise AssertionError("the stream's head and the slot's row exist after they were made")
    booking.slot_id, booking.end, pk, message_id = row
    mark_saved(booking, pk)
    if message_id is not None:
        transaction.on_commit(partial(deliver_soon, message_id), robust=True)


# --------------------------------------------------------------------------- cancel / move


def _locked(booking: Booking) -> Booking:
    return (
        Booking.objects.select_for_update()
        .select_related("centre__country", "service", "group", "slot")
        .get(pk=booking.pk)
    )


def _require_booked(booking: Booking) -> None:
    if booking.status != BookingStatus.BOOKED:
        raise Conflict(
            _("This booking is %(status)s and can no longer be changed.")
            % {"status": booking.get_status_display().lower()},
            code="wrong_state",
        )
    if booking.start <= clock.now():
        raise Conflict(
            _("This appointment has already started and can no longer be changed."), code="started"
        )


def booking_cancel(*, booking: Booking, actor=None) -> Booking:
    """Cancel a booking before its start; its place goes back to other citizens."""
    with transaction.atomic():
        booking = _locked(booking)
        _require_booked(booking)
        before = _snapshot(booking)
        now = clock.now()
        _release_place(booking.slot_id)
        booking.status = BookingStatus.CANCELLED
        booking.cancelled_at = now
        booking.updated_at = now
        booking.save(update_fields=["status", "cancelled_at", "updated_at"])
        _audit(booking, "booking.cancelled", actor, before, _snapshot(booking))
        _sms(booking, "booking_cancelled", f"booking-cancelled:{booking.pk}")
    return booking


def booking_move(*, booking: Booking, start: datetime, actor=None, base_url: str = "") -> Booking:
    """Move to another time of the same service and centre, in one transaction.

    The new place is taken before the old one is given back: when the new slot is full
    the transaction rolls back and the original booking is untouched.
    """
    centre = booking.centre
    rules = rules_for(centre)
    if booking.status != BookingStatus.BOOKED:
        _require_booked(booking)
    if start == booking.start:
        raise DomainError(
            _("This is already the time of your booking."), field="start", code="same_slot"
        )
    planned = check_target(centre=centre, service=booking.service, start=start, rules=rules)
    slot = materialise_slot(centre, booking.group, planned)
    with transaction.atomic():
        booking = _locked(booking)
        _require_booked(booking)
        _lock_citizen(centre.country, booking.national_id)
        _check_cap(
            national_id=booking.national_id,
            group=booking.group,
            start=slot.start,
            rules=rules,
            centre=centre,
            exclude_pk=booking.pk,
        )
        before = _snapshot(booking)
        _claim_place(slot.pk)
        _release_place(booking.slot_id)
        now = clock.now()
        booking.slot = slot
        booking.start, booking.end = slot.start, slot.end
        booking.moves += 1
        booking.updated_at = now
        booking.reminder_sent_at = now if _reminder_already_covered(slot.start, centre) else None
        try:
            with transaction.atomic():
                booking.save(
                    update_fields=[
                        "slot",
                        "start",
                        "end",
                        "moves",
                        "updated_at",
                        "reminder_sent_at",
                    ]
                )
        except IntegrityError:
            raise Conflict(
                _("You already have a booking at this time."), field="start", code="duplicate"
            ) from None
        _audit(booking, "booking.moved", actor, before, _snapshot(booking))
        _sms(
            booking,
            "booking_confirmed",
            f"booking-confirmed:{booking.pk}:{booking.moves}",
            url=manage_url(booking, base_url),
        )
    return booking


# --------------------------------------------------------------------------- check-in


@dataclass(frozen=True)
class CheckIn:
    booking: Booking
    ticket: Any
    walk_in: bool = False
    repeated: bool = False


def check_in_window(booking: Booking, rules: BookingRules) -> tuple[datetime, datetime]:
    """First and last moment of check-in (both included)."""
    return (
        booking.start - timedelta(minutes=rules.arrival_window_minutes),
        booking.start + timedelta(minutes=rules.late_cutoff_minutes),
    )


class CheckInRefused(Conflict):
    """409 with the moment (local time) from which check-in opens, or the late policy."""

    def __init__(
        self, detail: str, *, code: str, opens_at: datetime | None = None, late_policy: str = ""
    ):
        super().__init__(detail, field="code", code=code)
        self.opens_at = opens_at
        self.late_policy = late_policy


def find_booking_for_check_in(centre: Centre, code: str) -> Booking:
    from .models import normalise_code

    code = normalise_code(code)
    if not code:
        raise DomainError(_("Enter your booking code."), field="code", code="required")
    booking = (
        Booking.objects.select_related(
            "centre__country", "service__group", "group", "slot", "ticket"
        )
        .filter(code=code, centre__country=centre.country_id)
        .first()
    )
    if booking is None:
        raise DomainError(
            _("We do not know this booking code. Check it and try again."),
            field="code",
            code="unknown_code",
            status_code=404,
        )
    if booking.centre_id != centre.pk:
        raise DomainError(
            _("This booking is for %(centre)s.") % {"centre": translate(booking.centre.name)},
            field="code",
            code="other_centre",
        )
    return booking


def booking_check_in(*, centre: Centre, code: str, actor=None, walk_in: bool = False) -> CheckIn:
    """Check in inside the window and get a ticket that the queue serves first.

    Early: refused with the local time to come back. Late: refused, or (pack policy
    ``walk_in``) a walk-in ticket when ``walk_in`` is asked for.
    """
    booking = find_booking_for_check_in(centre, code)
    rules = rules_for(centre)
    if booking.status in (BookingStatus.CHECKED_IN, BookingStatus.LATE) and booking.ticket_id:
        return CheckIn(
            booking, booking.ticket, walk_in=booking.status == BookingStatus.LATE, repeated=True
        )
    if booking.status == BookingStatus.CANCELLED:
        raise CheckInRefused(_("This booking was cancelled."), code="cancelled")
    now = clock.now()
    opens, closes = check_in_window(booking, rules)
    today = clock.local_today(centre.time_zone)
    if booking.status == BookingStatus.BOOKED and now < opens:
        local_opens = local(opens, centre)
        if local_opens.date() == today:
            text = _(
                "You are early. Check-in for your %(time)s appointment opens at %(opens)s; "
                "please come "
                "back then."
            ) % {"time": _fmt_time(booking.start, centre), "opens": _fmt_time(opens, centre)}
        else:
            text = _(
                "Your appointment is on %(date)s at %(time)s. Check-in opens at %(opens)s that day."
            ) % {
                "date": _fmt_date(local(booking.start, centre).date()),
                "time": _fmt_time(booking.start, centre),
                "opens": _fmt_time(opens, centre),
            }
        raise CheckInRefused(text, code="too_early", opens_at=local_opens)
    if booking.status == BookingStatus.BOOKED and now <= closes:
        return _check_in(booking, actor)
    # Late (or already marked as a no-show by the sweep).
    if local(booking.start, centre).date() != today:
        raise CheckInRefused(
            _("This booking was for %(date)s. Please book a new time.")
            % {"date": _fmt_date(local(booking.start, centre).date())},
            code="expired",
        )
    if not rules.walk_in_when_late:
        raise CheckInRefused(
            _(
                "Check-in closed %(minutes)s minutes after your appointment time (%(time)s). "
                "Please book a new "
                "time."
            )
            % {"minutes": rules.late_cutoff_minutes, "time": _fmt_time(booking.start, centre)},
            code="too_late",
            late_policy=rules.late_policy,
        )
    if not walk_in:
        raise CheckInRefused(
            _(
                "You are more than %(minutes)s minutes late for your %(time)s appointment, "
                "so it has lapsed. "
                "You can still join today's queue as a walk-in."
            )
            % {"minutes": rules.late_cutoff_minutes, "time": _fmt_time(booking.start, centre)},
            code="too_late",
            late_policy=rules.late_policy,
        )
    return _late_walk_in(booking, actor)


def _ticket_for_booking(
    booking: Booking,
    actor,
    *,
    allowed: tuple[str, ...],
    status: str,
    action: str,
    late: bool,
) -> CheckIn:
    """Lock the booking, issue its ticket, record the new status and the audit event.

    On time (``late`` false) the ticket is an appointment ticket served first; late, it is
    an ordinary walk-in ticket (reception's when staff checks the citizen in, else the
    kiosk's) and a still-held place goes back to walk-ins.
    """
    from onestop.queueing.models import Source
    from onestop.queueing.services import ticket_issue

    staff = actor is not None and getattr(actor, "is_authenticated", False)
    with transaction.atomic():
        booking = _locked(booking)
        if booking.status not in allowed:
            raise CheckInRefused(
                _("This booking is %(status)s.") % {"status": booking.get_status_display()},
                code="wrong_state",
            )
        before = _snapshot(booking)
        if late:
            ticket = ticket_issue(
                centre=booking.centre,
                service=booking.service,
                source=Source.RECEPTION if staff else Source.KIOSK,
                phone=booking.phone,
                language=booking.language,
                actor=actor if staff else None,
            )
            if booking.status == BookingStatus.BOOKED:
                _release_place(booking.slot_id, to_walk_ins=True)
        else:
            ticket = ticket_issue(
                centre=booking.centre,
                service=booking.service,
                source=Source.APPOINTMENT,
                booked_start=booking.start,
                phone=booking.phone,
                language=booking.language,
                actor=actor,
            )
        now = clock.now()
        booking.status = status
        booking.checked_in_at = now
        booking.updated_at = now
        booking.ticket = ticket
        booking.save(update_fields=["status", "checked_in_at", "updated_at", "ticket"])
        _audit(booking, action, actor, before, {**_snapshot(booking), "ticket": ticket.number})
    return CheckIn(booking, ticket, walk_in=late)


def _check_in(booking: Booking, actor) -> CheckIn:
    return _ticket_for_booking(
        booking,
        actor,
        allowed=(BookingStatus.BOOKED,),
        status=BookingStatus.CHECKED_IN,
        action="booking.checked_in",
        late=False,
    )


def _late_walk_in(booking: Booking, actor) -> CheckIn:
    return _ticket_for_booking(
        booking,
        actor,
        allowed=(BookingStatus.BOOKED, BookingStatus.NO_SHOW),
        status=BookingStatus.LATE,
        action="booking.late_walk_in",
        late=True,
    )


# --------------------------------------------------------------------------- sweeps


SWEEP_BATCH = 500


def bookings_mark_no_shows() -> int:
    """Bookings not checked in by the late cut-off become no-shows; their places go to walk-ins."""
    from onestop.packs.models import Country

    changed = 0
    now = clock.now()
    for country in Country.objects.all():
        rules = BookingRules.for_country(country)
        deadline = now - timedelta(minutes=rules.late_cutoff_minutes)
        ids = list(
            Booking.objects.filter(
                centre__country=country, status=BookingStatus.BOOKED, start__lt=deadline
            )
            .order_by("start")
            .values_list("pk", flat=True)[:SWEEP_BATCH]
        )
        for pk in ids:
            with transaction.atomic():
                booking = (
                    Booking.objects.select_for_update()
                    .select_related("centre__country", "service")
                    .filter(pk=pk, status=BookingStatus.BOOKED, start__lt=deadline)
                    .first()
                )
                if booking is None:
                    continue
                before = _snapshot(booking)
                booking.status = BookingStatus.NO_SHOW
                booking.no_show_at = now
                booking.updated_at = now
                booking.save(update_fields=["status", "no_show_at", "updated_at"])
                _release_place(booking.slot_id, to_walk_ins=True)
                _lock_citizen(country, booking.national_id)
                CitizenRecord.objects.filter(
                    country=country, national_id=booking.national_id
                ).update(no_shows=F("no_shows") + 1, last_no_show_at=now)
                _audit(booking, "booking.no_show", None, before, _snapshot(booking))
                changed += 1
    return changed


def reminder_hour() -> int:
    return int(getattr(settings, "ONESTOP_BOOKING_REMINDER_HOUR", 10))


def bookings_send_reminders() -> int:
    """One SMS the day before an appointment, from ``ONESTOP_BOOKING_REMINDER_HOUR`` local time."""
    now = clock.now()
    candidates = list(
        Booking.objects.filter(
            status=BookingStatus.BOOKED,
            reminder_sent_at__isnull=True,
            start__gt=now,
            start__lt=now + timedelta(days=2),
        )
        .select_related("centre")
        .order_by("start")
        .values_list("pk", "start", "centre__time_zone")[: SWEEP_BATCH * 4]
    )
    sent = 0
    for pk, start, tz in candidates:
        local_now = now.astimezone(ZoneInfo(tz))
        if start.astimezone(ZoneInfo(tz)).date() != local_now.date() + timedelta(days=1):
            continue
        if local_now.hour < reminder_hour():
            continue
        with transaction.atomic():
            claimed = Booking.objects.filter(
                pk=pk, status=BookingStatus.BOOKED, reminder_sent_at__isnull=True
            ).update(reminder_sent_at=now)
            if not claimed:
                continue
            booking = _load(pk)
            _sms(booking, "booking_reminder", f"booking-reminder:{booking.pk}:{booking.moves}")
            sent += 1
    return sent


# --------------------------------------------------------------------------- capacity overrides


def capacity_refresh(centre: Centre, day: date, actor=None) -> int:
    """Bring the slot rows of ``day`` to the current plan (after an override changed).

    A slot never drops below the places already booked in it. Returns rows changed.
    """
    from onestop.catalogue.models import ServiceGroup

    tz = ZoneInfo(centre.time_zone)
    first = datetime.combine(day, datetime.min.time(), tzinfo=tz)
    rows = Slot.objects.filter(centre=centre, start__gte=first, start__lt=first + timedelta(days=1))
    changed = 0
    with transaction.atomic():
        for group_id in set(rows.values_list("group_id", flat=True)):
            group = ServiceGroup.objects.get(pk=group_id)
            # the whole grid: a slot the new plan gives no place goes to its booked places
            plan = {p.start: p.capacity for p in day_plan(centre, group, day, include_empty=True)}
            for slot in rows.filter(group=group).select_for_update():
                target = max(plan.get(slot.start, slot.capacity), slot.booked)
                if target != slot.capacity:
                    Slot.objects.filter(pk=slot.pk).update(capacity=Greatest(target, F("booked")))
                    changed += 1
        if changed:
            audit_record(
                stream=stream_for_centre(centre),
                action="booking.capacity_refreshed",
                object_type="appointments.slot",
                object_id=f"{centre.code}:{day.isoformat()}",
                actor=actor,
                after={"date": day.isoformat(), "slots_changed": changed},
            )
    return changed


def capacity_override_save(override: CapacityOverride, actor=None) -> CapacityOverride:
    with transaction.atomic():
        before = None
        old = None
        if override.pk:
            old = CapacityOverride.objects.filter(pk=override.pk).select_related("centre").first()
            before = {"date": old.date.isoformat(), "capacity": old.capacity} if old else None
        override.save()
        audit_record(
            stream=stream_for_centre(override.centre),
            action="booking.capacity_override",
            obj=override,
            actor=actor,
            before=before,
            after={
                "date": override.date.isoformat(),
                "capacity": override.capacity,
                "group": getattr(override.group, "code", None),
                "reason": override.reason,
            },
        )
        capacity_refresh(override.centre, override.date, actor)
        if old is not None and (old.centre_id, old.date) != (override.centre_id, override.date):
            # moved to another day or centre: the day it left goes back to its plan
            capacity_refresh(old.centre, old.date, actor)
    return override


def capacity_override_delete(override: CapacityOverride, actor=None) -> None:
    centre, day = override.centre, override.date
    with transaction.atomic():
        audit_record(
            stream=stream_for_centre(centre),
            action="booking.capacity_override_removed",
            obj=override,
            actor=actor,
            before={"date": day.isoformat(), "capacity": override.capacity},
        )
        override.delete()
        capacity_refresh(centre, day, actor)
