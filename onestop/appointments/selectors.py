"""Reads for bookings: slot plans with their free places, next free dates, the day's bookings."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import TypeVar
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Avg, F, QuerySet

from onestop.catalogue.models import Service, ServiceGroup
from onestop.centres.models import Centre, CentreKind, CounterGroup
from onestop.centres.selectors import opening_intervals
from onestop.core import clock, localcache
from onestop.core.calendar import WorkingCalendar
from onestop.core.sql import fetch_rows, prep, select_statement

from .models import ACTIVE_STATUSES, Booking, BookingStatus, CapacityOverride, CitizenRecord, Slot
from .rules import BookingRules
from .slots import PlannedSlot, counter_share, plan_day

T = TypeVar("T")

#: Centres, services, counters, handling times, calendars, booking rules and the slot plans
#: derived from them change rarely: each process keeps them this long in
#: :mod:`onestop.core.localcache`, which also forgets them at once when this process saves
#: one of the models they come from. Capacity overrides and booked places are always read
#: fresh from the database.
INPUT_CACHE_SECONDS = 30.0


def _cached(key: tuple, build: Callable[[], T]) -> T:
    return localcache.get_or_set(("appointments", *key), INPUT_CACHE_SECONDS, build)


def clear_input_cache() -> None:
    localcache.clear()


@dataclass(frozen=True)
class GroupCapacity:
    counter_shares: tuple[Fraction, ...]
    mean_handling_minutes: Fraction


@dataclass(frozen=True)
class CountryReference:
    """What bookings and slot listings read of a country's halls, in one snapshot.

    Built in five queries (four, and the routes of mobile units) for the whole country, not
    per centre and group: a country has hundreds of centre × group lanes, and built lane by
    lane every process would rebuild each of them every :data:`INPUT_CACHE_SECONDS`.
    """

    centres: dict[str, Centre]  # open centres by code, with their country and route
    services: dict[str, Service]  # offered services by code, with their group and country
    capacities: dict[tuple[int, int], GroupCapacity]  # (centre id, group id): lanes served
    mean_minutes: dict[int, Fraction]  # group id: mean handling time of its services


def _mean(value) -> Fraction:
    return Fraction(Decimal(str(value))).limit_denominator(1000) if value else Fraction(0)


def country_reference(country_id: int) -> CountryReference:
    """The country's open centres, offered services and lane capacities, kept by each process."""

    def build() -> CountryReference:
        centres = (
            Centre.objects.select_related("country")
            .prefetch_related("route")
            .filter(country_id=country_id, archived_at__isnull=True)
        )
        services = Service.objects.select_related("group", "country").filter(
            country_id=country_id, archived_at__isnull=True
        )
        means = (
            Service.objects.filter(group__country_id=country_id, archived_at__isnull=True)
            .order_by()
            .values("group_id")
            .annotate(m=Avg("handling_minutes"))
            .values_list("group_id", "m")
        )
        links = CounterGroup.objects.filter(
            counter__centre__country_id=country_id,
            counter__archived_at__isnull=True,
            group__archived_at__isnull=True,
        ).values_list("counter__centre_id", "counter_id", "group_id", "priority")
        serving: dict[tuple[int, int], list[tuple[int, int]]] = {}
        for centre_id, counter_id, group_id, level in links:
            serving.setdefault((centre_id, counter_id), []).append((group_id, level))
        mean_minutes = {group_id: _mean(m) for group_id, m in means}
        shares: dict[tuple[int, int], list[Fraction]] = {}
        for (centre_id, _), groups in serving.items():
            levels = [level for _, level in groups]
            for group_id, level in groups:
                shares.setdefault((centre_id, group_id), []).append(counter_share(levels, level))
        return CountryReference(
            centres={c.code: c for c in centres},
            services={s.code: s for s in services},
            capacities={
                (centre_id, group_id): GroupCapacity(
                    counter_shares=tuple(lane),
                    mean_handling_minutes=mean_minutes.get(group_id, Fraction(0)),
                )
                for (centre_id, group_id), lane in shares.items()
            },
            mean_minutes=mean_minutes,
        )

    return _cached(("reference", country_id), build)


def group_capacity(centre: Centre, group: ServiceGroup) -> GroupCapacity:
    """The share of each counter's time that serves ``group`` and the group's mean handling time."""
    reference = country_reference(centre.country_id)
    lane = reference.capacities.get((centre.pk, group.pk))
    if lane is not None:
        return lane
    return GroupCapacity(
        counter_shares=(), mean_handling_minutes=reference.mean_minutes.get(group.pk, Fraction(0))
    )


def centre_by_code(country, code: str) -> Centre | None:
    """An open centre of ``country`` (with its country and route), kept by each process briefly.

    A code the snapshot does not know is looked up again, so a centre opened a moment ago in
    another process is found at once.
    """
    found = country_reference(country.pk).centres.get(code)
    if found is not None:
        return found
    return (
        Centre.objects.select_related("country")
        .prefetch_related("route")
        .filter(country=country, code=code, archived_at__isnull=True)
        .first()
    )


def service_by_code(country, code: str) -> Service | None:
    """An offered service of ``country`` (with its group and country), as :func:`centre_by_code`."""
    found = country_reference(country.pk).services.get(code)
    if found is not None:
        return found
    return (
        Service.objects.select_related("group", "country")
        .filter(country=country, code=code, archived_at__isnull=True)
        .first()
    )


def centre_calendar(centre: Centre) -> WorkingCalendar:
    return _cached(("calendar", centre.pk), lambda: centre.country.calendar(centre.code))


def rules_for(centre: Centre) -> BookingRules:
    country = centre.country
    return _cached(("rules", country.pk), lambda: BookingRules.for_country(country))


def is_closed(centre: Centre, day: date) -> bool:
    """A public holiday or a closure (the pack's weekend does not close a centre: see slots.py)."""
    return centre_calendar(centre).is_holiday(day)


@functools.cache
def _overrides_sql(vendor: str) -> str:
    # built once per process and vendor; "group = %s OR group IS NULL" is added by hand
    base = select_statement(CapacityOverride, _OVERRIDE_COLUMNS, ("centre", "date >=", "date <="))
    group = connection.ops.quote_name(CapacityOverride._meta.get_field("group").column)
    return f"{base} AND ({group} = %s OR {group} IS NULL)"


_OVERRIDE_COLUMNS = ("date", "group", "capacity")


def overrides_for(centre: Centre, group: ServiceGroup, first: date, last: date) -> dict[date, int]:
    """Capacity overrides per date; one for the group wins over one for every group."""
    out: dict[date, int] = {}
    rows = fetch_rows(
        CapacityOverride,
        _OVERRIDE_COLUMNS,
        _overrides_sql(connection.vendor),
        [
            centre.pk,
            prep(CapacityOverride, "date", first),
            prep(CapacityOverride, "date", last),
            group.pk,
        ],
    )
    specific: set[date] = set()
    for day, group_id, capacity in rows:
        if group_id is not None:
            out[day] = capacity
            specific.add(day)
        elif day not in specific:
            out[day] = capacity
    return out


def day_plan(
    centre: Centre,
    group: ServiceGroup,
    day: date,
    *,
    rules: BookingRules | None = None,
    override: int | None = None,
    overrides_known: bool = False,
    include_empty: bool = False,
) -> list[PlannedSlot]:
    """The planned slots (with places) of ``group`` at ``centre`` on the local date ``day``.

    ``include_empty`` keeps the slots the plan gives no place (the whole grid of the day).
    """
    rules = rules or rules_for(centre)
    if not overrides_known:
        override = overrides_for(centre, group, day, day).get(day)

    def build() -> tuple[PlannedSlot, ...]:
        inputs = group_capacity(centre, group)
        return tuple(
            plan_day(
                day=day,
                tz=centre.time_zone,
                intervals=opening_intervals(centre, day),
                slot_minutes=rules.slot_minutes,
                counter_shares=inputs.counter_shares,
                mean_handling_minutes=inputs.mean_handling_minutes,
                share_for_bookings=rules.share_for_bookings,
                closed=is_closed(centre, day),
                override=override,
                include_empty=include_empty,
            )
        )

    # The override (read fresh above) is part of the key: a changed override is a new plan.
    key = ("plan", centre.pk, group.pk, day, override, rules, include_empty)
    return list(_cached(key, build))


def service_offered_at(service: Service, centre: Centre) -> bool:
    """The service's channel fits the centre, and a counter of the centre serves its group."""
    if (
        service.archived_at is not None
        or centre.archived_at is not None
        or service.country_id != centre.country_id
    ):
        return False
    channel = "mobile" if centre.kind == CentreKind.MOBILE else "hall"
    if channel not in (service.channels or []):
        return False
    return bool(group_capacity(centre, service.group).counter_shares)


def centres_offering(service: Service):
    qs = (
        Centre.objects.filter(
            country_id=service.country_id,
            archived_at__isnull=True,
            counters__archived_at__isnull=True,
            counters__group_links__group=service.group_id,
        )
        .distinct()
        .select_related("country")
        .prefetch_related("route")
    )
    return [c for c in qs if service_offered_at(service, c)]


def bookable_services(country) -> list[Service]:
    """Services a citizen can book: offered in a hall or by a mobile unit."""
    qs = Service.objects.filter(
        country=country, archived_at__isnull=True, group__archived_at__isnull=True
    ).select_related("group", "agency")
    return [s for s in qs if {"hall", "mobile"} & set(s.channels or [])]


@dataclass(frozen=True)
class SlotView:
    start: datetime  # UTC
    end: datetime
    capacity: int
    booked: int

    @property
    def available(self) -> int:
        return max(0, self.capacity - self.booked)


def booking_window(centre: Centre, rules: BookingRules | None = None) -> tuple[date, date]:
    """First and last local date that may be booked now (today .. today + horizon)."""
    rules = rules or rules_for(centre)
    today = clock.local_today(centre.time_zone)
    return today, today + timedelta(days=rules.horizon_days)


_SLOT_COLUMNS = ("start", "end", "capacity", "booked")


@functools.cache
def _slots_sql(vendor: str) -> str:
    return select_statement(Slot, _SLOT_COLUMNS, ("centre", "group", "start >=", "start <="))


def slots_on(
    centre: Centre,
    group: ServiceGroup,
    day: date,
    *,
    rules: BookingRules | None = None,
    future_only: bool = True,
) -> list[SlotView]:
    """The slots of a day with capacity and places taken (materialised rows win over the plan)."""
    rules = rules or rules_for(centre)
    plan = day_plan(centre, group, day, rules=rules)
    if not plan:
        return []
    rows = {
        row[0]: row
        for row in fetch_rows(
            Slot,
            _SLOT_COLUMNS,
            _slots_sql(connection.vendor),
            [
                centre.pk,
                group.pk,
                prep(Slot, "start", plan[0].start),
                prep(Slot, "start", plan[-1].start),
            ],
        )
    }
    now = clock.now()
    out = []
    for planned in plan:
        if future_only and planned.start <= now:
            continue
        row = rows.get(planned.start)
        if row is not None:
            out.append(SlotView(*row))
        else:
            out.append(SlotView(planned.start, planned.end, planned.capacity, 0))
    return out


def free_days(
    centre: Centre, group: ServiceGroup, *, limit: int | None = None
) -> list[tuple[date, int]]:
    """(date, free places) for each bookable day with a free place, soonest first."""
    rules = rules_for(centre)
    first, last = booking_window(centre, rules)
    overrides = overrides_for(centre, group, first, last)
    tz = ZoneInfo(centre.time_zone)
    start_utc = datetime.combine(first, datetime.min.time(), tzinfo=tz)
    end_utc = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    rows = {
        start: (capacity, booked)
        for start, capacity, booked in Slot.objects.filter(
            centre=centre, group=group, start__gte=start_utc, start__lt=end_utc
        ).values_list("start", "capacity", "booked")
    }
    now = clock.now()
    out: list[tuple[date, int]] = []
    day = first
    while day <= last:
        plan = day_plan(
            centre, group, day, rules=rules, override=overrides.get(day), overrides_known=True
        )
        free = 0
        for planned in plan:
            if planned.start <= now:
                continue
            capacity, booked = rows.get(planned.start, (planned.capacity, 0))
            free += max(0, capacity - booked)
        if free:
            out.append((day, free))
            if limit is not None and len(out) >= limit:
                break
        day += timedelta(days=1)
    return out


def next_free_date(centre: Centre, group: ServiceGroup) -> date | None:
    days = free_days(centre, group, limit=1)
    return days[0][0] if days else None


def planned_slot(centre: Centre, group: ServiceGroup, start: datetime) -> PlannedSlot | None:
    """The planned slot of ``group`` at ``centre`` that starts exactly at ``start``, if any.

    Its places follow the day's capacity override, read fresh.
    """
    local_day = start.astimezone(ZoneInfo(centre.time_zone)).date()
    for planned in day_plan(centre, group, local_day):
        if planned.start == start:
            return planned
    return None


def grid_slot(centre: Centre, group: ServiceGroup, start: datetime) -> PlannedSlot | None:
    """The slot of the day's grid that starts exactly at ``start``, if any, without a query.

    The grid follows the opening hours, holidays, closures and slot length (reference data
    each process keeps, :data:`INPUT_CACHE_SECONDS`), and includes the slots the plan gives
    no place; it does not read the day's capacity override, so its ``capacity`` is not the
    slot's. A booking takes its place from the slot's row, which :func:`planned_slot` made
    with the day's places and ``services.capacity_refresh`` keeps to every later override.
    """
    local_day = start.astimezone(ZoneInfo(centre.time_zone)).date()
    for planned in day_plan(centre, group, local_day, overrides_known=True, include_empty=True):
        if planned.start == start:
            return planned
    return None


def slot_is_full(centre: Centre, group: ServiceGroup, start: datetime) -> bool:
    return Slot.objects.filter(
        centre=centre, group=group, start=start, booked__gte=F("capacity")
    ).exists()


def bookings_of_day(centre: Centre, day: date):
    tz = ZoneInfo(centre.time_zone)
    start = datetime.combine(day, datetime.min.time(), tzinfo=tz)
    end = start + timedelta(days=1)
    return (
        Booking.objects.filter(centre=centre, start__gte=start, start__lt=end)
        .exclude(status=BookingStatus.CANCELLED)
        .select_related("service", "group", "ticket")
        .order_by("start", "group__position", "code")
    )


def active_bookings_in_period(
    *,
    national_id: str,
    group: ServiceGroup,
    around: datetime,
    period_days: int,
    exclude_pk: int | None = None,
) -> QuerySet[Booking]:
    """The citizen's booked (not yet used) bookings of ``group``.

    Only those starting less than ``period_days`` before or after ``around`` count.
    """
    span = timedelta(days=period_days)
    qs = Booking.objects.filter(
        national_id=national_id,
        group=group,
        status=BookingStatus.BOOKED,
        start__gt=around - span,
        start__lt=around + span,
    )
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.order_by("start")


def citizen_no_shows(country, national_id: str) -> int:
    record = CitizenRecord.objects.filter(country=country, national_id=national_id).first()
    return record.no_shows if record else 0


def find_booking(country, code: str, national_id: str | None = None) -> Booking | None:
    qs = Booking.objects.filter(code=code, centre__country=country).select_related(
        "centre__country", "service", "group", "slot", "ticket"
    )
    booking = qs.first()
    if booking is None:
        return None
    if national_id is not None and booking.national_id != national_id:
        return None
    return booking


__all__ = [
    "ACTIVE_STATUSES",
    "CountryReference",
    "GroupCapacity",
    "SlotView",
    "active_bookings_in_period",
    "bookable_services",
    "booking_window",
    "bookings_of_day",
    "centres_offering",
    "citizen_no_shows",
    "country_reference",
    "day_plan",
    "find_booking",
    "free_days",
    "group_capacity",
    "next_free_date",
    "grid_slot",
    "planned_slot",
    "service_offered_at",
    "slots_on",
]
