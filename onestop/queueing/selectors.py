"""Reads of the queue: waiting lists, positions, estimates, board snapshots."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, cast, overload
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.db import connection
from django.db.models import Avg, Count, F, Q

from onestop.catalogue.models import Service, ServiceGroup
from onestop.centres.models import Centre, Counter, CounterGroup
from onestop.centres.selectors import opening_intervals
from onestop.core import clock, localcache

from .estimate import (
    WaitEstimate,
    estimate_wait_roster,
    learned_abandon_rate,
    learned_service_cv,
    learned_service_rate,
)
from .models import CounterState, CounterStatus, QueueLength, Status, Ticket
from .routing import RoutingParams, WaitingTicket


def epoch_minutes(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp() / 60.0


def routing_params(centre: Centre) -> RoutingParams:
    rules = centre.country.rules or {}
    booking, queue = rules.get("booking", {}), rules.get("queue", {})
    return RoutingParams(
        max_priority_overtakes=int(queue.get("max_priority_overtakes", 3)),
        arrival_window=float(booking.get("arrival_window_minutes", 30)),
        late_cutoff=float(booking.get("late_cutoff_minutes", 10)),
    )


def counter_groups(counter: Counter) -> dict[str, int]:
    return {link.group.code: link.priority for link in counter.group_links.select_related("group")}


TRANSFER_HEAD_START = 10_000.0  # minutes: a ticket transferred to a counter is that counter's next


REGULAR_WINDOW = 50  # oldest regular tickets per group handed to the routing policy


def waiting_for_groups(centre: Centre, group_codes, target_counter: Counter | None = None) -> list[WaitingTicket]:
    """Waiting tickets of ``group_codes`` that the routing policy needs to choose from.

    Every priority, booked or transferred ticket, and the ``REGULAR_WINDOW`` oldest regular
    tickets of each group: the policy only ever calls the oldest regular ticket of a group
    (bounded overtaking saturates the oldest first), so younger ones cannot be chosen and
    need not be read. This keeps call-next cheap when hundreds wait.

    Tickets transferred to one particular counter are invisible to the others, and at that
    counter they come first (their fairness time is moved back by a large head start).
    """
    fields = ("pk", "group__code", "fairness_at", "priority_group_id", "booked_start", "overtaken",
              "target_counter_id")
    base = (Ticket.objects.filter(centre=centre, status=Status.WAITING, group__code__in=list(group_codes))
            .filter(Q(target_counter__isnull=True) | Q(target_counter=target_counter)))
    special = base.filter(Q(priority_group__isnull=False) | Q(booked_start__isnull=False)
                          | Q(target_counter__isnull=False))
    rows = list(special.values_list(*fields))
    for code in group_codes:
        rows += list(base.filter(group__code=code, priority_group__isnull=True, booked_start__isnull=True,
                                 target_counter__isnull=True)
                     .order_by("fairness_at", "pk").values_list(*fields)[:REGULAR_WINDOW])
    out = []
    for pk, code, fairness, priority, booked, overtaken, target in rows:
        out.append(WaitingTicket(
            id=pk, group=code, issued_at=fairness.timestamp() / 60.0 - (TRANSFER_HEAD_START if target else 0.0),
            priority=priority is not None, booked_start=epoch_minutes(booked), overtaken=overtaken))
    return out


@dataclass(frozen=True)
class GroupQueue:
    group: ServiceGroup
    waiting: int
    open_counters: int
    estimate: WaitEstimate | None


def _minutes_to_close(centre: Centre, now: datetime) -> float | None:
    local = now.astimezone(ZoneInfo(centre.time_zone))
    for start, end in opening_intervals(centre, local.date()):
        if start <= local.time() < end:
            close = datetime.combine(local.date(), end, tzinfo=local.tzinfo)
            return (close - local).total_seconds() / 60.0
    return None


RATES_CACHE_SECONDS = 120


@overload
def group_rates(
    centre: Centre, group: ServiceGroup, *, with_cv: Literal[False] = False
) -> tuple[float, float]: ...


@overload
def group_rates(
    centre: Centre, group: ServiceGroup, *, with_cv: Literal[True]
) -> tuple[float, float, float]: ...


def group_rates(
    centre: Centre, group: ServiceGroup, *, with_cv: bool = False
) -> tuple[float, float] | tuple[float, float, float]:
    """(service rate, abandon rate) per minute, learned from the last 30 days with pack fallbacks.

    With ``with_cv`` the service-time coefficient of variation follows, learned from the
    same services (:func:`~onestop.queueing.estimate.learned_service_cv`, 1.0 below 30):
    ``(service rate, abandon rate, cv)``. Learned from history, so they move slowly: all
    three are cached together for two minutes per centre and group.
    """
    key = f"onestop:rates:v2:{centre.pk}:{group.pk}"
    learned = cache.get(key)
    if learned is None:
        learned = _learn_group_rates(centre, group)
        cache.set(key, learned, RATES_CACHE_SECONDS)
    mu, theta, cv = learned
    return (mu, theta, cv) if with_cv else (mu, theta)


def _learn_group_rates(centre: Centre, group: ServiceGroup) -> tuple[float, float, float]:
    now = clock.now()
    since = now - timedelta(days=30)
    fallback = (Service.objects.filter(group=group, archived_at__isnull=True)
                .aggregate(m=Avg("handling_minutes"))["m"]) or 10
    durations = list(
        Ticket.objects.filter(centre=centre, group=group, status=Status.DONE, finished_at__gte=since,
                              started_at__isnull=False)
        .annotate(d=F("finished_at") - F("started_at")).values_list("d", flat=True)[:500])
    minutes = [d.total_seconds() / 60.0 for d in durations if d is not None and d.total_seconds() > 0]
    mu = learned_service_rate(minutes, float(fallback))
    cv = learned_service_cv(minutes)
    # Walk-aways: cancelled while waiting, or called and never came. Exposure is the waiting
    # time of everyone who waited: until called, or until they left without being called.
    abandoned = 0
    exposure = 0.0
    rows = (Ticket.objects.filter(centre=centre, group=group, issued_at__gte=since)
            .filter(Q(called_at__isnull=False) | Q(status=Status.CANCELLED))
            .values_list("status", "issued_at", "called_at", "finished_at").order_by("-issued_at")[:2000])
    for status, issued, called, finished in rows:
        end = called or finished
        if end is not None:
            exposure += max(0.0, (end - issued).total_seconds() / 60.0)
        if status in (Status.NO_SHOW, Status.CANCELLED):
            abandoned += 1
    theta = learned_abandon_rate(abandoned, exposure) if exposure > 0 else 0.0
    return mu, theta, cv


def open_counters_by_group(centre: Centre) -> dict[int, int]:
    rows = (CounterGroup.objects.filter(counter__centre=centre, counter__archived_at__isnull=True,
                                        counter__state__status=CounterStatus.OPEN)
            .values("group_id").annotate(n=Count("counter_id")))
    return {row["group_id"]: row["n"] for row in rows}


def estimate_for(centre: Centre, group: ServiceGroup, ahead: int, open_counters: int | None = None,
                 rates: tuple[float, ...] | None = None, serving_counters: int | None = None) -> WaitEstimate | None:
    """Roster-aware estimate for a citizen with ``ahead`` waiting before them in ``group``.

    ``rates`` is ``(service rate, abandon rate)`` or ``(service rate, abandon rate, cv)``
    (default: :func:`group_rates`); without a cv the learned one is read from the cache of
    :func:`group_rates`. The cv narrows (cv < 1) or widens the P95; the mean with the
    counters now open does not depend on it.
    """
    now = clock.now()
    if open_counters is None:
        open_counters = open_counters_by_group(centre).get(group.pk, 0)
    if open_counters == 0:
        # Nobody serves the group right now: announce with the counters that serve it at all.
        if serving_counters is None:
            serving_counters = serving_counts(centre).get(group.pk, 0)
        open_counters = serving_counters
        if open_counters == 0:
            return None
    if rates is None:
        mu, theta, cv = _rates_with_cv(centre, group)
    elif len(rates) >= 3:
        mu, theta, cv = rates[0], rates[1], rates[2]
    else:
        mu, theta = rates[0], rates[1]
        cv = _rates_with_cv(centre, group)[2]
    # The mean assumes the counters now open keep serving; the P95 also knows the closing
    # time. With 0 counters after closing, a citizen not called by then waits "forever":
    # when fewer than 95% are called before closing, the P95 falls back to the open roster.
    base = estimate_wait_roster(ahead, [(0.0, open_counters)], mu, theta, service_cv=cv)
    p95 = base.p95
    to_close = _minutes_to_close(centre, now)
    if to_close is not None and to_close > 0:
        closing = estimate_wait_roster(ahead, [(0.0, open_counters), (to_close, 0)], mu, theta,
                                       service_cv=cv)
        if closing.p95 != float("inf"):
            p95 = max(closing.p95, base.mean)
    return WaitEstimate(mean=base.mean, p95=p95)


@functools.cache
def _position_sql(vendor: str, priority_only: bool) -> str:
    """Built once per process and database vendor (names quoted for ``connection``)."""
    qn = connection.ops.quote_name
    t = qn(Ticket._meta.db_table)
    fairness, pk = f"{t}.{qn('fairness_at')}", f"{t}.{qn('id')}"
    sql = (f"SELECT COUNT(*) FROM {t} WHERE {t}.{qn('centre_id')} = %s AND {t}.{qn('group_id')} = %s "  # noqa: S608 -- names from model metadata
           f"AND {t}.{qn('status')} = %s AND ({fairness} < %s OR ({fairness} = %s AND {pk} < %s))")
    if priority_only:
        sql += f" AND {t}.{qn('priority_group_id')} IS NOT NULL"
    return sql


def ticket_position(ticket: Ticket) -> int:
    """Citizens waiting ahead of this ticket in its group's queue (0 when next).

    Read for every ticket response and phone page, so the statement is built once per process.
    """
    if ticket.status != Status.WAITING:
        return 0
    priority_only = ticket.priority_group_id is not None
    sql = _position_sql(connection.vendor, priority_only)
    fairness = connection.ops.adapt_datetimefield_value(ticket.fairness_at)
    with connection.cursor() as cursor:
        cursor.execute(sql, [ticket.centre_id, ticket.group_id, Status.WAITING, fairness, fairness, ticket.pk])
        return int(cursor.fetchone()[0])


def _hall_groups(centre: Centre) -> tuple[tuple[ServiceGroup, int], ...]:
    """The centre's service groups in board order, each with the number of counters serving it."""
    serving = dict(CounterGroup.objects.filter(counter__centre=centre, counter__archived_at__isnull=True)
                   .values("group_id").annotate(n=Count("counter_id")).values_list("group_id", "n"))
    groups = ServiceGroup.objects.filter(pk__in=serving, archived_at__isnull=True).order_by("position", "code")
    return tuple((group, serving[group.pk]) for group in groups)


def queue_overview(centre: Centre) -> list[GroupQueue]:
    groups = localcache.get_or_set(("hall-groups", centre.pk), HALL_CACHE_SECONDS, lambda: _hall_groups(centre))
    counts = dict(QueueLength.objects.filter(centre=centre).values_list("group_id", "waiting"))
    open_by_group = open_counters_by_group(centre)
    out = []
    for group, serving in groups:
        waiting = counts.get(group.pk, 0)
        estimate = estimate_for(centre, group, waiting, open_by_group.get(group.pk, 0),
                                rates=group_rates_cached(centre, group), serving_counters=serving)
        out.append(GroupQueue(group=group, waiting=waiting, open_counters=open_by_group.get(group.pk, 0),
                              estimate=estimate))
    return out


def board_snapshot(centre: Centre, zone: str | None = None, last: int = 8) -> dict:
    """What the display board shows: last calls, and waiting counts and estimates per group."""
    calls = (Ticket.objects.filter(centre=centre, day=clock.local_today(centre.time_zone),
                                   status__in=[Status.CALLED, Status.SERVING, Status.DONE],
                                   called_at__isnull=False)
             .select_related("counter").order_by("-called_at", "-pk"))
    if zone:
        calls = calls.filter(counter__zone=zone)
    groups = []
    for item in queue_overview(centre):
        groups.append({
            "group": item.group.code, "prefix": item.group.prefix, "name": item.group.name,
            "waiting": item.waiting, "open_counters": item.open_counters,
            "estimate": None if item.estimate is None else {
                "mean_minutes": round(item.estimate.mean, 1), "p95_minutes": round(item.estimate.p95, 1)},
        })
    return {
        "centre": centre.code,
        "zone": zone or "",
        "calls": [{"id": t.pk, "number": t.number, "counter": t.counter.number if t.counter else None,
                   # called_at__isnull=False above: every call has its time
                   "status": t.status, "called_at": cast(datetime, t.called_at).isoformat(), "recalls": t.recalls}
                  for t in calls[:last]],
        "groups": groups,
        "generated_at": clock.now().isoformat(),
    }


def counter_state(counter: Counter) -> CounterState:
    state, _ = CounterState.objects.get_or_create(counter=counter)
    return state


# --------------------------------------------------------------------------- hot path of the kiosk
#
# Issuing a ticket is the busiest request of a hall. Reference data it needs (the centre,
# its services, the groups its counters serve, learned rates) is kept per process for a
# short time (:mod:`onestop.core.localcache`), and the live figures (citizens waiting,
# counters open) are read in one round trip.

HALL_CACHE_SECONDS = 30
RATES_LOCAL_SECONDS = 30


def centre_by_code(country, code: str) -> Centre | None:
    """An open (not archived) centre of ``country``, with its country loaded."""
    return localcache.get_or_set(
        ("centre", country.pk, code), HALL_CACHE_SECONDS,
        lambda: Centre.objects.select_related("country").filter(country=country, code=code,
                                                                archived_at__isnull=True).first())


def service_by_code(country, code: str) -> Service | None:
    """An offered (not archived) service of ``country``, with its group loaded."""
    return localcache.get_or_set(
        ("service", country.pk, code), HALL_CACHE_SECONDS,
        lambda: Service.objects.select_related("group").filter(country=country, code=code,
                                                               archived_at__isnull=True).first())


def serving_counts(centre: Centre) -> dict[int, int]:
    """Counters of ``centre`` (open or not) serving each group: ``{group id: counters}``."""
    def compute() -> dict[int, int]:
        rows = (CounterGroup.objects.filter(counter__centre=centre, counter__archived_at__isnull=True)
                .values("group_id").annotate(n=Count("counter_id", distinct=True)).values_list("group_id", "n"))
        return {group_id: n for group_id, n in rows}

    return localcache.get_or_set(("serving-counts", centre.pk), HALL_CACHE_SECONDS, compute)


def served_group_ids(centre: Centre) -> frozenset[int]:
    """Groups served by at least one counter of ``centre`` (open or not)."""
    return frozenset(serving_counts(centre))


def _rates_with_cv(centre: Centre, group: ServiceGroup) -> tuple[float, float, float]:
    mu, theta, cv = group_rates(centre, group, with_cv=True)
    return mu, theta, cv


def group_rates_cached(centre: Centre, group: ServiceGroup) -> tuple[float, float, float]:
    """``group_rates(..., with_cv=True)`` kept per process for 30 seconds (learned over 30 days)."""
    return localcache.get_or_set(("rates", centre.pk, group.pk), RATES_LOCAL_SECONDS,
                                 lambda: _rates_with_cv(centre, group))


@functools.cache
def _queue_load_sql(vendor: str, priority_only: bool) -> str:
    """Built once per process and database vendor (names quoted for ``connection``)."""
    qn = connection.ops.quote_name
    length = qn(QueueLength._meta.db_table)
    link, counter, state = (qn(m._meta.db_table) for m in (CounterGroup, Counter, CounterState))
    kept = qn("waiting_priority" if priority_only else "waiting")
    waiting = (f"SELECT COALESCE(MAX({kept}), 0) FROM {length} "  # noqa: S608 -- names from model metadata
               f"WHERE {qn('centre_id')} = %s AND {qn('group_id')} = %s")
    open_counters = (f"SELECT COUNT(*) FROM {link} "  # noqa: S608 -- names from model metadata
                     f"JOIN {counter} ON {counter}.{qn('id')} = {link}.{qn('counter_id')} "
                     f"JOIN {state} ON {state}.{qn('counter_id')} = {counter}.{qn('id')} "
                     f"WHERE {link}.{qn('group_id')} = %s AND {counter}.{qn('centre_id')} = %s "
                     f"AND {counter}.{qn('archived_at')} IS NULL AND {state}.{qn('status')} = %s")
    return f"SELECT ({waiting}), ({open_counters})"


def queue_load(centre: Centre, group: ServiceGroup, *, priority_only: bool = False) -> tuple[int, int]:
    """(citizens waiting in ``group``, counters open for it) in one query.

    With ``priority_only`` only waiting citizens of a priority group (those a priority
    ticket can have ahead of it). The waiting count is the trigger-kept ``QueueLength``
    row, not a count of tickets, so the cost does not grow with the queue. The statement
    is built once per process.
    """
    sql = _queue_load_sql(connection.vendor, priority_only)
    with connection.cursor() as cursor:
        cursor.execute(sql, [centre.pk, group.pk, group.pk, centre.pk, CounterStatus.OPEN])
        ahead, open_counters = cursor.fetchone()
    return int(ahead), int(open_counters)
