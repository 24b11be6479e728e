"""Discrete-event simulation of a one-stop centre day.

A day is described by a :class:`SimConfig` (plain values, buildable from JSON with
:meth:`SimConfig.from_dict`):

* **groups** (:class:`GroupSpec`) – walk-in arrival rates per period (Poisson, piecewise
  constant), service-time law (lognormal with a mean and coefficient of variation, or
  exponential), share of priority citizens, exponential patience (walk-aways);
* **counters** (:class:`CounterSpec`) – the groups each serves with its priority level,
  shifts, breaks, and booking blocks in which it serves appointments;
* **bookings** (:class:`BookingSpec`) – slot length, fill rate, lead times and the
  no-show probability, which grows with lead time; punctuality of those who come;
* **booking policy** (:class:`BookingPolicy`) – grace window, standby walk-ins filling
  released slots, overbooking of the first slot of each block;
* **routing** – :class:`~onestop.queueing.routing.RoutingParams` of the call policy.

Every time a counter calls a citizen the simulator asks
:func:`onestop.queueing.routing.choose_next`, and it increments ``overtaken`` on the
tickets listed by :func:`~onestop.queueing.routing.overtaken_ids`, exactly as the live
queue does. Every citizen who has to wait is announced
:func:`~onestop.queueing.estimate.estimate_wait_roster` for the counters of its group on
the roster from now on; the announced mean and P95 are kept in the records together
with the state the predictors of :mod:`onestop.planning.evaluation` need (queue ahead,
counters open, head-of-line wait, last-entered-service wait).

Randomness comes from one :class:`numpy.random.SeedSequence` per day, split into
independent streams (arrivals, service times, patience and priority, bookings,
overbooked extras). The same seed therefore gives the same citizens whatever the
policy, which makes policy comparisons use common random numbers.

:func:`run_replications` runs independent days in worker processes and
:func:`summarise` turns them into KPIs with 95 % t-intervals.
"""

from __future__ import annotations

import bisect
import heapq
import math
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from scipy import special, stats

from onestop.queueing.estimate import estimate_wait_roster
from onestop.queueing.routing import RoutingParams, WaitingTicket, choose_next, overtaken_ids

__all__ = [
    "BookingPolicy",
    "roster_from",
    "simulate_days",
    "walk_in_roster",
    "BookingSpec",
    "CounterSpec",
    "DayResult",
    "GroupSpec",
    "SimConfig",
    "compute_kpis",
    "run_replications",
    "simulate",
    "summarise",
]

INF = math.inf

# Citizen states.
_NOT_ARRIVED, _WAITING, _IN_SERVICE, _DONE, _ABANDONED = range(5)
# Event kinds; the order breaks ties at equal times (departures free counters first).
_DEPART, _ON, _ABANDON, _WAKE, _OFF = range(5)


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class GroupSpec:
    """A service group (queue category) and its walk-in demand.

    Attributes:
        code: Group code, as in the country pack.
        arrivals_per_hour: Walk-in arrival rate (citizens per hour) for each period of
            ``SimConfig.period_minutes`` from opening; the day lasts as many periods as
            the longest list.
        service_mean: Mean service time, minutes.
        service_cv: Coefficient of variation of the lognormal service time.
        service_dist: ``"lognormal"`` or ``"exponential"`` (``service_cv`` ignored).
        priority_share: Share of walk-ins who belong to a priority group.
        patience_mean: Mean of the exponential patience, minutes; ``None`` = nobody walks
            away.
    """

    code: str
    arrivals_per_hour: tuple[float, ...]
    service_mean: float
    service_cv: float = 1.0
    service_dist: str = "lognormal"
    priority_share: float = 0.0
    patience_mean: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "arrivals_per_hour", tuple(float(r) for r in self.arrivals_per_hour)
        )
        if any(r < 0 or not math.isfinite(r) for r in self.arrivals_per_hour):
            raise ValueError(f"group {self.code}: arrival rates must be finite and >= 0")
        if not self.service_mean > 0:
            raise ValueError(f"group {self.code}: service_mean must be > 0")
        if self.service_dist not in ("lognormal", "exponential"):
            raise ValueError(f"group {self.code}: unknown service_dist {self.service_dist!r}")
        if self.service_cv < 0:
            raise ValueError(f"group {self.code}: service_cv must be >= 0")
        if not 0 <= self.priority_share <= 1:
            raise ValueError(f"group {self.code}: priority_share must be in [0, 1]")
        if self.patience_mean is not None and not self.patience_mean > 0:
            raise ValueError(f"group {self.code}: patience_mean must be > 0 or None")


@dataclass(frozen=True)
class CounterSpec:
    """A counter: its skills, working time and booking blocks (minutes from opening).

    Attributes:
        name: Counter label.
        groups: Group code -> priority level (1 = primary), passed to ``choose_next``.
        shifts: Working intervals ``(start, end)``; empty = the whole opening day.
        breaks: Intervals taken out of the shifts (lunch, ...). A counter finishes the
            service in progress before leaving.
        booking_blocks: Intervals in which the counter serves booked appointments, in
            slots of ``BookingSpec.slot_minutes``; bookings are for its primary group.
    """

    name: str
    groups: Mapping[str, int]
    shifts: tuple[tuple[float, float], ...] = ()
    breaks: tuple[tuple[float, float], ...] = ()
    booking_blocks: tuple[tuple[float, float], ...] = ()

    def __post_init__(self) -> None:
        if not self.groups:
            raise ValueError(f"counter {self.name}: serves no group")
        for attr in ("shifts", "breaks", "booking_blocks"):
            spans = tuple((float(a), float(b)) for a, b in getattr(self, attr))
            if any(b < a for a, b in spans):
                raise ValueError(f"counter {self.name}: {attr} interval ends before it starts")
            object.__setattr__(self, attr, spans)

    @property
    def primary_group(self) -> str:
        """The group with the lowest level (bookings on this counter are for it)."""
        return min(self.groups.items(), key=lambda kv: (kv[1], kv[0]))[0]


@dataclass(frozen=True)
class BookingSpec:
    """How the booking slots of booking counters fill and who turns up.

    The no-show probability grows with the lead time ``L`` (days between booking and
    appointment): ``min(no_show_max, no_show_base + no_show_per_day * L)``, with ``L``
    exponential of mean ``lead_days_mean``. Those who come arrive at
    ``slot start + Normal(punctuality_mean, punctuality_sd)`` minutes and check in no
    earlier than the routing arrival window allows.
    """

    slot_minutes: float = 15.0
    fill: float = 1.0
    lead_days_mean: float = 7.0
    no_show_base: float = 0.12
    no_show_per_day: float = 0.02
    no_show_max: float = 0.6
    punctuality_mean: float = -5.0
    punctuality_sd: float = 6.0

    def no_show_probability(self, lead_days: np.ndarray | float) -> np.ndarray:
        """No-show probability for the given lead times (days)."""
        return np.minimum(
            self.no_show_max, self.no_show_base + self.no_show_per_day * np.asarray(lead_days)
        )

    def expected_no_show(self) -> float:
        """Mean no-show rate over the lead-time law (numerical expectation)."""
        u = (np.arange(2000) + 0.5) / 2000
        leads = -self.lead_days_mean * np.log1p(-u)
        return float(self.no_show_probability(leads).mean())


@dataclass(frozen=True)
class BookingPolicy:
    """What a booking counter does about appointments that do not come.

    Attributes:
        grace: Minutes after the slot start after which an absent booking is a no-show:
            the slot is released and a later arrival queues as a walk-in. ``None`` (do
            nothing): the counter keeps the slot for the booking, and a late booking is
            still served as a booking.
        standby: A booking counter serves walk-ins in released slots (a slot is released
            when its bookings are served or declared no-shows).
        overbook_first: Extra bookings on the first slot of every booking block.
    """

    grace: float | None = None
    standby: bool = False
    overbook_first: int = 0


@dataclass(frozen=True)
class SimConfig:
    """A centre day. See the module documentation; all times in minutes from opening."""

    groups: tuple[GroupSpec, ...]
    counters: tuple[CounterSpec, ...]
    period_minutes: float = 60.0
    routing: RoutingParams = field(default_factory=RoutingParams)
    bookings: BookingSpec | None = None
    booking_policy: BookingPolicy = field(default_factory=BookingPolicy)
    warmup: float = 0.0
    drain: bool = True
    announce_rates: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    announce_cv: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "groups", tuple(self.groups))
        object.__setattr__(self, "counters", tuple(self.counters))
        codes = [g.code for g in self.groups]
        if len(set(codes)) != len(codes):
            raise ValueError("group codes must be unique")
        for counter in self.counters:
            unknown = set(counter.groups) - set(codes)
            if unknown:
                raise ValueError(f"counter {counter.name} serves unknown groups {sorted(unknown)}")
            if counter.booking_blocks and self.bookings is None:
                raise ValueError(f"counter {counter.name} has booking blocks but no BookingSpec")
        if not self.period_minutes > 0:
            raise ValueError("period_minutes must be > 0")

    @property
    def close(self) -> float:
        """Closing time: end of the last arrival period."""
        return self.period_minutes * max((len(g.arrivals_per_hour) for g in self.groups), default=0)

    def rates(self, code: str) -> tuple[float, float]:
        """(service rate, walk-away rate) used for the announced estimates of a group."""
        if code in self.announce_rates:
            mu, theta = self.announce_rates[code]
            return float(mu), float(theta)
        group = next(g for g in self.groups if g.code == code)
        theta = 0.0 if group.patience_mean is None else 1.0 / group.patience_mean
        return 1.0 / group.service_mean, theta

    def service_cv(self, code: str) -> float:
        """Service-time coefficient of variation used for the announced estimates of a group.

        ``announce_cv`` when given, else the group's own (1 for exponential services).
        """
        if code in self.announce_cv:
            return float(self.announce_cv[code])
        group = next(g for g in self.groups if g.code == code)
        return 1.0 if group.service_dist == "exponential" else float(group.service_cv)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SimConfig:
        """Build from plain JSON-like data.

        ``{"groups": [{"code", "arrivals_per_hour", "service_mean", "service_cv"?,
        "service_dist"?, "priority_share"?, "patience_mean"?}, ...],
        "counters": [{"name"?, "count"?, "groups": {code: level}, "shifts"?, "breaks"?,
        "booking_blocks"?}, ...], "period_minutes"?, "routing"?: {...RoutingParams},
        "bookings"?: {...BookingSpec}, "booking_policy"?: {...BookingPolicy},
        "warmup"?, "drain"?, "announce_rates"?: {code: [mu, theta]},
        "announce_cv"?: {code: cv}}``.
        A counter entry with ``"count": n`` stands for ``n`` identical counters.
        """
        groups = tuple(
            GroupSpec(**{**g, "arrivals_per_hour": tuple(g["arrivals_per_hour"])})
            for g in data["groups"]
        )
        counters: list[CounterSpec] = []
        for i, c in enumerate(data["counters"]):
            spec = dict(c)
            count = int(spec.pop("count", 1))
            name = str(spec.pop("name", f"c{i + 1}"))
            for attr in ("shifts", "breaks", "booking_blocks"):
                spec[attr] = tuple(tuple(x) for x in spec.get(attr, ()))
            for k in range(count):
                label = name if count == 1 else f"{name}-{k + 1}"
                counters.append(CounterSpec(name=label, **spec))
        bookings = data.get("bookings")
        return cls(
            groups=groups,
            counters=tuple(counters),
            period_minutes=float(data.get("period_minutes", 60.0)),
            routing=RoutingParams(**data.get("routing", {})),
            bookings=BookingSpec(**bookings) if bookings is not None else None,
            booking_policy=BookingPolicy(**data.get("booking_policy", {})),
            warmup=float(data.get("warmup", 0.0)),
            drain=bool(data.get("drain", True)),
            announce_rates={
                k: (float(v[0]), float(v[1])) for k, v in data.get("announce_rates", {}).items()
            },
            announce_cv={k: float(v) for k, v in data.get("announce_cv", {}).items()},
        )


# --------------------------------------------------------------------------- helpers


def _subtract(
    spans: Sequence[tuple[float, float]], holes: Iterable[tuple[float, float]]
) -> list[tuple[float, float]]:
    """Merge ``spans`` and remove ``holes`` from them."""
    merged: list[list[float]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    out = [(a, b) for a, b in merged]
    for ha, hb in holes:
        nxt: list[tuple[float, float]] = []
        for a, b in out:
            if hb <= a or ha >= b:
                nxt.append((a, b))
                continue
            if a < ha:
                nxt.append((a, ha))
            if hb < b:
                nxt.append((hb, b))
        out = nxt
    return [(a, b) for a, b in out if b > a]


def _slots(blocks: Sequence[tuple[float, float]], slot: float) -> list[tuple[float, float, bool]]:
    """Slots ``(start, end, first_of_block)`` that fit in the booking blocks."""
    out = []
    for a, b in sorted(blocks):
        k = 0
        while a + (k + 1) * slot <= b + 1e-9:
            out.append((a + k * slot, a + (k + 1) * slot, k == 0))
            k += 1
    return out


def _service_times(rng: np.random.Generator, group: GroupSpec, size: int) -> np.ndarray:
    if group.service_dist == "exponential":
        return rng.exponential(group.service_mean, size)
    if group.service_cv == 0:
        return np.full(size, group.service_mean)
    sigma2 = math.log1p(group.service_cv**2)
    return rng.lognormal(math.log(group.service_mean) - sigma2 / 2, math.sqrt(sigma2), size)


def _as_seed_sequence(seed: int | np.random.SeedSequence) -> np.random.SeedSequence:
    if isinstance(seed, np.random.SeedSequence):
        return np.random.SeedSequence(seed.entropy, spawn_key=seed.spawn_key)
    return np.random.SeedSequence(seed)


# --------------------------------------------------------------------------- the day


@dataclass
class DayResult:
    """One simulated day.

    ``records`` holds one numpy array per field, one entry per citizen who came (sorted
    by ticket time): ``arrival`` (physical arrival), ``issued`` (ticket time), ``group``
    (index into ``config.groups``), ``priority``, ``booked`` (came for an appointment),
    ``kept_booking`` (served under the booking rules), ``booked_start`` (NaN for walk-ins),
    ``service`` (service duration), ``start`` / ``end`` (service start / end, or the
    walk-away time in ``end``), ``wait`` (time in queue from the ticket time; for a kept
    booking from the later of check-in and slot start, and 0 when called before the
    slot start; walk-aways count their time until leaving; NaN if never served nor gone),
    ``served``, ``abandoned``, ``counter`` (index, -1 if none),
    ``est_mean`` / ``est_p95`` (announced estimate; 0 when served at once, NaN for
    bookings), ``ahead`` (tickets ahead in the group, or priority tickets ahead for a
    priority citizen), ``servers`` (counters of the group on the roster at arrival),
    ``hol`` (head-of-line wait in the group at arrival, NaN if empty), ``les`` (wait of
    the last citizen of the group who entered service, NaN if none yet), ``elapsed``
    (two-dimensional: for a walk-in who found no free counter, how long the citizens in
    service at the group's counters had been served at that moment, one column per
    counter, NaN-padded; all NaN for everybody else).

    ``counters`` holds per-counter arrays ``busy`` and ``idle`` (minutes) and
    ``idle_no_show`` (idle minutes inside slots whose bookings all failed to come).
    ``queue_area`` is the integral of the number waiting over ``[0, horizon]``.
    """

    config: SimConfig
    records: dict[str, np.ndarray]
    counters: dict[str, np.ndarray]
    queue_area: float
    horizon: float
    bookings_made: int
    no_shows: int

    def kpis(self) -> dict[str, float]:
        """KPIs of the day; see :func:`compute_kpis`."""
        return compute_kpis(self)


def _population(config: SimConfig, ss: np.random.SeedSequence) -> dict[str, Any]:
    """Draw every citizen of the day (walk-ins and bookings) from independent streams."""
    s_arr, s_srv, s_pat, s_book, s_over = (np.random.default_rng(s) for s in ss.spawn(5))
    period = config.period_minutes
    times, groups = [], []
    for gi, g in enumerate(config.groups):
        rates = np.asarray(g.arrivals_per_hour) * period / 60.0
        counts = s_arr.poisson(rates)
        starts = np.repeat(np.arange(len(rates)) * period, counts)
        times.append(starts + s_arr.random(starts.size) * period)
        groups.append(np.full(starts.size, gi))
    arrival = np.concatenate(times) if times else np.zeros(0)
    group = np.concatenate(groups).astype(np.int64) if groups else np.zeros(0, np.int64)
    n = arrival.size
    service = np.empty(n)
    for gi, g in enumerate(config.groups):
        mask = group == gi
        service[mask] = _service_times(s_srv, g, int(mask.sum()))
    share = np.array([g.priority_share for g in config.groups])
    patience_mean = np.array(
        [INF if g.patience_mean is None else g.patience_mean for g in config.groups]
    )
    priority = s_pat.random(n) < share[group] if n else np.zeros(0, bool)
    patience = s_pat.exponential(1.0, n) * patience_mean[group] if n else np.zeros(0)
    patience = np.where(np.isnan(patience), INF, patience)

    # Bookings: one main booking per filled slot (stream s_book) plus overbooked extras
    # on the first slot of each block (stream s_over), so the main bookings are the same
    # whatever the overbooking policy.
    b_arrival, b_group, b_service, b_start, b_counter, b_slot = [], [], [], [], [], []
    slots: list[tuple[int, float, float]] = []  # (counter, start, end)
    slot_made: list[int] = []  # bookings made per slot
    made = no_show = 0
    spec = config.bookings
    code_index = {g.code: i for i, g in enumerate(config.groups)}
    if spec is not None:
        for ci, counter in enumerate(config.counters):
            if not counter.booking_blocks:
                continue
            gi = code_index[counter.primary_group]
            for start, end, first in _slots(counter.booking_blocks, spec.slot_minutes):
                slot_id = len(slots)
                slots.append((ci, start, end))
                fill_u, lead_u, show_u, punct, _ = s_book.random(5)
                count = int(fill_u < spec.fill)
                extras = config.booking_policy.overbook_first if first else 0
                draws = [(s_book, lead_u, show_u, punct)] if count else []
                for _ in range(extras):
                    draws.append((s_over, *s_over.random(3)))
                slot_made.append(len(draws))
                for rng, lu, su, pu in draws:
                    made += 1
                    lead = -spec.lead_days_mean * math.log1p(-lu)
                    if su < float(spec.no_show_probability(lead)):
                        no_show += 1
                        continue
                    offset = spec.punctuality_mean + spec.punctuality_sd * float(special.ndtri(pu))
                    b_arrival.append(max(0.0, start + offset))
                    b_group.append(gi)
                    b_service.append(float(_service_times(rng, config.groups[gi], 1)[0]))
                    b_start.append(start)
                    b_counter.append(ci)
                    b_slot.append(slot_id)
    return {
        "arrival": arrival,
        "group": group,
        "service": service,
        "priority": priority,
        "patience": patience,
        "b_arrival": np.array(b_arrival),
        "b_group": np.array(b_group, dtype=np.int64),
        "b_service": np.array(b_service),
        "b_start": np.array(b_start),
        "b_counter": np.array(b_counter, dtype=np.int64),
        "b_slot": np.array(b_slot, dtype=np.int64),
        "slots": slots,
        "slot_made": slot_made,
        "made": made,
        "no_show": no_show,
    }


def _roster(
    config: SimConfig,
) -> tuple[list[list[float]], list[list[int]], list[list[tuple[float, float]]]]:
    """Walk-in availability per counter and the per-group step function of open counters."""
    close = config.close
    avail: list[list[tuple[float, float]]] = []
    walk_in: list[list[tuple[float, float]]] = []
    for counter in config.counters:
        shifts = counter.shifts or ((0.0, close),)
        spans = _subtract(shifts, counter.breaks)
        avail.append(spans)
        # For the announced roster a draining counter stays on after closing, and a
        # booking block is not walk-in capacity.
        extended = [(a, INF if config.drain and b >= close else b) for a, b in spans]
        walk_in.append(_subtract(extended, counter.booking_blocks))
    times_by_group: list[list[float]] = []
    counts_by_group: list[list[int]] = []
    for g in config.groups:
        points = {0.0}
        members = [walk_in[ci] for ci, c in enumerate(config.counters) if g.code in c.groups]
        for spans in members:
            for a, b in spans:
                points.add(max(a, 0.0))
                if math.isfinite(b):
                    points.add(b)
        times = sorted(points)
        counts = [sum(any(a <= t < b for a, b in spans) for spans in members) for t in times]
        # Drop repeated counts.
        t_out, c_out = [times[0]], [counts[0]]
        for t, c in zip(times[1:], counts[1:], strict=True):
            if c != c_out[-1]:
                t_out.append(t)
                c_out.append(c)
        times_by_group.append(t_out)
        counts_by_group.append(c_out)
    return times_by_group, counts_by_group, avail


def roster_from(times: Sequence[float], counts: Sequence[int], t: float) -> list[tuple[float, int]]:
    """The roster step function seen from time ``t``: ``[(0, n_now), (dt, n), ...]``.

    ``times`` / ``counts`` are one group's step function as returned by :func:`walk_in_roster`.
    """
    k = bisect.bisect_right(times, t) - 1
    out = [(0.0, counts[max(k, 0)])]
    for j in range(k + 1, len(times)):
        out.append((times[j] - t, counts[j]))
    return out


def walk_in_roster(config: SimConfig) -> tuple[list[list[float]], list[list[int]]]:
    """Per group, the step function of counters open to its walk-ins: ``(times, counts)``.

    A counter counts for every group it serves, outside its breaks and booking blocks;
    with ``drain`` a counter working at closing time counts as open afterwards.
    """
    times, counts, _ = _roster(config)
    return times, counts


def simulate(config: SimConfig, seed: int | np.random.SeedSequence = 0) -> DayResult:
    """Simulate one day; the same ``seed`` gives the same day."""
    pop = _population(config, _as_seed_sequence(seed))
    params = config.routing
    policy = config.booking_policy
    grace = policy.grace
    close = config.close
    groups = config.groups
    codes = [g.code for g in groups]
    n_groups = len(groups)

    # ---- citizens (walk-ins then bookings), sorted by ticket time
    nw = pop["arrival"].size
    nb = pop["b_arrival"].size
    arrival = np.concatenate([pop["arrival"], pop["b_arrival"]])
    booked_start_arr = np.concatenate([np.full(nw, np.nan), pop["b_start"]])
    issued = arrival.copy()
    if nb:
        window_open = pop["b_start"] - params.arrival_window
        issued[nw:] = np.maximum(pop["b_arrival"], window_open)
    order = np.argsort(issued, kind="stable")
    arrival = arrival[order]
    issued = issued[order]
    booked_start_arr = booked_start_arr[order]
    group = np.concatenate([pop["group"], pop["b_group"]])[order]
    service = np.concatenate([pop["service"], pop["b_service"]])[order]
    priority = np.concatenate([pop["priority"], np.zeros(nb, bool)])[order]
    patience = np.concatenate([pop["patience"], np.full(nb, INF)])[order]
    booked = np.concatenate([np.zeros(nw, bool), np.ones(nb, bool)])[order]
    b_counter = np.concatenate([np.full(nw, -1), pop["b_counter"]])[order]
    b_slot = np.concatenate([np.full(nw, -1), pop["b_slot"]])[order]
    n = arrival.size

    issued_l = issued.tolist()
    group_l = group.tolist()
    service_l = service.tolist()
    priority_l = priority.tolist()
    patience_l = patience.tolist()
    booked_l = booked.tolist()
    bstart_l = booked_start_arr.tolist()
    bcounter_l = b_counter.tolist()

    status = [_NOT_ARRIVED] * n
    start = [math.nan] * n
    end = [math.nan] * n
    served_by = [-1] * n
    kept = [False] * n
    wait_ref = issued_l[:]  # time from which the wait counts
    est_mean = [math.nan] * n
    est_p95 = [math.nan] * n
    ahead_l = [-1] * n
    servers_l = [-1] * n
    hol_l = [math.nan] * n
    les_l = [math.nan] * n
    elapsed_l: dict[int, list[float]] = {}

    # ---- slots: which citizens belong to each (for release and no-show accounting)
    slots = pop["slots"]
    slot_made = pop["slot_made"]
    slot_members: list[list[int]] = [[] for _ in slots]
    for i in range(n):
        if b_slot[i] >= 0:
            slot_members[int(b_slot[i])].append(i)
    counter_slots: list[list[int]] = [[] for _ in config.counters]
    for sid, (ci, _, _) in enumerate(slots):
        counter_slots[ci].append(sid)
    counter_slot_starts = [[slots[s][1] for s in ids] for ids in counter_slots]

    # ---- roster and counters
    r_times, r_counts, avail = _roster(config)
    n_counters = len(config.counters)
    c_groups = [dict(c.groups) for c in config.counters]
    c_gidx = [[codes.index(code) for code in c.groups] for c in config.counters]
    c_blocks = [c.booking_blocks for c in config.counters]
    by_group: list[list[int]] = [[] for _ in range(n_groups)]
    for gi, code in enumerate(codes):
        members = [ci for ci in range(n_counters) if code in c_groups[ci]]
        levels = {ci: c_groups[ci][code] for ci in members}
        by_group[gi] = sorted(members, key=lambda ci: (levels[ci], ci))
    c_on = [False] * n_counters
    c_busy = [-1] * n_counters
    c_leaving = [False] * n_counters  # finish the service, then go off
    c_draining = [False] * n_counters  # after closing: serve while tickets remain
    c_idle_since: list[float | None] = [None] * n_counters
    busy_time = [0.0] * n_counters
    idle_spans: list[list[tuple[float, float]]] = [[] for _ in range(n_counters)]

    events: list[tuple[float, int, int, int]] = []
    seq = 0

    def push(t: float, kind: int, arg: int) -> None:
        nonlocal seq
        heapq.heappush(events, (t, kind, seq, arg))
        seq += 1

    for ci, spans in enumerate(avail):
        for k, (a, b) in enumerate(spans):
            push(a, _ON, ci)
            final = config.drain and k == len(spans) - 1 and b >= close
            push(b, _OFF, ci if not final else -ci - 1)
    for ci, s_start, s_end in slots:
        push(s_start, _WAKE, ci)
        push(s_end, _WAKE, ci)
        if grace is not None:
            push(s_start + grace, _WAKE, ci)
        push(s_start + params.late_cutoff, _WAKE, ci)

    queues: list[dict[int, WaitingTicket]] = [{} for _ in range(n_groups)]
    n_prio = [0] * n_groups
    booked_q: list[dict[int, WaitingTicket]] = [{} for _ in range(n_counters)]
    les_by_group = [math.nan] * n_groups
    waiting_total = 0
    area = 0.0
    last_t = 0.0
    rates = [config.rates(code) for code in codes]
    cvs = [config.service_cv(code) for code in codes]

    def set_idle(ci: int, t: float) -> None:
        if c_idle_since[ci] is None:
            c_idle_since[ci] = t

    def end_idle(ci: int, t: float) -> None:
        since = c_idle_since[ci]
        if since is not None:
            if t > since:
                idle_spans[ci].append((since, t))
            c_idle_since[ci] = None

    def may_serve_walk_ins(ci: int, t: float) -> bool:
        blocks = c_blocks[ci]
        if not blocks or not any(a <= t < b for a, b in blocks):
            return True
        if not policy.standby:
            return False
        starts = counter_slot_starts[ci]
        k = bisect.bisect_right(starts, t) - 1
        if k < 0:
            return False
        sid = counter_slots[ci][k]
        _, s_start, s_end = slots[sid]
        if t >= s_end:
            return True  # between slots inside a block: nothing booked here
        limit = s_start + (grace if grace is not None else 0.0)
        for i in slot_members[sid]:
            st = status[i]
            if st == _IN_SERVICE or st == _DONE:
                continue
            if st == _NOT_ARRIVED and t >= limit:
                continue
            if st == _WAITING and not kept[i]:
                continue  # came too late: queues as a walk-in
            return False
        # Bookings that never come (no-shows) hold the slot until the grace has passed.
        return len(slot_members[sid]) >= slot_made[sid] or t >= limit

    def start_service(ci: int, ticket: WaitingTicket, t: float) -> None:
        nonlocal waiting_total
        i = ticket.id
        status[i] = _IN_SERVICE
        start[i] = t
        served_by[i] = ci
        c_busy[ci] = i
        end_idle(ci, t)
        waiting_total -= 1
        gi = group_l[i]
        if not booked_l[i] or not kept[i]:
            les_by_group[gi] = t - wait_ref[i]
        push(t + service_l[i], _DEPART, ci)

    def try_serve(ci: int, t: float) -> bool:
        """Let free counter ``ci`` call a citizen; True when it did."""
        ticket = None
        bq = booked_q[ci]
        if bq:
            ticket = choose_next(list(bq.values()), c_groups[ci], t, params)
            if ticket is not None:
                del bq[ticket.id]
        if ticket is None and may_serve_walk_ins(ci, t):
            gidx = c_gidx[ci]
            if len(gidx) == 1:
                candidates = list(queues[gidx[0]].values())
            else:
                candidates = [tk for gi in gidx for tk in queues[gi].values()]
            if candidates:
                ticket = choose_next(candidates, c_groups[ci], t, params)
                if ticket is not None:
                    gi = group_l[ticket.id]
                    q = queues[gi]
                    del q[ticket.id]
                    if ticket.priority:
                        n_prio[gi] -= 1
                        for tid in overtaken_ids(ticket, candidates):
                            old = queues[group_l[tid]].get(tid)
                            if old is not None:
                                queues[group_l[tid]][tid] = replace(
                                    old, overtaken=old.overtaken + 1
                                )
        if ticket is None:
            return False
        start_service(ci, ticket, t)
        return True

    def free_counter(ci: int, t: float) -> None:
        """Counter ``ci`` has nothing in hand: call someone, go off, or idle."""
        if c_leaving[ci]:
            c_leaving[ci] = False
            c_on[ci] = False
            return
        if try_serve(ci, t):
            return
        if c_draining[ci]:
            c_on[ci] = False
            c_draining[ci] = False
            return
        set_idle(ci, t)

    def arrive(i: int, t: float) -> None:
        nonlocal waiting_total
        gi = group_l[i]
        code = codes[gi]
        status[i] = _WAITING
        waiting_total += 1
        if booked_l[i]:
            bs = bstart_l[i]
            ci = bcounter_l[i]
            late = grace is not None and t > bs + grace
            if not late:
                kept[i] = True
                wait_ref[i] = max(t, bs)
                booked_q[ci][i] = WaitingTicket(i, code, t, False, bs)
                if c_on[ci] and c_busy[ci] < 0:
                    try_serve(ci, t)
                return
            # Too late for the booking: queue as a walk-in.
        q = queues[gi]
        prio = priority_l[i]
        ahead = n_prio[gi] if prio else len(q)
        ahead_l[i] = ahead
        if q:
            hol_l[i] = t - next(iter(q.values())).issued_at
        les_l[i] = les_by_group[gi]
        k = bisect.bisect_right(r_times[gi], t) - 1
        servers_l[i] = r_counts[gi][k]
        q[i] = WaitingTicket(i, code, t, prio)
        if prio:
            n_prio[gi] += 1
        if patience_l[i] < INF:
            push(t + patience_l[i], _ABANDON, i)
        for ci in by_group[gi]:
            if c_on[ci] and c_busy[ci] < 0 and try_serve(ci, t) and status[i] != _WAITING:
                break
        if booked_l[i]:
            return
        if status[i] != _WAITING:
            est_mean[i] = 0.0
            est_p95[i] = 0.0
            return
        elapsed_l[i] = [t - start[c_busy[ci]] for ci in by_group[gi] if c_busy[ci] >= 0]
        mu, theta = rates[gi]
        est = estimate_wait_roster(
            ahead, roster_from(r_times[gi], r_counts[gi], t), mu, theta, service_cv=cvs[gi]
        )
        est_mean[i] = est.mean
        est_p95[i] = est.p95

    # ---- event loop
    next_i = 0
    while True:
        t_arr = issued_l[next_i] if next_i < n else INF
        t_evt = events[0][0] if events else INF
        if t_arr == INF and t_evt == INF:
            break
        if t_arr < t_evt:
            t = t_arr
            area += waiting_total * (t - last_t)
            last_t = t
            arrive(next_i, t)
            next_i += 1
            continue
        t, kind, _, arg = heapq.heappop(events)
        area += waiting_total * (t - last_t)
        last_t = t
        if kind == _DEPART:
            ci = arg
            i = c_busy[ci]
            status[i] = _DONE
            end[i] = t
            busy_time[ci] += t - start[i]
            c_busy[ci] = -1
            free_counter(ci, t)
        elif kind == _ABANDON:
            i = arg
            if status[i] == _WAITING:
                gi = group_l[i]
                if queues[gi].pop(i, None) is not None:
                    if priority_l[i]:
                        n_prio[gi] -= 1
                    status[i] = _ABANDONED
                    end[i] = t
                    waiting_total -= 1
        elif kind == _ON:
            ci = arg
            c_on[ci] = True
            c_leaving[ci] = False
            c_draining[ci] = False
            if c_busy[ci] < 0:
                free_counter(ci, t)
        elif kind == _OFF:
            ci = arg if arg >= 0 else -arg - 1
            if not c_on[ci]:
                continue
            if arg < 0:
                c_draining[ci] = True
                if c_busy[ci] < 0:
                    end_idle(ci, t)
                    free_counter(ci, t)
            elif c_busy[ci] < 0:
                end_idle(ci, t)
                c_on[ci] = False
            else:
                c_leaving[ci] = True
        else:  # _WAKE
            ci = arg
            if c_on[ci] and c_busy[ci] < 0:
                end_idle(ci, t)
                free_counter(ci, t)
    horizon = max(last_t, close)
    for ci in range(n_counters):
        end_idle(ci, horizon)

    # ---- records
    start_a = np.array(start)
    end_a = np.array(end)
    status_a = np.array(status)
    ref = np.array(wait_ref)
    served = status_a == _DONE
    abandoned = status_a == _ABANDONED
    wait = np.full(n, np.nan)
    wait[served] = start_a[served] - ref[served]
    # A booking called before its slot start (inside the arrival window) did not wait.
    kept_a = np.array(kept, dtype=bool)
    wait[served & kept_a] = np.maximum(wait[served & kept_a], 0.0)
    wait[abandoned] = end_a[abandoned] - ref[abandoned]
    width = max((len(v) for v in by_group), default=0)
    elapsed_a = np.full((n, width), np.nan)
    for i, values in elapsed_l.items():
        elapsed_a[i, : len(values)] = values
    records = {
        "arrival": arrival,
        "issued": issued,
        "group": group,
        "priority": priority,
        "booked": booked,
        "kept_booking": kept_a,
        "booked_start": booked_start_arr,
        "service": service,
        "start": start_a,
        "end": end_a,
        "wait": wait,
        "served": served,
        "abandoned": abandoned,
        "counter": np.array(served_by, dtype=np.int64),
        "est_mean": np.array(est_mean),
        "est_p95": np.array(est_p95),
        "ahead": np.array(ahead_l, dtype=np.int64),
        "servers": np.array(servers_l, dtype=np.int64),
        "hol": np.array(hol_l),
        "les": np.array(les_l),
        "elapsed": elapsed_a,
    }
    # Idle time inside slots none of whose bookings came.
    idle_ns = np.zeros(n_counters)
    for sid, (ci, s_start, s_end) in enumerate(slots):
        if slot_made[sid] == 0 or slot_members[sid]:
            continue  # nothing booked, or somebody came
        for a, b in idle_spans[ci]:
            idle_ns[ci] += max(0.0, min(b, s_end) - max(a, s_start))
    idle = np.array([sum(b - a for a, b in spans) for spans in idle_spans])
    return DayResult(
        config=config,
        records=records,
        counters={"busy": np.array(busy_time), "idle": idle, "idle_no_show": idle_ns},
        queue_area=area,
        horizon=horizon,
        bookings_made=int(pop["made"]),
        no_shows=int(pop["no_show"]),
    )


# --------------------------------------------------------------------------- KPIs


def _q(values: np.ndarray, q: float) -> float:
    return float(np.quantile(values, q)) if values.size else math.nan


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if values.size else math.nan


def compute_kpis(day: DayResult) -> dict[str, float]:
    """KPIs of a day, over citizens whose ticket time is at or after ``config.warmup``.

    Waits are in minutes. ``mean_wait`` and the percentiles are over served citizens;
    ``mean_wait_all`` also counts walk-aways' time in the queue; ``p_wait`` is
    ``P(wait > 0)`` over all arrivals (walk-aways included), ``p_abandon`` the share of
    walk-aways. ``utilisation`` is busy / (busy + idle) counter time; ``idle_minutes`` is
    counter time open and idle (summed over counters) and ``idle_no_show_minutes`` the
    part of it inside booking slots whose bookings did not come. ``mean_queue`` is the
    time-average number waiting over the day. ``p95_exceeded`` is the share of walk-ins
    who had to wait and waited longer than the P95 announced to them.
    """
    r = day.records
    keep = r["issued"] >= day.config.warmup
    wait = r["wait"][keep]
    served = r["served"][keep]
    abandoned = r["abandoned"][keep]
    booked = r["booked"][keep]
    prio = r["priority"][keep]
    kept = r["kept_booking"][keep]
    walk = ~booked | ~kept
    sw = wait[served]
    gone = served | abandoned
    busy = float(day.counters["busy"].sum())
    idle = float(day.counters["idle"].sum())
    announced = (r["est_p95"][keep] > 0) & served & walk
    out = {
        "arrivals": float(keep.sum()),
        "served": float(served.sum()),
        "abandoned": float(abandoned.sum()),
        "unserved": float((~gone).sum()),
        "mean_wait": _mean(sw),
        "mean_wait_all": _mean(wait[gone]),
        "p50_wait": _q(sw, 0.50),
        "p90_wait": _q(sw, 0.90),
        "p95_wait": _q(sw, 0.95),
        "p99_wait": _q(sw, 0.99),
        "p_wait": float((wait[gone] > 1e-9).mean()) if gone.any() else math.nan,
        "p_abandon": float(abandoned.mean()) if keep.any() else math.nan,
        "utilisation": busy / (busy + idle) if busy + idle > 0 else math.nan,
        "idle_minutes": idle,
        "idle_no_show_minutes": float(day.counters["idle_no_show"].sum()),
        "mean_queue": day.queue_area / day.horizon if day.horizon > 0 else 0.0,
        "walk_in_mean_wait": _mean(wait[served & walk]),
        "walk_in_p90_wait": _q(wait[served & walk], 0.90),
        "booked_mean_wait": _mean(wait[served & booked & kept]),
        "priority_mean_wait": _mean(wait[served & prio]),
        "priority_p99_wait": _q(wait[served & prio], 0.99),
        "regular_mean_wait": _mean(wait[served & ~prio & walk]),
        "regular_p99_wait": _q(wait[served & ~prio & walk], 0.99),
        "p95_exceeded": float((wait[announced] > r["est_p95"][keep][announced]).mean())
        if announced.any()
        else math.nan,
        "no_show_rate": day.no_shows / day.bookings_made if day.bookings_made else math.nan,
    }
    return out


def _simulate_job(args: tuple[SimConfig, np.random.SeedSequence]) -> DayResult:
    config, ss = args
    return simulate(config, ss)


def simulate_days(
    config: SimConfig, days: int, seed: int = 0, workers: int | None = None
) -> list[DayResult]:
    """``days`` independent days with their full records (seeds spawned from ``seed``)."""
    seeds = np.random.SeedSequence(seed).spawn(days)
    jobs = [(config, s) for s in seeds]
    workers = max(1, min(workers or os.cpu_count() or 1, days))
    if workers == 1:
        return [_simulate_job(job) for job in jobs]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(_simulate_job, jobs))


def _replicate(args: tuple[SimConfig, np.random.SeedSequence]) -> dict[str, float]:
    config, ss = args
    return simulate(config, ss).kpis()


def run_replications(
    config: SimConfig,
    replications: int,
    seed: int = 0,
    workers: int | None = None,
    progress: bool | None = None,
) -> list[dict[str, float]]:
    """KPIs of ``replications`` independent days (seeds spawned from ``seed``).

    ``workers`` processes (default: the CPU count, capped by ``replications``; 1 runs in
    this process). ``progress`` shows a tqdm bar on stderr; by default only when stderr
    is a terminal. The result does not depend on ``workers``.
    """
    if replications < 1:
        raise ValueError("replications must be >= 1")
    seeds = np.random.SeedSequence(seed).spawn(replications)
    if workers is None:
        workers = os.cpu_count() or 1
    workers = max(1, min(workers, replications))
    if progress is None:
        progress = sys.stderr.isatty()
    from tqdm import tqdm

    jobs = [(config, s) for s in seeds]
    with tqdm(total=replications, file=sys.stderr, disable=not progress, desc="days") as bar:
        if workers == 1:
            out = []
            for job in jobs:
                out.append(_replicate(job))
                bar.update()
            return out
        with ProcessPoolExecutor(max_workers=workers) as pool:
            out = []
            chunk = max(1, replications // (workers * 4))
            for kpis in pool.map(_replicate, jobs, chunksize=chunk):
                out.append(kpis)
                bar.update()
            return out


def summarise(
    runs: Sequence[Mapping[str, float]], level: float = 0.95
) -> dict[str, dict[str, float]]:
    """Mean and ``level`` t-interval across replications for every KPI.

    Returns ``{kpi: {"mean", "low", "high", "half_width", "n"}}``; NaN values (a KPI with
    no data on a day) are left out; with fewer than two values the interval is NaN.
    Plain floats throughout, so the result is JSON-serialisable (NaN aside).
    """
    keys = list(runs[0]) if runs else []
    out: dict[str, dict[str, float]] = {}
    for key in keys:
        values = np.array([r[key] for r in runs], dtype=float)
        values = values[~np.isnan(values)]
        m = values.size
        mean = float(values.mean()) if m else math.nan
        if m >= 2:
            half = float(stats.t.ppf(0.5 + level / 2, m - 1) * values.std(ddof=1) / math.sqrt(m))
        else:
            half = math.nan
        out[key] = {
            "mean": mean,
            "low": mean - half,
            "high": mean + half,
            "half_width": half,
            "n": float(m),
        }
    return out
