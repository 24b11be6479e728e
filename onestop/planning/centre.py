"""The planning core wired to a centre: history, forecast, service times, plan, simulation input.

Selectors in the style of the other apps: they read the database and never write to it.
The pure modules (:mod:`~onestop.planning.forecast`, :mod:`~onestop.planning.api`, ...)
do the arithmetic; this module turns a :class:`~onestop.centres.models.Centre` and a
local date into their inputs.

* :func:`arrival_history` — tickets issued per service group and local hour;
* :func:`forecast_for` — expected arrivals per group in each opening hour of a day, from
  the history (:func:`~onestop.planning.forecast.fit_forecast`, holidays left out) or,
  with too little history, from :func:`default_profile`;
* :func:`group_parameters` / :func:`service_minutes` — service time, walk-away rate,
  service-time variability and share of priority citizens per group, learned from the
  history with the catalogue's handling minutes as fallback;
* :func:`recommended_plan` — :func:`~onestop.planning.api.plan_day` rows for the day;
* :func:`sim_config` — the day as a :class:`~onestop.planning.simulator.SimConfig` dict,
  staffed with the centre's own counters or with a plan (counters per group and hour).

Times of day are whole clock hours in the centre's time zone: an hour is *open* when any
opening interval overlaps it, and the plan and the simulation work hour by hour.
"""

from __future__ import annotations

import hashlib
import json
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.db.models import Count, Q
from django.db.models.functions import TruncHour
from django.utils.translation import gettext as _

from onestop.catalogue.models import ServiceGroup
from onestop.centres.models import Centre, CentreKind, Counter
from onestop.centres.selectors import country_calendar, opening_intervals
from onestop.core import clock
from onestop.planning.forecast import ArrivalRecord, fit_forecast
from onestop.planning.timevarying import Target
from onestop.queueing.models import Source, Status, Ticket
from onestop.queueing.selectors import group_rates, routing_params

__all__ = [
    "BOOKING_SOURCES",
    "DEFAULT_OCCUPANCY",
    "HISTORY_WEEKS",
    "MIN_HISTORY_DAYS",
    "TYPICAL_DAY",
    "WALK_IN_SOURCES",
    "CentreClosed",
    "CentreForecast",
    "GroupParameters",
    "arrival_history",
    "check_day",
    "counter_shares",
    "default_profile",
    "default_target",
    "describe_target",
    "forecast_for",
    "group_parameters",
    "inputs_digest",
    "opening_hours",
    "plan_grid",
    "recommended_plan",
    "run_simulation",
    "served_groups",
    "service_minutes",
    "sim_config",
]

WALK_IN_SOURCES = (Source.KIOSK, Source.RECEPTION, Source.REMOTE, Source.COUNTER)
BOOKING_SOURCES = (Source.APPOINTMENT,)

HISTORY_WEEKS = 12
"""Weeks of ticket history the forecast reads."""
HALF_LIFE_WEEKS = 4.0
"""Weight of a week of history halves every this many weeks (see ``forecast.py``)."""
MIN_HISTORY_DAYS = 3
"""Open days of the same weekday (for a mobile unit: route stops) needed to use the history."""

DEFAULT_OCCUPANCY = 0.8
"""Default profile: how busy the counters of a group are in the busiest hour of the day."""
TYPICAL_DAY = {
    8: 0.55,
    9: 0.85,
    10: 1.25,
    11: 1.35,
    12: 1.2,
    13: 0.95,
    14: 1.1,
    15: 1.15,
    16: 1.0,
    17: 0.8,
    18: 0.6,
    19: 0.45,
}
"""Default profile: relative walk-ins per clock hour in a typical one-stop centre day — a
late-morning peak, a dip over lunch and a smaller afternoon peak. An assumption, not data:
it is replaced by the centre's own history as soon as there is enough of it."""
TYPICAL_OTHER_HOURS = 0.4

SERVICE_CV_DEFAULT = 1.0
SERVICE_CV_MIN_SAMPLES = 30
PLAN_CACHE_SECONDS = 600
RATES_WINDOW_DAYS = 30
BOUNDED_KPIS = frozenset({"p_wait", "p_abandon", "utilisation", "p95_exceeded", "no_show_rate"})


MAX_YEARS_AWAY = 5
"""Dates further than this from today are refused (:func:`check_day`)."""


class CentreClosed(ValueError):
    """The centre does not open on that day: nothing to plan or simulate."""


def check_day(day: date, today: date) -> None:
    """Refuse a date more than :data:`MAX_YEARS_AWAY` years from ``today`` (``ValueError``)."""
    if abs((day - today).days) > MAX_YEARS_AWAY * 366:
        raise ValueError(f"{day.isoformat()} is more than {MAX_YEARS_AWAY} years from today")


# --------------------------------------------------------------------------- the centre


def served_groups(centre: Centre) -> list[ServiceGroup]:
    """Active service groups that at least one active counter of the centre serves."""
    return list(
        ServiceGroup.objects.filter(
            counter_links__counter__centre=centre,
            counter_links__counter__archived_at__isnull=True,
            archived_at__isnull=True,
        )
        .distinct()
        .order_by("position", "code")
    )


def _counters(centre: Centre) -> list[tuple[Counter, dict[str, int]]]:
    counters = (
        Counter.objects.filter(centre=centre, archived_at__isnull=True)
        .prefetch_related("group_links__group")
        .order_by("number")
    )
    out = []
    for counter in counters:
        links = {
            link.group.code: link.priority
            for link in counter.group_links.all()
            if link.group.archived_at is None
        }
        if links:
            out.append((counter, links))
    return out


def counter_shares(centre: Centre) -> dict[str, float]:
    """Counters per group, each counter's time shared among its groups by ``1 / level``.

    A counter serving ``idcard`` at level 1 and ``passport`` at level 2 gives 2/3 of a
    counter to ``idcard`` and 1/3 to ``passport``.
    """
    shares: dict[str, float] = defaultdict(float)
    for _counter, links in _counters(centre):
        total = sum(1.0 / level for level in links.values())
        for code, level in links.items():
            shares[code] += (1.0 / level) / total
    return dict(shares)


def opening_hours(centre: Centre, day: date) -> list[int]:
    """Clock hours of ``day`` in which the centre is open at some minute (weekday hours;
    a mobile unit's route stop). Holidays are not checked here."""
    hours: set[int] = set()
    for start, end in opening_intervals(centre, day):
        end_minute = end.hour * 60 + end.minute or 24 * 60  # "24:00" is written 00:00
        hour = start.hour
        while hour * 60 < end_minute and hour < 24:
            hours.add(hour)
            hour += 1
    return sorted(hours)


def default_target(country) -> str:
    """The pack's waiting-time KPI as a plan target: ``"80/<max_wait_minutes>"``.

    ``kpi_targets.max_wait_minutes`` of ``rules.yaml`` (15 when missing) is read as "80 %
    of citizens are called within that many minutes"; Erlang A counts walk-aways as
    misses.
    """
    targets = (country.rules or {}).get("kpi_targets", {}) or {}
    minutes = float(targets.get("max_wait_minutes") or 15)
    return f"80/{minutes:g}"


def describe_target(target: Target | str | float | Mapping[str, Any]) -> str:
    """The target in words, in the active language."""
    goal = Target.parse(target)
    if goal.kind == "service_level":
        return _("%(percent)s%% of citizens called within %(minutes)s minutes") % {
            "percent": f"{goal.value * 100:g}",
            "minutes": f"{goal.within:g}",
        }
    if goal.kind == "p_wait":
        return _("at most %(percent)s%% of citizens wait at all") % {
            "percent": f"{goal.value * 100:g}"
        }
    if goal.kind == "mean_wait":
        return _("mean wait at most %(minutes)s minutes") % {"minutes": f"{goal.value:g}"}
    return _("at most %(percent)s%% of citizens walk away") % {"percent": f"{goal.value * 100:g}"}


# --------------------------------------------------------------------------- history


def arrival_history(
    centre: Centre, since: date, until: date, sources: Iterable[str] = WALK_IN_SOURCES
) -> list[ArrivalRecord]:
    """Tickets issued at ``centre`` on local days ``since <= day < until``, counted per
    service group and local clock hour, as ``ArrivalRecord((date, hour), group, count)``.

    ``sources`` defaults to the walk-in sources (kiosk, reception, remote join, walk-in at
    the counter); pass :data:`BOOKING_SOURCES` for booked citizens' check-ins. Every
    ticket counts whatever became of it (a walk-away arrived too). A transferred ticket
    counts in the group it ended in.
    """
    zone = ZoneInfo(centre.time_zone)
    rows = (
        Ticket.objects.filter(
            centre=centre, day__gte=since, day__lt=until, source__in=list(sources)
        )
        .annotate(slot=TruncHour("issued_at", tzinfo=zone))
        .values("group__code", "slot")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts: dict[tuple[str, date, int], int] = defaultdict(int)
    for row in rows:
        local = row["slot"].astimezone(zone)
        counts[(row["group__code"], local.date(), local.hour)] += row["n"]
    return [
        ArrivalRecord(when=(day, hour), group=code, count=float(n))
        for (code, day, hour), n in sorted(counts.items())
    ]


# --------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class GroupParameters:
    """What the centre's history says about one group's citizens and services.

    ``service_minutes`` and ``abandon_rate`` come from
    :func:`onestop.queueing.selectors.group_rates` (last 30 days, shrunk toward the mean
    ``handling_minutes`` of the group's services); ``service_cv`` (coefficient of
    variation of service times, 1.0 below 30 services) and ``priority_share`` (tickets
    with a priority group among walk-ins) from the same 30 days.
    """

    service_minutes: float
    abandon_rate: float
    service_cv: float = SERVICE_CV_DEFAULT
    priority_share: float = 0.0

    @property
    def patience_minutes(self) -> float | None:
        """Mean patience (``1 / abandon_rate``); ``None`` when nobody walked away."""
        return 1.0 / self.abandon_rate if self.abandon_rate > 0 else None


def group_parameters(
    centre: Centre, groups: Iterable[ServiceGroup] | None = None
) -> dict[str, GroupParameters]:
    """:class:`GroupParameters` per group code (default: the groups the centre serves)."""
    groups = list(groups) if groups is not None else served_groups(centre)
    since = clock.now() - timedelta(days=RATES_WINDOW_DAYS)
    durations: dict[str, list[float]] = defaultdict(list)
    done = (
        Ticket.objects.filter(
            centre=centre,
            status=Status.DONE,
            finished_at__gte=since,
            started_at__isnull=False,
            group__in=groups,
        )
        .order_by("-finished_at")
        .values_list("group__code", "started_at", "finished_at")[:5000]
    )
    for code, started, finished in done:
        # started_at__isnull=False and finished_at__gte above: both times are set
        minutes = (cast(datetime, finished) - cast(datetime, started)).total_seconds() / 60.0
        if minutes > 0:
            durations[code].append(minutes)
    priority = dict(
        (row["group__code"], (row["n"], row["p"]))
        for row in Ticket.objects.filter(
            centre=centre, issued_at__gte=since, source__in=list(WALK_IN_SOURCES), group__in=groups
        )
        .values("group__code")
        .annotate(n=Count("pk"), p=Count("pk", filter=Q(priority_group__isnull=False)))
        .order_by()
    )
    out = {}
    for group in groups:
        mu, theta = group_rates(centre, group)
        sample = durations.get(group.code, [])
        cv = SERVICE_CV_DEFAULT
        if len(sample) >= SERVICE_CV_MIN_SAMPLES:
            cv = min(2.0, max(0.2, statistics.pstdev(sample) / statistics.fmean(sample)))
        n, p = priority.get(group.code, (0, 0))
        out[group.code] = GroupParameters(
            service_minutes=1.0 / mu,
            abandon_rate=float(theta),
            service_cv=round(cv, 3),
            priority_share=round(p / n, 4) if n else 0.0,
        )
    return out


def service_minutes(centre: Centre) -> dict[str, float]:
    """Mean service time in minutes per group the centre serves: learned from the last
    30 days of services, shrunk toward the mean ``handling_minutes`` of the group's
    services (all the estimate there is without history)."""
    return {code: p.service_minutes for code, p in group_parameters(centre).items()}


# --------------------------------------------------------------------------- forecast


@dataclass
class CentreForecast:
    """Expected arrivals at a centre on one day, per service group and clock hour.

    ``hours`` are the consecutive clock hours from opening to closing (a lunch closure
    inside stays, with no arrivals); ``open_hours`` those the centre is open. Every list
    of ``walk_ins`` and ``bookings`` has one value per hour of ``hours``. ``source`` is
    ``"history"`` (fitted on ``history_days`` open days of the same weekday — for a
    mobile unit, route stops), ``"default"`` (:func:`default_profile`) or ``"closed"``
    (``closed_reason`` ``"holiday"``: a public holiday or a closure of the pack;
    ``"no_hours"``: no opening hours that weekday, or no route stop).
    """

    centre: Centre
    day: date
    groups: list[ServiceGroup]
    hours: list[int] = field(default_factory=list)
    open_hours: list[int] = field(default_factory=list)
    walk_ins: dict[str, list[float]] = field(default_factory=dict)
    bookings: dict[str, list[float]] = field(default_factory=dict)
    source: str = "closed"
    history_days: int = 0
    closed_reason: str = ""

    @property
    def is_closed(self) -> bool:
        return self.source == "closed"

    @property
    def open_hour(self) -> int:
        return self.hours[0] if self.hours else 0

    @property
    def codes(self) -> list[str]:
        return [g.code for g in self.groups]

    def arrivals(self) -> dict[str, list[float]]:
        """Walk-ins plus booked check-ins per group and hour: the profile to plan for."""
        return {
            code: [w + b for w, b in zip(self.walk_ins[code], self.bookings[code], strict=True)]
            for code in self.codes
        }

    def total(self) -> float:
        return sum(sum(v) for v in self.arrivals().values())


def default_profile(
    centre: Centre,
    hours: list[int],
    open_hours: list[int],
    minutes: Mapping[str, float],
    groups: Iterable[ServiceGroup],
) -> dict[str, list[float]]:
    """Walk-ins per group and hour when the centre has too little history.

    The pack's counters are taken as sized for the busiest hour: each group gets the
    counters the centre gives it (:func:`counter_shares`) busy :data:`DEFAULT_OCCUPANCY`
    of that hour, ``share × occupancy × 60 / service minutes`` citizens, and the other
    open hours follow :data:`TYPICAL_DAY` relative to the busiest one.
    """
    shares = counter_shares(centre)
    weights = {h: TYPICAL_DAY.get(h, TYPICAL_OTHER_HOURS) for h in open_hours}
    peak = max(weights.values(), default=1.0)
    out = {}
    for group in groups:
        per_hour = shares.get(group.code, 0.0) * DEFAULT_OCCUPANCY * 60.0 / minutes[group.code]
        out[group.code] = [
            round(per_hour * weights[h] / peak, 2) if h in weights else 0.0 for h in hours
        ]
    return out


def _when(record: ArrivalRecord) -> tuple[date, int]:
    """``record.when`` of a record from :func:`arrival_history`, which is always ``(date, hour)``."""
    return cast("tuple[date, int]", record.when)


def _route_days_as_weeks(
    records: list[ArrivalRecord], days: list[date], target: date
) -> tuple[list[ArrivalRecord], list[date]]:
    """A mobile unit stops on irregular days: put its ``k``-th latest stop ``k`` weeks
    before ``target`` (same weekday), so the forecast weighs recent stops more."""
    latest = sorted(set(days), reverse=True)
    moved = {d: target - timedelta(weeks=k + 1) for k, d in enumerate(latest)}
    out = [
        ArrivalRecord(when=(moved[_when(r)[0]], _when(r)[1]), group=r.group, count=r.count)
        for r in records
        if _when(r)[0] in moved
    ]
    return out, sorted(moved.values())


def forecast_for(
    centre: Centre, day: date, *, history_weeks: int = HISTORY_WEEKS, today: date | None = None
) -> CentreForecast:
    """Expected walk-ins and booked check-ins per group in each opening hour of ``day``.

    The history is the ``history_weeks`` weeks of tickets before ``day`` (and before
    today: only finished days). With at least :data:`MIN_HISTORY_DAYS` open days of
    ``day``'s weekday in it, the forecast is
    :func:`~onestop.planning.forecast.fit_forecast` over them (holidays and closures of
    the history left out, recent weeks weighted more, half-life 4 weeks); otherwise
    :func:`default_profile`. A holiday or closure, a weekday without opening hours or a
    day without a route stop is closed.
    """
    centre_groups = served_groups(centre)
    result = CentreForecast(centre=centre, day=day, groups=centre_groups)
    calendar = country_calendar(centre.country, centre.code)
    if calendar.is_holiday(day):
        result.closed_reason = "holiday"
        return result
    open_hours = opening_hours(centre, day)
    if not open_hours or not centre_groups:
        result.closed_reason = "no_hours"
        return result
    hours = list(range(open_hours[0], open_hours[-1] + 1))
    result.hours, result.open_hours = hours, open_hours
    codes = [g.code for g in centre_groups]
    today = today or clock.local_today(centre.time_zone)
    until = min(day, today)
    since = until - timedelta(weeks=history_weeks)
    walk = arrival_history(centre, since, until)
    booked = arrival_history(centre, since, until, BOOKING_SOURCES)
    days = sorted({_when(r)[0] for r in walk + booked})
    days = [d for d in days if not calendar.is_holiday(d)]
    if centre.kind == CentreKind.MOBILE:
        walk, _moved = _route_days_as_weeks(walk, days, day)
        booked, days = _route_days_as_weeks(booked, days, day)
    same_weekday = [d for d in days if d.weekday() == day.weekday()]
    if len(same_weekday) >= MIN_HISTORY_DAYS:
        weekday = day.weekday()
        usable = set(days)
        for records, target in ((walk, result.walk_ins), (booked, result.bookings)):
            model = fit_forecast(
                [r for r in records if _when(r)[0] in usable],
                half_life_weeks=HALF_LIFE_WEEKS,
                open_days=days,
            )
            for code in codes:
                target[code] = [
                    round(model.expected(code, weekday, h), 3) if h in open_hours else 0.0
                    for h in hours
                ]
        result.source = "history"
        result.history_days = len(same_weekday)
        return result
    minutes = {
        code: p.service_minutes for code, p in group_parameters(centre, centre_groups).items()
    }
    result.walk_ins = default_profile(centre, hours, open_hours, minutes, centre_groups)
    result.bookings = {code: [0.0] * len(hours) for code in codes}
    result.source = "default"
    result.history_days = len(same_weekday)
    return result


# --------------------------------------------------------------------------- plan


def inputs_digest(*parts: Any) -> str:
    """A short stable hash of JSON-able inputs (cache keys)."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def recommended_plan(
    centre: Centre,
    day: date,
    target: Target | str | float | Mapping[str, Any] | None = None,
    *,
    forecast: CentreForecast | None = None,
    parameters: Mapping[str, GroupParameters] | None = None,
) -> list[dict[str, Any]]:
    """Counters per group and opening hour of ``day``: :func:`~onestop.planning.api.plan_day`
    rows (``group, hour, arrivals, offered_load, counters, sipp_counters, p_wait,
    mean_wait, service_level, p_abandon``) for the forecast, the learned service times and
    walk-away rates (Erlang A where citizens walk away, Erlang C otherwise) and ``target``
    (default :func:`default_target`). Empty on a closed day.

    Raises ``ValueError`` for a target :meth:`Target.parse` cannot read. Plans are cached
    for ten minutes by their inputs.
    """
    from onestop.planning.api import plan_day

    fc = forecast or forecast_for(centre, day)
    goal = Target.parse(default_target(centre.country) if target is None else target)
    if fc.is_closed:
        return []
    params = parameters or group_parameters(centre, fc.groups)
    profile = fc.arrivals()
    minutes = {code: params[code].service_minutes for code in profile}
    theta = {code: params[code].abandon_rate for code in profile}
    key = "onestop:plan:" + inputs_digest(
        profile, minutes, theta, goal.kind, goal.value, goal.within, fc.open_hour
    )
    rows = cache.get(key)
    if rows is None:
        rows = plan_day(profile, minutes, goal, fc.open_hour, abandon_rate=theta)
        cache.set(key, rows, PLAN_CACHE_SECONDS)
    return rows


def plan_grid(
    rows: Iterable[Mapping[str, Any]], key: str = "counters", hours: Iterable[int] | None = None
) -> dict[str, dict[int, int]]:
    """Plan rows as ``{group: {hour: counters}}`` (the ``counters_plan`` of :func:`sim_config`),
    keeping only ``hours`` when given (e.g. the open hours: no counter over lunch)."""
    keep = set(hours) if hours is not None else None
    grid: dict[str, dict[int, int]] = defaultdict(dict)
    for row in rows:
        hour = int(row["hour"])
        grid[row["group"]][hour] = int(row[key]) if keep is None or hour in keep else 0
    return dict(grid)


# --------------------------------------------------------------------------- simulation


def _spans(hours: Iterable[int], origin: int) -> list[list[float]]:
    """Clock hours as merged ``[start, end]`` minutes from ``origin`` o'clock."""
    spans: list[list[float]] = []
    for hour in sorted(set(hours)):
        start = (hour - origin) * 60.0
        if spans and spans[-1][1] == start:
            spans[-1][1] = start + 60.0
        else:
            spans.append([start, start + 60.0])
    return spans


def sim_config(
    centre: Centre,
    day: date,
    counters_plan: Mapping[str, Mapping[int, int]] | None = None,
    *,
    forecast: CentreForecast | None = None,
    parameters: Mapping[str, GroupParameters] | None = None,
) -> dict[str, Any]:
    """The day as the JSON form of :class:`~onestop.planning.simulator.SimConfig`.

    Minute 0 is the start of the first opening hour; one arrival period per clock hour
    (walk-ins plus booked check-ins of the forecast, all as Poisson walk-ins). Service
    times are lognormal with the learned mean and variability, patience exponential with
    the learned mean (none when nobody walked away), routing from the pack's rules.

    Without ``counters_plan`` the centre's own active counters work every open hour with
    the groups and levels of the pack. With it — ``{group: {clock hour: counters}}``,
    cells not given meaning 0 — each group gets that many counters of its own in each
    hour. Counters on duty at closing serve the queue out.

    Raises :class:`CentreClosed` on a closed day.
    """
    fc = forecast or forecast_for(centre, day)
    if fc.is_closed:
        raise CentreClosed(f"{centre.code} is closed on {day.isoformat()}")
    params = parameters or group_parameters(centre, fc.groups)
    arrivals = fc.arrivals()
    origin = fc.open_hour
    groups = []
    for code in fc.codes:
        p = params[code]
        groups.append(
            {
                "code": code,
                "arrivals_per_hour": [round(x, 4) for x in arrivals[code]],
                "service_mean": round(p.service_minutes, 4),
                "service_cv": p.service_cv,
                "service_dist": "lognormal",
                "priority_share": p.priority_share,
                "patience_mean": round(p.patience_minutes, 3) if p.patience_minutes else None,
            }
        )
    counters: list[dict[str, Any]] = []
    if counters_plan is None:
        shifts = _spans(fc.open_hours, origin)
        for counter, links in _counters(centre):
            served = {code: level for code, level in links.items() if code in arrivals}
            if served:
                counters.append({"name": f"#{counter.number}", "groups": served, "shifts": shifts})
    else:
        for group in fc.groups:
            per_hour = {int(h): int(n) for h, n in counters_plan.get(group.code, {}).items()}
            most = max(per_hour.values(), default=0)
            for k in range(most):
                on = [h for h, n in per_hour.items() if n > k]
                counters.append(
                    {
                        "name": f"{group.prefix}{k + 1}",
                        "groups": {group.code: 1},
                        "shifts": _spans(on, origin),
                    }
                )
    routing = routing_params(centre)
    return {
        "period_minutes": 60.0,
        "groups": groups,
        "counters": counters,
        "routing": {
            "max_priority_overtakes": routing.max_priority_overtakes,
            "arrival_window": routing.arrival_window,
            "late_cutoff": routing.late_cutoff,
        },
        "drain": True,
    }


def run_simulation(
    config: Mapping[str, Any],
    replications: int = 20,
    seed: int = 0,
    workers: int | None = 1,
    progress: bool | None = False,
) -> dict[str, Any]:
    """:func:`~onestop.planning.api.simulate_day` with an optional tqdm bar on stderr
    (``progress=None``: when stderr is a terminal). Same result shape:
    ``{"replications", "seed", "kpis": {name: {"mean", "low", "high", "half_width", "n"}}}``
    with ``None`` for values that are not finite. Intervals are clipped to the possible
    values: every KPI is >= 0, and shares (:data:`BOUNDED_KPIS`) are <= 1."""
    from onestop.planning.simulator import SimConfig, run_replications, summarise

    cfg = SimConfig.from_dict(config)
    runs = run_replications(cfg, replications, seed, workers, progress=progress)
    summary = summarise(runs)
    kpis = {}
    for name, stats in summary.items():
        clean = {k: (v if math.isfinite(v) else None) for k, v in stats.items()}
        upper = 1.0 if name in BOUNDED_KPIS else None
        for end in ("low", "high"):
            value = clean[end]
            if value is not None:
                clean[end] = max(0.0, value if upper is None else min(upper, value))
        kpis[name] = clean
    return {"replications": replications, "seed": seed, "kpis": kpis}
