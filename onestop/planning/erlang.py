"""Erlang B, C and A formulas and the staffing searches built on them.

Conventions
-----------
* Time is in minutes; ``arrival_rate`` (lambda) is citizens per minute, ``service_rate``
  (mu) is services per minute per counter (``1 / mean service minutes``) and
  ``abandon_rate`` (theta) is ``1 / mean patience minutes``.
* ``offered_load`` is ``a = lambda / mu`` in Erlangs.

Numerical method
----------------
No factorial or power is ever formed. Erlang B uses the recursion
``B(0) = 1, B(k) = a B(k-1) / (k + a B(k-1))``, which stays in ``[0, 1]`` for every ``k``;
Erlang C is derived from it. Erlang A (M/M/n+M) sums the stationary distribution of the
birth-death chain in log space, truncated where the terms fall below ``1e-30`` of the
largest; its service level uses the exact law of the offered wait given the queue seen
on arrival (see :class:`ErlangA`).

Unstable loads
--------------
Erlang C (M/M/n, no abandonment) has no steady state when ``a >= n``. The functions
here do **not** raise in that case; they return the limits consistently:
``erlang_c`` → ``1.0``, mean wait and mean queue length → ``math.inf``, service level
→ ``0.0``. Staffing searches therefore never pick ``n <= a`` for Erlang C. Erlang A is
stable for every load when ``abandon_rate > 0``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np
from scipy import special

__all__ = [
    "ErlangA",
    "erlang_a",
    "erlang_b",
    "erlang_c",
    "erlang_c_mean_queue_length",
    "erlang_c_mean_wait",
    "erlang_c_service_level",
    "halfin_whitt_beta",
    "occupancy",
    "rostered_staff",
    "square_root_staffing",
    "staff_for_abandonment",
    "staff_for_mean_wait",
    "staff_for_service_level",
]

_MAX_SERVERS = 1_000_000


def _check_load(servers: int, offered_load: float) -> None:
    if servers < 0 or int(servers) != servers:
        raise ValueError(f"servers must be a non-negative integer, got {servers!r}")
    if not offered_load >= 0 or math.isinf(offered_load):
        raise ValueError(f"offered load must be finite and >= 0, got {offered_load!r}")


def _check_rates(arrival_rate: float, service_rate: float) -> None:
    if not arrival_rate >= 0 or math.isinf(arrival_rate):
        raise ValueError(f"arrival rate must be finite and >= 0, got {arrival_rate!r}")
    if not service_rate > 0 or math.isinf(service_rate):
        raise ValueError(f"service rate must be finite and > 0, got {service_rate!r}")


def erlang_b(servers: int, offered_load: float) -> float:
    """Blocking probability of M/M/n/n (Erlang B), by the stable recursion."""
    _check_load(servers, offered_load)
    b = 1.0
    for k in range(1, int(servers) + 1):
        b = offered_load * b / (k + offered_load * b)
    return b


def _erlang_c_from_b(servers: int, offered_load: float, b: float) -> float:
    if offered_load >= servers:
        return 1.0
    return servers * b / (servers - offered_load * (1.0 - b))


def erlang_c(servers: int, offered_load: float) -> float:
    """Probability that an arrival waits in M/M/n (Erlang C).

    ``erlang_c(10, 8.0) == 0.4092...``. Returns ``1.0`` when ``offered_load >= servers``
    (no steady state: eventually everybody waits), ``0.0`` when the load is zero.
    """
    _check_load(servers, offered_load)
    if offered_load == 0:
        return 0.0
    if servers == 0:
        return 1.0
    return _erlang_c_from_b(servers, offered_load, erlang_b(servers, offered_load))


def occupancy(servers: int, arrival_rate: float, service_rate: float) -> float:
    """Share of time a counter is busy, ``lambda / (n mu)``, capped at 1."""
    _check_rates(arrival_rate, service_rate)
    if servers <= 0:
        return 1.0 if arrival_rate > 0 else 0.0
    return min(1.0, arrival_rate / (servers * service_rate))


def erlang_c_mean_wait(servers: int, arrival_rate: float, service_rate: float) -> float:
    """Mean time in queue over all arrivals in M/M/n: ``C / (n mu - lambda)``.

    ``math.inf`` when ``lambda >= n mu``.
    """
    _check_rates(arrival_rate, service_rate)
    a = arrival_rate / service_rate
    c = erlang_c(servers, a)
    if a >= servers:
        return math.inf if arrival_rate > 0 else 0.0
    return c / (servers * service_rate - arrival_rate)


def erlang_c_mean_queue_length(servers: int, arrival_rate: float, service_rate: float) -> float:
    """Mean number waiting in M/M/n (Little's law: ``lambda * Wq``)."""
    w = erlang_c_mean_wait(servers, arrival_rate, service_rate)
    return math.inf if math.isinf(w) else arrival_rate * w


def erlang_c_service_level(
    servers: int, arrival_rate: float, service_rate: float, t: float
) -> float:
    """``P(wait <= t)`` in M/M/n: ``1 - C exp(-(n mu - lambda) t)``; ``0.0`` when unstable."""
    _check_rates(arrival_rate, service_rate)
    if t < 0:
        raise ValueError("t must be >= 0")
    a = arrival_rate / service_rate
    if arrival_rate == 0:
        return 1.0
    if a >= servers:
        return 0.0
    c = erlang_c(servers, a)
    return 1.0 - c * math.exp(-(servers * service_rate - arrival_rate) * t)


# --------------------------------------------------------------------------- Erlang A


@dataclass(frozen=True)
class ErlangA:
    """Steady state of M/M/n+M (Erlang A): Poisson arrivals, exponential service and patience.

    Attributes are computed from the exact stationary distribution ``pi`` of the number in
    system ``k``: ``pi_k ∝ a^k / k!`` for ``k <= n`` and
    ``pi_{n+j} = pi_n prod_{i=1..j} lambda / (n mu + i theta)``.

    * ``p_wait`` – ``P(all counters busy on arrival) = sum_{k >= n} pi_k`` (PASTA);
    * ``mean_queue`` – ``E[(K - n)^+]``;
    * ``mean_wait`` – mean time in queue over all arrivals, including the time walk-aways
      spent before leaving: ``mean_queue / lambda`` (Little);
    * ``p_abandon`` – ``theta * mean_queue / lambda`` (rate balance of walk-aways).

    :meth:`service_level` uses the exact offered-wait law: an arrival that finds ``j``
    waiting moves up at rate ``n mu + i theta`` when ``i`` are ahead, so its offered wait
    ``V`` is a sum of exponentials with rates ``n mu + i theta``, ``i = 0..j``;
    ``1 - exp(-theta V)`` then has the Beta(j+1, c) law with ``c = n mu / theta``. The
    citizen is served within ``t`` when ``V <= t`` and its own patience exceeds ``V``:
    ``E[exp(-theta V); V <= t] = c / (j+1+c) * I_x(j+1, c+1)`` with
    ``x = 1 - exp(-theta t)`` and ``I`` the regularised incomplete beta function.
    """

    servers: int
    arrival_rate: float
    service_rate: float
    abandon_rate: float

    @cached_property
    def _distribution(self) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities of ``k < n`` (summed) and of ``j = 0, 1, ...`` waiting with ``k = n + j``.

        Returns ``(p_below, p_queue)`` where ``p_below`` is a length-1 array holding
        ``P(K < n)`` and ``p_queue[j] = P(K = n + j)``.
        """
        n, lam, mu, theta = self.servers, self.arrival_rate, self.service_rate, self.abandon_rate
        if lam == 0:
            return np.array([1.0]), np.zeros(1)
        a = lam / mu
        log_a = math.log(a)
        # log pi_k (unnormalised) for k = 0..n.
        k = np.arange(n + 1, dtype=float)
        log_low = k * log_a - special.gammaln(k + 1.0)
        # Tail k = n + j: increments log(lambda / (n mu + j theta)), j = 1, 2, ...
        tail: list[np.ndarray] = [np.array([log_low[-1]])]
        last = log_low[-1]
        peak = max(float(log_low.max()), last)
        start = 1
        chunk = max(256, n)
        while True:
            j = np.arange(start, start + chunk, dtype=float)
            steps = np.log(lam) - np.log(n * mu + j * theta)
            logs = last + np.cumsum(steps)
            tail.append(logs)
            peak = max(peak, float(logs.max()))
            last = float(logs[-1])
            start += chunk
            decreasing = steps[-1] < 0
            if decreasing and last < peak - 70.0:
                break
            if start > 50_000_000:  # pragma: no cover - needs absurd parameters
                raise ValueError("Erlang A state space too large")
        log_queue = np.concatenate(tail)
        log_norm = np.logaddexp(
            special.logsumexp(log_low[:-1]) if n > 0 else -np.inf,
            special.logsumexp(log_queue),
        )
        p_below = math.exp(special.logsumexp(log_low[:-1]) - log_norm) if n > 0 else 0.0
        p_queue = np.exp(log_queue - log_norm)
        cut = np.nonzero(p_queue > 1e-30 * p_queue.max())[0]
        p_queue = p_queue[: cut[-1] + 1]
        return np.array([p_below]), p_queue

    @cached_property
    def p_wait(self) -> float:
        """Probability that an arrival finds every counter busy."""
        return float(self._distribution[1].sum())

    @cached_property
    def mean_queue(self) -> float:
        """Mean number of citizens waiting."""
        p_queue = self._distribution[1]
        return float(np.dot(np.arange(p_queue.size), p_queue))

    @cached_property
    def mean_wait(self) -> float:
        """Mean time in queue over all arrivals (walk-aways count their time until leaving)."""
        if self.arrival_rate == 0:
            return 0.0
        return self.mean_queue / self.arrival_rate

    @cached_property
    def p_abandon(self) -> float:
        """Probability that an arrival walks away before service."""
        if self.arrival_rate == 0:
            return 0.0
        return self.abandon_rate * self.mean_queue / self.arrival_rate

    @cached_property
    def occupancy(self) -> float:
        """Share of time a counter is busy: ``lambda (1 - P(abandon)) / (n mu)``."""
        if self.servers == 0:
            return 0.0
        return self.arrival_rate * (1.0 - self.p_abandon) / (self.servers * self.service_rate)

    def service_level(self, t: float) -> float:
        """``P(served and wait <= t)``: walk-aways count as misses, whatever their wait."""
        if t < 0:
            raise ValueError("t must be >= 0")
        p_below = float(self._distribution[0][0])
        p_queue = self._distribution[1]
        if self.servers == 0:
            return 0.0
        n_mu = self.servers * self.service_rate
        theta = self.abandon_rate
        j = np.arange(p_queue.size, dtype=float)
        if theta == 0:
            # Offered wait is Erlang(j+1, n mu); nobody walks away.
            within = special.gammainc(j + 1.0, n_mu * t)
            return p_below + float(np.dot(p_queue, within))
        c = n_mu / theta
        x = -math.expm1(-theta * t)
        within = c / (j + 1.0 + c) * special.betainc(j + 1.0, c + 1.0, x)
        return p_below + float(np.dot(p_queue, within))

    def p_served(self) -> float:
        """Probability of eventually being served (``1 - p_abandon``)."""
        return 1.0 - self.p_abandon


def erlang_a(
    servers: int, arrival_rate: float, service_rate: float, abandon_rate: float
) -> ErlangA:
    """Steady state of M/M/n+M; see :class:`ErlangA`.

    With ``abandon_rate == 0`` and ``lambda < n mu`` it equals Erlang C; with
    ``abandon_rate == 0`` and ``lambda >= n mu`` it raises ``ValueError`` (no steady state).
    """
    _check_rates(arrival_rate, service_rate)
    if not abandon_rate >= 0 or math.isinf(abandon_rate):
        raise ValueError(f"abandon rate must be finite and >= 0, got {abandon_rate!r}")
    if servers < 0 or int(servers) != servers:
        raise ValueError("servers must be a non-negative integer")
    if abandon_rate == 0 and arrival_rate >= servers * service_rate and arrival_rate > 0:
        raise ValueError("M/M/n without abandonment is unstable at this load")
    return ErlangA(int(servers), float(arrival_rate), float(service_rate), float(abandon_rate))


# --------------------------------------------------------------------------- staffing


def halfin_whitt_beta(p_wait: float) -> float:
    """Square-root staffing parameter ``beta`` giving ``P(wait) ≈ p_wait`` (Halfin–Whitt).

    Solves ``(1 + beta Phi(beta) / phi(beta))^-1 = p_wait`` for ``beta > 0``.
    """
    if not 0 < p_wait < 1:
        raise ValueError("p_wait must be in (0, 1)")
    return _halfin_whitt_beta(float(p_wait))


@lru_cache(maxsize=1024)
def _halfin_whitt_beta(p_wait: float) -> float:
    def gap(beta: float) -> float:
        cdf = 0.5 * math.erfc(-beta / math.sqrt(2.0))
        pdf = math.exp(-0.5 * beta * beta) / math.sqrt(2.0 * math.pi)
        return 1.0 / (1.0 + beta * cdf / pdf) - p_wait

    lo, hi = 1e-9, 1.0
    while gap(hi) > 0:
        hi *= 2.0
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        if gap(mid) > 0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def square_root_staffing(offered_load: float, beta: float) -> int:
    """First guess ``ceil(a + beta sqrt(a))`` counters (square-root staffing rule)."""
    if offered_load < 0:
        raise ValueError("offered load must be >= 0")
    return max(0, math.ceil(offered_load + beta * math.sqrt(offered_load) - 1e-9))


def rostered_staff(required: int, shrinkage: float) -> int:
    """Counters to roster so that ``required`` are at work: ``ceil(required / (1 - s))``.

    ``shrinkage`` is the share of paid time lost to breaks, absence and training.
    A relative tolerance of 1e-9 keeps ``8 / 0.8`` at 10 rather than 11.
    """
    if not 0 <= shrinkage < 1:
        raise ValueError("shrinkage must be in [0, 1)")
    if required < 0:
        raise ValueError("required must be >= 0")
    value = required / (1.0 - shrinkage)
    return math.ceil(value * (1.0 - 1e-12) - 1e-9)


def _min_servers(meets: Callable[[int], bool], guess: int, lower: int) -> int:
    """Smallest ``n >= lower`` with ``meets(n)``, ``meets`` monotone, searching from ``guess``."""
    n = max(lower, guess)
    if meets(n):
        while n > lower and meets(n - 1):
            n -= 1
        return n
    step = 1
    while not meets(n + step):
        n += step
        step *= 2
        if n > _MAX_SERVERS:
            raise ValueError("target cannot be met with a sensible number of servers")
    lo, hi = n, n + step  # meets(hi), not meets(lo)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if meets(mid):
            hi = mid
        else:
            lo = mid
    return hi


def _guess(arrival_rate: float, service_rate: float, beta: float = 0.5) -> int:
    return square_root_staffing(arrival_rate / service_rate, beta)


def staff_for_service_level(
    arrival_rate: float,
    service_rate: float,
    t: float,
    target: float,
    abandon_rate: float | None = None,
) -> int:
    """Smallest number of counters with ``P(wait <= t) >= target``.

    Erlang C when ``abandon_rate`` is ``None`` (or 0): the answer is always ``> a``.
    Erlang A otherwise, where the service level counts walk-aways as misses
    (``P(served and wait <= t)``); targets above ``1`` are rejected.
    """
    _check_rates(arrival_rate, service_rate)
    if not 0 <= target <= 1:
        raise ValueError("target must be in [0, 1]")
    if arrival_rate == 0:
        return 0
    a = arrival_rate / service_rate
    if not abandon_rate:
        if target >= 1 and t == 0:
            raise ValueError("P(wait <= 0) = 1 needs infinitely many servers")
        lower = math.floor(a) + 1

        def meets_c(n: int) -> bool:
            return erlang_c_service_level(n, arrival_rate, service_rate, t) >= target

        beta = halfin_whitt_beta(min(max(1.0 - target, 1e-6), 0.999999))
        return _min_servers(meets_c, square_root_staffing(a, beta), lower)
    theta = abandon_rate
    if target >= 1:
        raise ValueError("with walk-aways a service level of 1 is unreachable")

    def meets_a(n: int) -> bool:
        return erlang_a(n, arrival_rate, service_rate, theta).service_level(t) >= target

    return _min_servers(meets_a, _guess(arrival_rate, service_rate, 0.0), 1)


def staff_for_mean_wait(
    arrival_rate: float,
    service_rate: float,
    max_mean_wait: float,
    abandon_rate: float | None = None,
) -> int:
    """Smallest number of counters whose mean time in queue is ``<= max_mean_wait`` minutes."""
    _check_rates(arrival_rate, service_rate)
    if max_mean_wait < 0:
        raise ValueError("max_mean_wait must be >= 0")
    if arrival_rate == 0:
        return 0
    a = arrival_rate / service_rate
    if not abandon_rate:
        if max_mean_wait == 0:
            raise ValueError("a zero mean wait needs infinitely many servers")

        def meets_c(n: int) -> bool:
            return erlang_c_mean_wait(n, arrival_rate, service_rate) <= max_mean_wait

        return _min_servers(meets_c, _guess(arrival_rate, service_rate), math.floor(a) + 1)
    theta = abandon_rate

    def meets_a(n: int) -> bool:
        return erlang_a(n, arrival_rate, service_rate, theta).mean_wait <= max_mean_wait

    return _min_servers(meets_a, _guess(arrival_rate, service_rate, 0.0), 1)


def staff_for_abandonment(
    arrival_rate: float,
    service_rate: float,
    abandon_rate: float,
    max_p_abandon: float,
) -> int:
    """Smallest number of counters with ``P(abandon) <= max_p_abandon`` in Erlang A."""
    _check_rates(arrival_rate, service_rate)
    if not abandon_rate > 0:
        raise ValueError("abandon_rate must be > 0")
    if not 0 < max_p_abandon <= 1:
        raise ValueError("max_p_abandon must be in (0, 1]")
    if arrival_rate == 0:
        return 0

    def meets(n: int) -> bool:
        return erlang_a(n, arrival_rate, service_rate, abandon_rate).p_abandon <= max_p_abandon

    return _min_servers(meets, _guess(arrival_rate, service_rate, 0.0), 0)
