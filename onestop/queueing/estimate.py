"""Waiting-time estimates for a citizen in the queue.

This module is a pure calculator (numpy and scipy only). The derivations are written out
in ``docs/queue-science.md``; this docstring is a summary.

Event model
===========

A citizen has ``m = ahead`` citizens of the same queue ahead of them and every open counter
serving the queue is busy. Service times are exponential with rate ``mu`` per minute per
counter; every citizen waiting ahead walks away after an exponential patience with rate
``theta`` per minute. While ``j`` citizens are ahead and ``n`` counters are open, the next
"departure from ahead" (a service completion or a walk-away) happens at rate
``r_j = n * mu + j * theta``; at ``j = 0`` the next service completion is the citizen's own
call. The wait ``W`` is the time to ``m + 1`` such departures. It is the *virtual* wait: the
wait of a citizen who does not give up themself.

Constant number of counters (:func:`estimate_wait`)
===================================================

``W`` is a sum of independent exponentials with rates ``r_m, ..., r_0``, so
``E[W] = sum_j 1 / r_j``. For ``theta = 0`` this is ``(m + 1) / (n mu)`` and ``W`` is
Erlang/gamma with shape ``m + 1`` and rate ``n mu``. For ``theta > 0`` the rates form an
arithmetic sequence ``theta * (c + j)`` with ``c = n mu / theta``, and then exactly

    ``theta * W  ~  -log(1 - X)``  with  ``X ~ Beta(m + 1, c)``,

since ``E[(1 - X)^s] = prod_j (c + j) / (c + j + s)`` is the Laplace transform of the sum.
Hence ``P95 = -log1p(-betaincinv(m + 1, c, 0.95)) / theta``: one special-function call.

Counters that change over time (:func:`estimate_wait_roster`)
=============================================================

With a step function ``n(t)`` for the open counters the same model is a pure-death chain on
``j`` with piecewise-constant rates ``r_j(t) = n(t) mu + j theta``.

* ``theta = 0``: service completions form a Poisson process with cumulative intensity
  ``L(t) = mu * integral n``; ``P(W > t) = Q(m + 1, L(t))`` (regularised upper incomplete
  gamma). The P95 inverts the piecewise-linear ``L`` at ``gammaincinv(m + 1, 0.95)`` and the
  mean integrates ``Q`` in closed form step by step.
* ``theta > 0``: within a step with ``n`` counters the chain moves from ``i`` to ``j`` ahead
  with the exact "generalised binomial" probability
  ``C(c + i, c + j) p^(c + j) (1 - p)^(i - j)``, ``p = exp(-theta * duration)``,
  ``c = n mu / theta``; the distribution over ``j`` is carried across step boundaries with
  it (all terms positive, evaluated in log space). The mean adds up expected occupation
  times: in a step with ``n > 0``, the expected time spent with ``j`` ahead is
  ``(P(J >= j at the step start) - P(J >= j at the step end)) / r_j``; in a step with no
  counter open nobody is called, so it adds ``duration * P(still waiting)``. Within the
  step where ``P(W > t)`` crosses 5 %, ``P(W > t)`` is an exact mixture of negative-binomial
  distribution functions, solved for ``t`` with Brent's method.

If the last step of the roster has no counter open the citizen may never be called: the
mean is ``inf``, and so is the P95 unless 95 % of the citizens are called before that step.

Services less (or more) variable than exponential (``service_cv``)
=================================================================

:func:`estimate_wait_roster` takes the coefficient of variation ``cv`` of service times
(default 1, the exponential model above, unchanged). Measured in the cumulative service
intensity ``L``, the wait needs ``Lambda = L(W)`` with mean ``m + 1`` (one unit per call)
and, in the two-moment approximation used here, variance ``1 + m cv^2``: the first call
is the first of ``n`` busy counters to finish, close to exponential when several are busy
(Palm-Khintchine), and each further call adds one service spread over the counters.
``Lambda`` is taken as gamma with these two moments (shape ``(m + 1)^2 / (1 + m cv^2)``,
scale ``(1 + m cv^2) / (m + 1)``), which is exactly Erlang(m + 1) for ``cv = 1``. With
``theta = 0`` the roster formulas above hold with this gamma in place of the Erlang; with
``theta > 0`` the exact exponential mean is kept and the exact exponential P95 is
multiplied by ``q_cv / q_1``, the ratio of the 95 % quantiles of ``Lambda`` with and
without the ``cv`` (what the ``cv`` does to the P95 with a constant roster and no
walk-aways), and kept at or above the mean.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

__all__ = [
    "P95_LEVEL",
    "WaitEstimate",
    "estimate_wait",
    "estimate_wait_roster",
    "learned_abandon_rate",
    "learned_service_cv",
    "learned_service_rate",
]

P95_LEVEL = 0.95
"""Probability level of :attr:`WaitEstimate.p95`."""

_TAIL = 1.0 - P95_LEVEL
# Probability mass below which the roster computation stops following the distribution:
# what is left can change the mean by less than this fraction of the remaining time.
_NEGLIGIBLE = 1e-16


@dataclass(frozen=True, slots=True)
class WaitEstimate:
    """Estimated wait of a citizen, in minutes.

    Attributes:
        mean: Expected wait.
        p95: The 95 % quantile of the wait: about 95 % of waits stay under it.
    """

    mean: float
    p95: float


# --------------------------------------------------------------------------- validation


def _check_ahead(ahead: int) -> int:
    try:
        value = operator.index(ahead)
    except TypeError:
        raise ValueError(f"ahead must be an integer, got {ahead!r}") from None
    if value < 0:
        raise ValueError(f"ahead must be >= 0, got {value}")
    return value


def _check_servers(servers: int, *, allow_zero: bool) -> int:
    try:
        value = operator.index(servers)
    except TypeError:
        raise ValueError(f"servers must be an integer, got {servers!r}") from None
    if value < 0 or (value == 0 and not allow_zero):
        bound = "0" if allow_zero else "1 (no counter open: nobody is called)"
        raise ValueError(f"servers must be >= {bound}, got {value}")
    return value


def _check_rates(service_rate: float, abandon_rate: float) -> tuple[float, float]:
    mu = float(service_rate)
    theta = float(abandon_rate)
    if not (math.isfinite(mu) and mu > 0):
        raise ValueError(f"service_rate must be a finite number > 0, got {service_rate!r}")
    if not (math.isfinite(theta) and theta >= 0):
        raise ValueError(f"abandon_rate must be a finite number >= 0, got {abandon_rate!r}")
    return mu, theta


def _check_cv(service_cv: float) -> float:
    cv = float(service_cv)
    if not (math.isfinite(cv) and cv >= 0):
        raise ValueError(f"service_cv must be a finite number >= 0, got {service_cv!r}")
    return cv


# ------------------------------------------------------------------ constant counters


def estimate_wait(
    ahead: int, servers: int, service_rate: float, abandon_rate: float = 0.0
) -> WaitEstimate:
    """Wait of a citizen with ``ahead`` citizens ahead, ``servers`` counters all busy.

    Args:
        ahead: Citizens waiting ahead of this one (>= 0).
        servers: Open counters serving the queue (>= 1).
        service_rate: ``mu``, services per minute per counter (> 0).
        abandon_rate: ``theta``, walk-aways per minute per waiting citizen (>= 0).

    Returns:
        Mean and 95 % quantile of the wait (minutes), exact for the event model of the
        module documentation.

    Raises:
        ValueError: on an invalid argument (including ``servers == 0``).
    """
    m = _check_ahead(ahead)
    n = _check_servers(servers, allow_zero=False)
    mu, theta = _check_rates(service_rate, abandon_rate)
    base = n * mu
    if theta == 0.0:
        return WaitEstimate(
            mean=(m + 1) / base,
            p95=float(special.gammaincinv(m + 1, P95_LEVEL)) / base,
        )
    mean = float(np.sum(1.0 / (base + theta * np.arange(m + 1, dtype=float))))
    p95 = _hypoexp_quantile(m, base, theta, P95_LEVEL)
    if not math.isfinite(p95):  # Beta quantile under/overflows: extreme theta / (n mu)
        log_fact = special.gammaln(np.arange(1, m + 2, dtype=float))
        p95 = _solve_tail(np.ones(m + 1), base, theta, log_fact, math.inf)
    return WaitEstimate(mean=mean, p95=p95)


def _hypoexp_quantile(m: int, rate: float, theta: float, level: float) -> float:
    """Quantile of the time to ``m + 1`` departures at rates ``rate + j * theta``.

    ``theta * W ~ -log(1 - X)`` with ``X ~ Beta(m + 1, c)``, ``c = rate / theta``. When the
    quantile of ``X`` is close to 1 the complementary ``1 - X ~ Beta(c, m + 1)`` keeps the
    precision. Returns ``inf`` when even that underflows (very small ``c``).
    """
    c = rate / theta
    x = float(special.betaincinv(m + 1, c, level))
    if x < 0.5:
        return -math.log1p(-x) / theta
    y = float(special.betaincinv(c, m + 1, 1.0 - level))
    if y > 1e-250:  # far from the subnormal range, where the inverse loses accuracy
        return -math.log(y) / theta
    return math.inf


# ------------------------------------------------------------------------------- roster


@dataclass(frozen=True, slots=True)
class _Step:
    start: float  # minutes from now
    duration: float  # math.inf for the last step
    servers: int


def _normalise_roster(roster: Sequence[tuple[float, int]]) -> list[_Step]:
    """Validate the roster and clip it to start now."""
    if len(roster) == 0:
        raise ValueError("roster must have at least one step")
    times: list[float] = []
    counts: list[int] = []
    for position, entry in enumerate(roster):
        try:
            raw_time, raw_servers = entry
        except (TypeError, ValueError):
            raise ValueError(
                f"roster[{position}] must be a (start_minute, servers) pair, got {entry!r}"
            ) from None
        time = float(raw_time)
        if not math.isfinite(time):
            raise ValueError(f"roster[{position}] start must be finite, got {raw_time!r}")
        if times and time <= times[-1]:
            raise ValueError("roster start times must be strictly increasing")
        times.append(time)
        counts.append(_check_servers(raw_servers, allow_zero=True))
    if times[0] > 0.0:
        raise ValueError(f"roster must start now (at minute 0), first step is at {times[0]}")
    # Drop steps wholly in the past: keep the last step that starts at or before now.
    first = max(i for i, t in enumerate(times) if t <= 0.0)
    starts = [0.0, *times[first + 1 :]]
    counts = counts[first:]
    steps: list[_Step] = []
    for i, (start, count) in enumerate(zip(starts, counts, strict=True)):
        end = starts[i + 1] if i + 1 < len(starts) else math.inf
        steps.append(_Step(start=start, duration=end - start, servers=count))
    # Merge neighbours with the same count: fewer, longer steps compute faster.
    merged: list[_Step] = [steps[0]]
    for step in steps[1:]:
        previous = merged[-1]
        if step.servers == previous.servers:
            merged[-1] = _Step(previous.start, previous.duration + step.duration, step.servers)
        else:
            merged.append(step)
    return merged


def estimate_wait_roster(
    ahead: int,
    roster: Sequence[tuple[float, int]],
    service_rate: float,
    abandon_rate: float = 0.0,
    *,
    service_cv: float = 1.0,
) -> WaitEstimate:
    """Wait of a citizen when the number of open counters changes over time.

    Args:
        ahead: Citizens waiting ahead of this one (>= 0).
        roster: Step function of the counters open for the queue, as
            ``(start_minute, servers)`` pairs with strictly increasing start minutes,
            counted from now; the first step starts at minute 0 (steps starting earlier are
            clipped to now) and the last one lasts forever. ``servers`` may be 0 (nobody is
            called then; only walk-aways move the queue).
        service_rate: ``mu``, services per minute per counter (> 0).
        abandon_rate: ``theta``, walk-aways per minute per waiting citizen (>= 0).
        service_cv: Coefficient of variation of service times (>= 0), e.g. from
            :func:`learned_service_cv`; 1 (the default) is the exponential model, exact
            as documented; any other value uses the two-moment gamma approximation of
            the module documentation.

    Returns:
        Mean and 95 % quantile of the wait (minutes) under the event model of the module
        documentation. When the last step has no counter open the mean is ``math.inf``;
        the P95 is ``math.inf`` too unless at least 95 % of citizens are called earlier.

    Raises:
        ValueError: on an invalid argument.
    """
    m = _check_ahead(ahead)
    mu, theta = _check_rates(service_rate, abandon_rate)
    cv = _check_cv(service_cv)
    steps = _normalise_roster(roster)
    if theta == 0.0 or m == 0:  # with nobody ahead, patience plays no part
        return _roster_no_abandonment(m, steps, mu, cv)
    exact = _roster_with_abandonment(m, steps, mu, theta)
    if cv == 1.0 or not math.isfinite(exact.p95):
        return exact
    # Scale the P95 by what the cv does to it without walk-aways and with a constant
    # roster: the ratio of the 95 % quantiles of Lambda with and without the cv.
    shape, scale = _intensity_gamma(m, cv)
    factor = scale * float(special.gammaincinv(shape, P95_LEVEL))
    factor /= float(special.gammaincinv(m + 1, P95_LEVEL))
    p95 = exact.p95 * factor
    if math.isfinite(exact.mean):
        p95 = max(p95, exact.mean)
    return WaitEstimate(mean=exact.mean, p95=p95)


def _gamma_excess(shape: float, x: float, scale: float = 1.0) -> float:
    """``E[(X - x)+]`` for ``X ~ Gamma(shape, scale)``, i.e. ``integral_x^inf P(X > y) dy``."""
    if scale == 1.0:
        return float(shape * special.gammaincc(shape + 1, x) - x * special.gammaincc(shape, x))
    z = x / scale
    return float(shape * scale * special.gammaincc(shape + 1, z) - x * special.gammaincc(shape, z))


def _intensity_gamma(m: int, cv: float) -> tuple[float, float]:
    """Shape and scale of ``Lambda = L(W)``: mean ``m + 1``, variance ``1 + m cv^2``."""
    if cv == 1.0:
        return float(m + 1), 1.0
    variance = 1.0 + m * cv * cv
    return (m + 1) ** 2 / variance, variance / (m + 1)


def _roster_no_abandonment(m: int, steps: list[_Step], mu: float, cv: float) -> WaitEstimate:
    """``theta = 0``: closed forms in the cumulative service intensity ``L(t)``.

    ``P(W > t) = P(Lambda > L(t))`` with ``Lambda ~ Gamma(shape, scale)`` (Erlang(m + 1)
    for exponential services, see :func:`_intensity_gamma`).
    """
    shape, scale = _intensity_gamma(m, cv)
    target = scale * float(special.gammaincinv(shape, P95_LEVEL))  # L value at the P95
    mean = 0.0
    p95 = math.inf
    intensity = 0.0  # L at the start of the current step
    for step in steps:
        rate = step.servers * mu
        last = math.isinf(step.duration)
        if rate == 0.0:
            if last:
                mean = math.inf
                break
            mean += step.duration * float(special.gammaincc(shape, intensity / scale))
            continue
        if math.isinf(p95) and (last or intensity + rate * step.duration >= target):
            p95 = step.start + max(target - intensity, 0.0) / rate
        if last:
            mean += _gamma_excess(shape, intensity, scale) / rate
            break
        after = intensity + rate * step.duration
        mean += (_gamma_excess(shape, intensity, scale) - _gamma_excess(shape, after, scale)) / rate
        intensity = after
    return WaitEstimate(mean=mean, p95=p95)


def _log_rising(c: float, m: int) -> np.ndarray:
    """``out[j] = log(Gamma(c + j + 1) / Gamma(c + 1)) = sum_{i=1..j} log(c + i)``."""
    out = np.zeros(m + 1)
    if m:
        np.cumsum(np.log(c + np.arange(1, m + 1, dtype=float)), out=out[1:])
    return out


def _propagate(
    dist: np.ndarray, rate: float, theta: float, duration: float, log_fact: np.ndarray
) -> np.ndarray:
    """Distribution over ``j`` ahead (still waiting) after ``duration`` minutes of a step.

    ``rate = n * mu`` of the step; ``log_fact[i] = log(i!)``. The transition ``i -> j`` has
    probability ``C(c + i, c + j) p^(c + j) (1 - p)^(i - j)`` with ``c = rate / theta`` and
    ``p = exp(-theta * duration)`` (the forward equations of the pure-death chain solve to
    it). The mass that leaves ``j = 0`` is the probability of having been called.
    """
    top = float(dist.max())
    if top <= 0.0:
        return dist
    live = np.flatnonzero(dist > top * 1e-18)
    lo, hi = int(live[0]), int(live[-1])
    c = rate / theta
    rising = _log_rising(c, hi)
    src = np.arange(lo, hi + 1)
    dst = np.arange(hi + 1)
    gap = src[:, None] - dst[None, :]
    log_q = math.log(-math.expm1(-theta * duration))  # log(1 - p), accurate for small p
    log_kernel = (
        rising[src][:, None]
        - rising[dst][None, :]
        - log_fact[np.maximum(gap, 0)]
        - (rate + theta * dst[None, :]) * duration  # (c + j) * log(p)
        + gap * log_q
    )
    kernel = np.where(gap >= 0, np.exp(np.where(gap >= 0, log_kernel, 0.0)), 0.0)
    out = np.zeros_like(dist)
    out[: hi + 1] = dist[lo : hi + 1] @ kernel
    return out


def _tail_sums(dist: np.ndarray) -> np.ndarray:
    """``out[j] = P(J >= j)`` (still waiting with at least ``j`` ahead)."""
    return np.cumsum(dist[::-1])[::-1]


def _survival_in_step(
    tails: np.ndarray, rate: float, theta: float, log_fact: np.ndarray
) -> tuple[int, Callable[[float], float]]:
    """``u -> P(still waiting u minutes into the step)`` for a step with ``rate > 0``.

    From ``j`` ahead, ``P(W > u) = P(NegBin(c, p) <= j)`` with ``p = exp(-theta u)``: the
    sum over ``i <= j`` of ``Gamma(c + i) / (Gamma(c) i!) p^c (1 - p)^i``. Mixed over the
    distribution at the step start this is ``sum_i P(J >= i) * term_i``.
    """
    hi = int(np.flatnonzero(tails > 0)[-1]) if np.any(tails > 0) else 0
    c = rate / theta
    index = np.arange(hi + 1, dtype=float)
    log_coef = np.zeros(hi + 1)
    if hi:
        np.cumsum(np.log(c + index[:-1]), out=log_coef[1:])  # log Gamma(c + i) / Gamma(c)
    log_coef -= log_fact[: hi + 1]
    weights = tails[: hi + 1]

    def survival(u: float) -> float:
        if u <= 0.0:
            return float(weights[0])
        log_q = math.log(-math.expm1(-theta * u))
        return float(weights @ np.exp(log_coef - rate * u + index * log_q))

    return hi, survival


def _roster_with_abandonment(m: int, steps: list[_Step], mu: float, theta: float) -> WaitEstimate:
    """``theta > 0``: carry the distribution of ``j`` ahead across the roster steps."""
    log_fact = special.gammaln(np.arange(1, m + 2, dtype=float))  # log(i!), i = 0..m
    dist = np.zeros(m + 1)
    dist[m] = 1.0
    waiting = 1.0  # P(not yet called) at the start of the step
    never_called = steps[-1].servers == 0
    mean = math.inf if never_called else 0.0
    p95 = math.inf
    found = False
    for step in steps:
        last = math.isinf(step.duration)
        rate = step.servers * mu
        if rate == 0.0:
            if last:
                break  # nobody is ever called again: mean is inf, P95 stays as found
            mean += step.duration * waiting
            dist = _propagate(dist, 0.0, theta, step.duration, log_fact)
            continue
        tails = _tail_sums(dist)
        rates = rate + theta * np.arange(m + 1, dtype=float)
        if last:
            mean += float(np.sum(tails / rates))
            if not found:
                p95 = step.start + _solve_tail(tails, rate, theta, log_fact, math.inf)
            break
        dist = _propagate(dist, rate, theta, step.duration, log_fact)
        after = _tail_sums(dist)
        if not never_called:
            mean += float(np.sum(np.maximum(tails - after, 0.0) / rates))
        waiting = float(after[0])
        if not found and waiting <= _TAIL:
            p95 = step.start + _solve_tail(tails, rate, theta, log_fact, step.duration)
            found = True
        if found and waiting < _NEGLIGIBLE:
            break
    return WaitEstimate(mean=mean, p95=p95)


def _solve_tail(
    tails: np.ndarray, rate: float, theta: float, log_fact: np.ndarray, limit: float
) -> float:
    """Minutes into a step (``rate > 0``) at which ``P(still waiting)`` falls to 5 %."""
    hi, survival = _survival_in_step(tails, rate, theta, log_fact)
    if survival(0.0) <= _TAIL:
        return 0.0
    upper = limit
    if math.isinf(upper):
        # From any j <= hi ahead the wait is stochastically below the wait from hi ahead,
        # so the (1 - 5 % / P(waiting)) quantile from hi ahead is an upper bracket.
        level = 1.0 - _TAIL / float(tails[0])
        upper = _hypoexp_quantile(hi, rate, theta, level)
        if not math.isfinite(upper):
            upper = float(np.sum(1.0 / (rate + theta * np.arange(hi + 1, dtype=float))))
        upper = max(upper, 1e-12)
        while survival(upper) > _TAIL:  # guard against rounding in the bracket
            upper *= 2.0
    root = optimize.brentq(
        lambda u: survival(u) - _TAIL, 0.0, upper, xtol=1e-10, rtol=1e-12, maxiter=200
    )
    return float(root)


# -------------------------------------------------------------------- learned parameters


def learned_service_rate(
    durations_minutes: Sequence[float], fallback_mean_minutes: float, prior_weight: float = 20.0
) -> float:
    """Service rate (per minute) learned from observed service durations.

    The observed mean duration is shrunk toward ``fallback_mean_minutes`` (the service
    catalogue's nominal duration) as if ``prior_weight`` extra services of exactly that
    length had been observed::

        rate = (n + w) / (sum(durations) + w * fallback)

    This is the posterior mean of an exponential rate under the conjugate
    ``Gamma(w, w * fallback)`` prior, so a handful of odd services barely moves it and a
    long history dominates it.

    Raises:
        ValueError: if a duration is negative or not finite, ``fallback_mean_minutes`` is
            not a finite number > 0, ``prior_weight`` is negative or not finite, or the
            resulting mean duration is 0.
    """
    fallback = float(fallback_mean_minutes)
    weight = float(prior_weight)
    if not (math.isfinite(fallback) and fallback > 0):
        raise ValueError(f"fallback_mean_minutes must be > 0, got {fallback_mean_minutes!r}")
    if not (math.isfinite(weight) and weight >= 0):
        raise ValueError(f"prior_weight must be >= 0, got {prior_weight!r}")
    observed = np.asarray(durations_minutes, dtype=float)
    if observed.size and not (np.all(np.isfinite(observed)) and np.all(observed >= 0)):
        raise ValueError("service durations must be finite and >= 0")
    count = observed.size
    if count == 0 and weight == 0:
        return 1.0 / fallback
    mean = (float(observed.sum()) + weight * fallback) / (count + weight)
    if mean <= 0:
        raise ValueError("observed service durations are all 0 and prior_weight is 0")
    return 1.0 / mean


SERVICE_CV_MIN_SAMPLES = 30
"""Fewer observed services than this leave the coefficient of variation at 1."""

SERVICE_CV_BOUNDS = (0.2, 2.0)


def learned_service_cv(durations_minutes: Sequence[float]) -> float:
    """Coefficient of variation of service times learned from observed durations.

    ``pstdev / mean`` of the durations, clipped to ``SERVICE_CV_BOUNDS`` (0.2-2), from
    ``SERVICE_CV_MIN_SAMPLES`` (30) services up; 1.0 (exponential, the model's default)
    with fewer, or when the mean is 0.

    Raises:
        ValueError: if a duration is negative or not finite.
    """
    observed = np.asarray(durations_minutes, dtype=float)
    if observed.size and not (np.all(np.isfinite(observed)) and np.all(observed >= 0)):
        raise ValueError("service durations must be finite and >= 0")
    if observed.size < SERVICE_CV_MIN_SAMPLES:
        return 1.0
    mean = float(observed.mean())
    if mean <= 0:
        return 1.0
    low, high = SERVICE_CV_BOUNDS
    return min(high, max(low, float(observed.std()) / mean))


def learned_abandon_rate(abandoned: int, total_waiting_minutes: float) -> float:
    """Walk-away rate (per minute of waiting), maximum-likelihood estimate.

    With exponential patience the estimate is ``abandoned / total_waiting_minutes``, where
    the exposure must add up the waiting time of *every* ticket of the period: the ones
    that were called, the ones that walked away and the ones still waiting (each up to
    the moment it stopped waiting). Returns 0 when there is no exposure.

    Raises:
        ValueError: if ``abandoned`` is negative or ``total_waiting_minutes`` is negative or
            not finite.
    """
    count = _check_count(abandoned)
    exposure = float(total_waiting_minutes)
    if not (math.isfinite(exposure) and exposure >= 0):
        raise ValueError(f"total_waiting_minutes must be >= 0, got {total_waiting_minutes!r}")
    if exposure == 0:
        return 0.0
    return count / exposure


def _check_count(abandoned: int) -> int:
    try:
        value = operator.index(abandoned)
    except TypeError:
        raise ValueError(f"abandoned must be an integer, got {abandoned!r}") from None
    if value < 0:
        raise ValueError(f"abandoned must be >= 0, got {value}")
    return value
