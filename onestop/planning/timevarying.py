"""Counter plans for a day of time-varying demand.

Three ways of turning arrival rates per period into counters per period:

* **SIPP** (stationary independent period by period): each period is staffed as a
  steady-state Erlang queue with that period's mean arrival rate. It ignores that the
  number of citizens in service lags behind the arrival rate by about one service time,
  so it under-staffs the hours after a rise when services are long.
* **Lagged SIPP**: as SIPP with the rates shifted by one mean service time.
* **MOL** (modified offered load): the offered load is the mean number of citizens that
  would be in service with unlimited counters,

      ``m(t) = ∫_{-∞}^{t} λ(u) P(S > t - u) du = E[λ(t - S_e)] E[S]``,

  computed numerically on a minute grid for the service-time law; each minute is staffed
  with the Erlang formula at offered load ``m(t)`` (arrival rate ``m(t) μ``), and a period
  gets the largest requirement of its minutes.

:func:`transient_p_wait` judges a plan exactly for exponential services: it integrates the
Kolmogorov forward equations of the M(t)/M/s(t) birth-death chain (truncated state space,
classical fourth-order Runge–Kutta) and returns ``P(N(t) >= s(t))``, the probability that
an arrival at ``t`` has to wait.

Targets are :class:`Target` values: a maximum ``P(wait)``, a service level
``P(wait <= within) >= value``, a maximum mean wait, or a maximum ``P(abandon)`` (Erlang A).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

from onestop.planning import erlang

__all__ = [
    "ServiceLaw",
    "Target",
    "lagged_sipp_plan",
    "mol_offered_load",
    "mol_plan",
    "per_minute_rates",
    "sipp_plan",
    "staff_minutes",
    "transient_p_wait",
]


# --------------------------------------------------------------------------- targets


@dataclass(frozen=True)
class Target:
    """A staffing target.

    ``kind`` is one of:

    * ``"p_wait"`` – ``P(wait > 0) <= value``;
    * ``"service_level"`` – ``P(wait <= within) >= value`` (walk-aways count as misses
      when an abandonment rate is given);
    * ``"mean_wait"`` – mean time in queue ``<= value`` minutes;
    * ``"abandon"`` – ``P(abandon) <= value`` (needs an abandonment rate).
    """

    kind: str = "service_level"
    value: float = 0.8
    within: float = 10.0

    def __post_init__(self) -> None:
        if self.kind not in ("p_wait", "service_level", "mean_wait", "abandon"):
            raise ValueError(f"unknown target kind {self.kind!r}")
        if self.kind in ("p_wait", "service_level", "abandon") and not 0 < self.value <= 1:
            raise ValueError(f"{self.kind} target must be in (0, 1]")
        if self.kind == "mean_wait" and not self.value > 0:
            raise ValueError("mean_wait target must be > 0 minutes")
        if self.within < 0:
            raise ValueError("within must be >= 0")

    @classmethod
    def parse(cls, spec: Target | float | str | Mapping[str, Any]) -> Target:
        """Read a target from a number, a string or a mapping.

        * ``0.2`` → at most 20 % of citizens wait (``p_wait``);
        * ``"80/10"`` → 80 % served within 10 minutes (``service_level``);
        * ``"mean<=5"`` → mean wait at most 5 minutes; ``"abandon<=0.05"``;
        * ``{"kind": "service_level", "value": 0.8, "within": 10}``.
        """
        if isinstance(spec, Target):
            return spec
        if isinstance(spec, int | float):
            return cls("p_wait", float(spec), 0.0)
        if isinstance(spec, str):
            text = spec.replace(" ", "")
            if "/" in text:
                pct, within = text.split("/", 1)
                value = float(pct.rstrip("%"))
                return cls("service_level", value / 100 if value > 1 else value, float(within))
            if "<=" in text:
                name, bound = text.split("<=", 1)
                name = {"mean": "mean_wait", "wait": "mean_wait", "pwait": "p_wait"}.get(name, name)
                return cls(name, float(bound), 0.0)
            return cls("p_wait", float(text), 0.0)
        return cls(
            str(spec.get("kind", "service_level")),
            float(spec["value"]),
            float(spec.get("within", 0.0)),
        )

    def servers(
        self, arrival_rate: float, service_rate: float, abandon_rate: float | None = None
    ) -> int:
        """Fewest counters meeting the target at a steady arrival rate (Erlang C or A)."""
        if arrival_rate <= 0:
            return 0
        theta = abandon_rate or None
        if self.kind == "service_level":
            return erlang.staff_for_service_level(
                arrival_rate, service_rate, self.within, self.value, theta
            )
        if self.kind == "mean_wait":
            return erlang.staff_for_mean_wait(arrival_rate, service_rate, self.value, theta)
        if self.kind == "abandon":
            if theta is None:
                raise ValueError("an abandonment target needs an abandonment rate")
            return erlang.staff_for_abandonment(arrival_rate, service_rate, theta, self.value)
        # p_wait: P(wait > 0) <= value is the service level 1 - value within 0 minutes.
        if self.value >= 1:
            return 0
        return erlang.staff_for_service_level(
            arrival_rate, service_rate, 0.0, 1.0 - self.value, theta
        )

    def describe(self) -> str:
        """Short human-readable form."""
        if self.kind == "service_level":
            return f"{self.value:.0%} within {self.within:g} min"
        if self.kind == "p_wait":
            return f"P(wait) <= {self.value:.0%}"
        if self.kind == "mean_wait":
            return f"mean wait <= {self.value:g} min"
        return f"P(abandon) <= {self.value:.0%}"


# --------------------------------------------------------------------------- service laws


@dataclass(frozen=True)
class ServiceLaw:
    """Service-time law with mean ``mean`` minutes: exponential, lognormal or fixed."""

    mean: float
    kind: str = "exponential"
    cv: float = 1.0

    def __post_init__(self) -> None:
        if not self.mean > 0:
            raise ValueError("mean service time must be > 0")
        if self.kind not in ("exponential", "lognormal", "deterministic"):
            raise ValueError(f"unknown service law {self.kind!r}")

    def expected_min(self, x: np.ndarray) -> np.ndarray:
        """``E[min(S, x)] = ∫_0^x P(S > s) ds`` for ``x >= 0``."""
        x = np.asarray(x, dtype=float)
        if self.kind == "exponential":
            return self.mean * -np.expm1(-x / self.mean)
        if self.kind == "deterministic" or self.cv == 0:
            return np.minimum(x, self.mean)
        sigma = math.sqrt(math.log1p(self.cv**2))
        mu = math.log(self.mean) - sigma**2 / 2
        with np.errstate(divide="ignore"):
            z = (np.log(x) - mu) / sigma
        # E[S; S <= x] = mean * Phi(z - sigma); P(S > x) = 1 - Phi(z).
        return self.mean * special.ndtr(z - sigma) + x * special.ndtr(-z)


# --------------------------------------------------------------------------- offered load


def per_minute_rates(rates_per_hour: Sequence[float], period_minutes: float = 60.0) -> np.ndarray:
    """Arrival rate per minute for each minute, from rates per hour per period."""
    per = int(round(period_minutes))
    if per <= 0 or abs(per - period_minutes) > 1e-9:
        raise ValueError("period_minutes must be a positive whole number of minutes")
    return np.repeat(np.asarray(rates_per_hour, dtype=float) / 60.0, per)


def mol_offered_load(
    rate_per_minute: np.ndarray | Sequence[float],
    service: ServiceLaw,
    step: float = 1.0,
    initial_load: float = 0.0,
) -> np.ndarray:
    """Modified offered load at the end of each step: ``m(t) = ∫ λ(u) P(S > t - u) du``.

    ``rate_per_minute[k]`` is the arrival rate on ``[k step, (k+1) step)``, held constant
    within the step, so the integral is exact for the step function:
    ``m(t_k) = Σ_j λ_j (E[min(S, t_k - t_j)] - E[min(S, t_k - t_{j+1})])``.
    ``initial_load`` citizens in service at time 0 (exponential law: they decay at rate
    ``1 / mean``; other laws: treated as just started).
    """
    lam = np.asarray(rate_per_minute, dtype=float)
    k = lam.size
    edges = service.expected_min(np.arange(k + 1) * step)
    kernel = np.diff(edges)  # kernel[j] = ∫ over [j step, (j+1) step) of P(S > s) ds
    load = np.convolve(lam, kernel)[:k]
    if initial_load:
        t = (np.arange(k) + 1) * step
        if service.kind == "exponential":
            load = load + initial_load * np.exp(-t / service.mean)
        else:
            survival = np.gradient(service.expected_min(t), t)  # P(S > t)
            load = load + initial_load * np.clip(survival, 0.0, 1.0)
    return load


def staff_minutes(
    offered_load: np.ndarray,
    service_rate: float,
    target: Target,
    abandon_rate: float | None = None,
    resolution: float = 0.01,
) -> np.ndarray:
    """Counters needed each minute, staffing ``m(t)`` as a steady Erlang load.

    Loads are rounded up to ``resolution`` Erlangs so repeated values share one search.
    """
    cache: dict[float, int] = {}
    out = np.empty(len(offered_load), dtype=np.int64)
    for i, m in enumerate(offered_load):
        key = math.ceil(max(float(m), 0.0) / resolution - 1e-9) * resolution
        if key not in cache:
            cache[key] = target.servers(key * service_rate, service_rate, abandon_rate)
        out[i] = cache[key]
    return out


# --------------------------------------------------------------------------- plans


def sipp_plan(
    rates_per_hour: Sequence[float],
    service_minutes: float,
    target: Target,
    abandon_rate: float | None = None,
) -> list[int]:
    """Plain SIPP: counters per period from each period's mean arrival rate."""
    mu = 1.0 / service_minutes
    return [target.servers(r / 60.0, mu, abandon_rate) for r in rates_per_hour]


def lagged_sipp_plan(
    rates_per_hour: Sequence[float],
    service_minutes: float,
    target: Target,
    period_minutes: float = 60.0,
    abandon_rate: float | None = None,
) -> list[int]:
    """Lagged SIPP: period ``k`` is staffed for the mean rate over the period one mean
    service time earlier (rates before opening are taken as zero)."""
    lam = per_minute_rates(rates_per_hour, period_minutes)
    lag = int(round(service_minutes))
    shifted = np.concatenate([np.zeros(lag), lam])[: lam.size]
    per = int(round(period_minutes))
    mu = 1.0 / service_minutes
    return [
        target.servers(float(shifted[k * per : (k + 1) * per].mean()), mu, abandon_rate)
        for k in range(len(rates_per_hour))
    ]


def mol_plan(
    rates_per_hour: Sequence[float],
    service: ServiceLaw,
    target: Target,
    period_minutes: float = 60.0,
    abandon_rate: float | None = None,
    initial_load: float = 0.0,
) -> tuple[list[int], np.ndarray, np.ndarray]:
    """MOL plan: ``(counters per period, counters per minute, offered load per minute)``.

    A period gets the largest per-minute requirement inside it (its minutes are staffed
    at the load at the end of each minute).
    """
    lam = per_minute_rates(rates_per_hour, period_minutes)
    load = mol_offered_load(lam, service, 1.0, initial_load)
    minutes = staff_minutes(load, 1.0 / service.mean, target, abandon_rate)
    per = int(round(period_minutes))
    periods = [
        int(minutes[k * per : (k + 1) * per].max(initial=0)) for k in range(len(rates_per_hour))
    ]
    return periods, minutes, load


# --------------------------------------------------------------------------- transient check


def transient_p_wait(
    rate_per_minute: Callable[[np.ndarray], np.ndarray] | np.ndarray,
    servers_per_minute: Sequence[int] | np.ndarray,
    service_rate: float,
    dt: float = 0.2,
    max_state: int | None = None,
    initial: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact ``P(an arrival at minute k waits)`` for M(t)/M/s(t), by the forward equations.

    ``rate_per_minute`` is either a function of time (minutes, vectorised) or an array
    with one rate per minute; ``servers_per_minute[k]`` counters are open during minute
    ``k``. The system starts empty unless ``initial`` (a distribution over 0..max_state)
    is given. Returns ``(p_wait, final_distribution)`` where ``p_wait[k]`` is
    ``P(N >= s_k)`` at the middle of minute ``k`` (PASTA holds instant by instant for a
    Poisson process). The state space is truncated at ``max_state`` (default: comfortably
    above the peak load), with the top state reflecting.
    """
    servers = np.asarray(servers_per_minute, dtype=np.int64)
    minutes = servers.size
    if callable(rate_per_minute):
        lam_fn = rate_per_minute
        peak = float(np.max(lam_fn(np.linspace(0, minutes, 4 * minutes + 1))))
    else:
        table = np.asarray(rate_per_minute, dtype=float)

        def lam_fn(t: np.ndarray) -> np.ndarray:
            return table[np.minimum(np.asarray(t, dtype=int), table.size - 1)]

        peak = float(table.max())
    if max_state is None:
        top = peak / service_rate
        max_state = int(max(servers.max(), top) + 10 * math.sqrt(top + 1) + 50)
    states = np.arange(max_state + 1)
    p = np.zeros(max_state + 1)
    if initial is None:
        p[0] = 1.0
    else:
        p[: initial.size] = initial[: max_state + 1]
    steps = max(1, int(round(1.0 / dt)))
    h = 1.0 / steps
    out = np.empty(minutes)

    def deriv(prob: np.ndarray, lam: float, death: np.ndarray) -> np.ndarray:
        flow_up = lam * prob
        flow_up[-1] = 0.0  # truncation: no births out of the top state
        flow_down = death * prob
        d = -flow_up - flow_down
        d[1:] += flow_up[:-1]
        d[:-1] += flow_down[1:]
        return d

    for k in range(minutes):
        death = service_rate * np.minimum(states, servers[k])
        for j in range(steps):
            t0 = k + j * h
            lam0, lam_mid, lam1 = (float(v) for v in lam_fn(np.array([t0, t0 + h / 2, t0 + h])))
            k1 = deriv(p, lam0, death)
            k2 = deriv(p + h / 2 * k1, lam_mid, death)
            k3 = deriv(p + h / 2 * k2, lam_mid, death)
            k4 = deriv(p + h * k3, lam1, death)
            p = p + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
            if j == steps // 2 - 1 or steps == 1:
                out[k] = p[servers[k] :].sum()
        np.clip(p, 0.0, None, out=p)
        p /= p.sum()
    return out, p
