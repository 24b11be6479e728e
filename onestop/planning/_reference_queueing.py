"""Stand-in for ``onestop.queueing.estimate`` while that module is not in the tree.

The planning code calls the queueing package's public interface through
:mod:`onestop.planning._queueing`. ``onestop.queueing.estimate`` is written in parallel;
until it can be imported, this module supplies the same interface so the planning tests
and benchmarks run. It is not used once the real module exists.

The estimates assume every counter busy: the ``ahead + 1`` positions move at rate
``n mu + i theta`` when ``i`` are ahead (``theta`` = walk-away rate of each waiting
citizen), which gives the exact law ``1 - exp(-theta V) ~ Beta(ahead + 1, n mu / theta)``
for a constant number of counters (a Gamma law when ``theta = 0``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special


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
    p95 = float(
        _constant_quantiles(ahead, servers, service_rate, abandon_rate, np.array([0.95]))[0]
    )
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
