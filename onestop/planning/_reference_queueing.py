"""Stand-in for ``onestop.queueing.routing`` / ``onestop.queueing.estimate``.

The planning code calls the queueing package's public interface through
:mod:`onestop.planning._queueing`. While that package is not installed in the tree (it is
written in parallel), this module supplies an implementation of the same interface so the
planning tests and benchmarks run. It is never used once ``onestop.queueing`` exists.

Semantics assumed here (documented in ``docs/planning.md``):

* a counter serves the groups in ``counter_groups``; a lower level number is preferred
  (level 1 = primary skill): the counter takes from the best level that has a ticket;
* a booked ticket that checked in no later than ``booked_start + late_cutoff`` is served
  first once ``now >= booked_start`` (earliest booking first); a booked ticket that came
  too late is a walk-in;
* among walk-ins the oldest priority ticket goes first unless some older regular ticket
  has already been overtaken ``max_priority_overtakes`` times, in which case the oldest
  ticket goes first (``max_priority_overtakes=0`` is plain FCFS, a huge value is strict
  priority);
* wait estimates assume every counter busy: the ``ahead + 1`` positions move at rate
  ``n mu + i theta`` when ``i`` are ahead.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special


@dataclass(frozen=True, slots=True)
class WaitingTicket:
    """A ticket in the queue."""

    id: int
    group: str
    issued_at: float
    priority: bool = False
    booked_start: float | None = None
    overtaken: int = 0


@dataclass(frozen=True, slots=True)
class RoutingParams:
    """Routing rules."""

    max_priority_overtakes: int = 3
    arrival_window: float = 30.0
    late_cutoff: float = 10.0


def _on_time_booking(ticket: WaitingTicket, params: RoutingParams) -> bool:
    return ticket.booked_start is not None and (
        ticket.issued_at <= ticket.booked_start + params.late_cutoff
    )


def choose_next(
    waiting: Iterable[WaitingTicket],
    counter_groups: Mapping[str, int],
    now: float,
    params: RoutingParams = RoutingParams(),  # noqa: B008 - frozen, immutable default
) -> WaitingTicket | None:
    """The ticket a free counter serving ``counter_groups`` should call now, if any."""
    best_booked: WaitingTicket | None = None
    best_level: int | None = None
    walk_ins: list[WaitingTicket] = []
    for ticket in waiting:
        level = counter_groups.get(ticket.group)
        if level is None:
            continue
        if _on_time_booking(ticket, params):
            start = ticket.booked_start
            assert start is not None
            if start <= now and (
                best_booked is None
                or (start, ticket.issued_at) < (best_booked.booked_start, best_booked.issued_at)  # type: ignore[operator]
            ):
                best_booked = ticket
            continue
        if best_level is None or level < best_level:
            best_level = level
            walk_ins = [ticket]
        elif level == best_level:
            walk_ins.append(ticket)
    if best_booked is not None:
        return best_booked
    if not walk_ins:
        return None
    oldest = min(walk_ins, key=lambda t: (t.issued_at, t.id))
    priority = [t for t in walk_ins if t.priority]
    if not priority or oldest.priority:
        return oldest
    first_priority = min(priority, key=lambda t: (t.issued_at, t.id))
    blocked = any(
        not t.priority
        and t.issued_at < first_priority.issued_at
        and t.overtaken >= params.max_priority_overtakes
        for t in walk_ins
    )
    return oldest if blocked else first_priority


def overtaken_ids(chosen: WaitingTicket, waiting: Iterable[WaitingTicket]) -> list[int]:
    """Regular tickets of the same group, issued earlier, that the priority ticket overtakes."""
    if not chosen.priority:
        return []
    return [
        t.id
        for t in waiting
        if not t.priority
        and t.id != chosen.id
        and t.group == chosen.group
        and t.booked_start is None
        and t.issued_at < chosen.issued_at
    ]


@dataclass(frozen=True, slots=True)
class WaitEstimate:
    """Announced wait: mean and 95th percentile, minutes."""

    mean: float
    p95: float


_QUANTILES = (np.arange(24) + 0.5) / 24


def _constant_quantiles(
    ahead: int, servers: int, service_rate: float, abandon_rate: float, probs: np.ndarray
) -> np.ndarray:
    rate = servers * service_rate
    if abandon_rate <= 0:
        return special.gammaincinv(ahead + 1.0, probs) / rate
    c = rate / abandon_rate
    x = special.betaincinv(ahead + 1.0, c, probs)
    return -np.log1p(-x) / abandon_rate


def _constant_mean(ahead: int, servers: int, service_rate: float, abandon_rate: float) -> float:
    rate = servers * service_rate
    if abandon_rate <= 0:
        return (ahead + 1.0) / rate
    c = rate / abandon_rate
    return float((special.digamma(c + ahead + 1.0) - special.digamma(c)) / abandon_rate)


def estimate_wait(
    ahead: int, servers: int, service_rate: float, abandon_rate: float = 0.0
) -> WaitEstimate:
    """Wait of a citizen with ``ahead`` waiting in front, ``servers`` busy counters."""
    if servers <= 0:
        return WaitEstimate(math.inf, math.inf)
    mean = _constant_mean(ahead, servers, service_rate, abandon_rate)
    p95 = float(_constant_quantiles(ahead, servers, service_rate, abandon_rate, np.array([0.95]))[0])
    return WaitEstimate(mean, p95)


def estimate_wait_roster(
    ahead: int,
    roster: Sequence[tuple[float, int]],
    service_rate: float,
    abandon_rate: float = 0.0,
) -> WaitEstimate:
    """As :func:`estimate_wait` with a step function of open counters from now.

    Exact without walk-aways (service completions form a Poisson process of rate
    ``n(t) mu``); with walk-aways the constant-roster law on the first counter count is
    mapped through the roster's service-time clock (an approximation).
    """
    steps = sorted((float(t), int(n)) for t, n in roster)
    if not steps or steps[0][0] > 0:
        steps.insert(0, (0.0, 0))
    if all(n == steps[0][1] for _, n in steps):
        return estimate_wait(ahead, steps[0][1], service_rate, abandon_rate)
    # Cumulative service capacity W(t) = ∫ n(s) ds at each breakpoint.
    times = [t for t, _ in steps]
    counts = [n for _, n in steps]
    cum = [0.0]
    for i in range(1, len(times)):
        cum.append(cum[-1] + counts[i - 1] * (times[i] - times[i - 1]))
    base = next((n for n in counts if n > 0), 0)
    if base == 0:
        return WaitEstimate(math.inf, math.inf)

    def to_clock(work: np.ndarray) -> np.ndarray:
        out = np.empty_like(work)
        for k, w in enumerate(work):
            i = int(np.searchsorted(cum, w, side="right")) - 1
            while i < len(times) - 1 and counts[i] == 0:
                i += 1
            if counts[i] == 0:
                out[k] = math.inf
            else:
                out[k] = times[i] + (w - cum[i]) / counts[i]
        return out

    probs = np.append(_QUANTILES, 0.95)
    work = _constant_quantiles(ahead, base, service_rate, abandon_rate, probs) * base
    clock = to_clock(work)
    return WaitEstimate(float(np.mean(clock[:-1])), float(clock[-1]))
