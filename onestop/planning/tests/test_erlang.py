"""Erlang B/C/A formulas and staffing searches against exact and textbook values."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onestop.planning import erlang as e


def exact_erlang_c(n: int, a: Fraction) -> Fraction:
    """Erlang C by direct summation in exact rational arithmetic."""
    terms = [Fraction(1)]
    for k in range(1, n + 1):
        terms.append(terms[-1] * a / k)
    top = terms[n] * n / (n - a)
    return top / (sum(terms[:n]) + top)


def direct_erlang_a(n: int, lam: float, mu: float, theta: float, cap: int = 4000):
    """Stationary M/M/n+M by plain summation of the birth-death chain (independent check)."""
    weights = [1.0]
    for k in range(1, cap):
        death = min(k, n) * mu + max(k - n, 0) * theta
        weights.append(weights[-1] * lam / death)
    total = sum(weights)
    pi = [w / total for w in weights]
    p_wait = sum(pi[n:])
    queue = sum((k - n) * pi[k] for k in range(n, cap))
    return p_wait, queue / lam, theta * queue / lam


def test_textbook_erlang_c():
    assert round(e.erlang_c(10, 8.0), 4) == 0.4092
    assert round(e.erlang_b(5, 3.0), 4) == 0.1101
    # Mean wait for 10 counters, 8 Erlangs, 5-minute service: C / (n mu - lambda).
    lam, mu = 8 / 5, 1 / 5
    assert e.erlang_c_mean_wait(10, lam, mu) == pytest.approx(0.4091801507964 / (2 - 1.6))
    assert e.erlang_c_mean_queue_length(10, lam, mu) == pytest.approx(lam * 1.02295037699)
    assert e.occupancy(10, lam, mu) == pytest.approx(0.8)


@pytest.mark.parametrize(
    ("n", "a"),
    [
        (1, Fraction(1, 2)),
        (2, Fraction(3, 2)),
        (3, Fraction(5, 2)),
        (5, Fraction(4)),
        (7, Fraction(13, 3)),
        (12, Fraction(11)),
        (20, Fraction(35, 2)),
    ],
)
def test_erlang_c_matches_exact_rational_sum(n, a):
    assert e.erlang_c(n, float(a)) == pytest.approx(float(exact_erlang_c(n, a)), rel=1e-12)


def test_large_load_is_finite_and_accurate():
    c = e.erlang_c(1050, 1000.0)
    assert math.isfinite(c) and 0 < c < 1
    # Exact rational sum is affordable at this size and confirms every digit we print.
    assert c == pytest.approx(float(exact_erlang_c(1050, Fraction(1000))), rel=1e-10)
    sl = e.erlang_c_service_level(1050, 1000 / 5, 1 / 5, 0.5)
    assert 0 < sl < 1
    a = e.erlang_a(1050, 1000 / 5, 1 / 5, 1 / 30)
    assert math.isfinite(a.mean_wait) and 0 < a.p_wait < 1


def test_unstable_erlang_c_returns_limits():
    assert e.erlang_c(5, 5.0) == 1.0
    assert e.erlang_c(5, 7.0) == 1.0
    assert e.erlang_c_mean_wait(5, 7.0, 1.0) == math.inf
    assert e.erlang_c_mean_queue_length(5, 7.0, 1.0) == math.inf
    assert e.erlang_c_service_level(5, 7.0, 1.0, 10.0) == 0.0
    with pytest.raises(ValueError):
        e.erlang_a(5, 7.0, 1.0, 0.0)
    with pytest.raises(ValueError):
        e.erlang_c(-1, 1.0)


def test_erlang_c_service_level_formula():
    lam, mu, n, t = 1.6, 0.2, 10, 2.0
    c = e.erlang_c(n, lam / mu)
    assert e.erlang_c_service_level(n, lam, mu, t) == pytest.approx(
        1 - c * math.exp(-(n * mu - lam) * t)
    )


@pytest.mark.parametrize(
    ("n", "lam", "mu", "theta"),
    [(1, 0.8, 1.0, 0.5), (3, 4.0, 1.0, 0.25), (10, 12 / 5, 1 / 5, 1 / 30), (10, 1.6, 0.2, 0.1)],
)
def test_erlang_a_matches_direct_summation(n, lam, mu, theta):
    p_wait, mean_wait, p_abandon = direct_erlang_a(n, lam, mu, theta)
    a = e.erlang_a(n, lam, mu, theta)
    assert a.p_wait == pytest.approx(p_wait, rel=1e-9)
    assert a.mean_wait == pytest.approx(mean_wait, rel=1e-9)
    assert a.p_abandon == pytest.approx(p_abandon, rel=1e-9)
    assert 0 < a.occupancy < 1


def test_erlang_a_service_level_matches_tagged_customer_chain():
    # Independent check of the Beta-law formula: follow a tagged arrival through the
    # absorbing chain "j ahead -> j-1 ahead (rate n mu + j theta) | walk away (rate theta)"
    # with a matrix exponential.
    import numpy as np
    from scipy.linalg import expm

    n, lam, mu, theta, t = 2, 2.2, 1.0, 0.3, 1.7
    a = e.erlang_a(n, lam, mu, theta)
    pi = a._distribution[1]
    size = pi.size
    served, gone = size, size + 1
    q = np.zeros((size + 2, size + 2))
    for j in range(size):
        down = n * mu + j * theta
        q[j, j - 1 if j > 0 else served] += down
        q[j, gone] += theta
        q[j, j] -= down + theta
    start = np.zeros(size + 2)
    start[:size] = pi
    p_t = start @ expm(q * t)
    expected = (1.0 - pi.sum()) + p_t[served]
    assert a.service_level(t) == pytest.approx(expected, rel=1e-9)


def test_erlang_a_tends_to_erlang_c():
    n, lam, mu = 10, 1.6, 0.2
    c = e.erlang_c(n, lam / mu)
    w = e.erlang_c_mean_wait(n, lam, mu)
    for theta in (1e-4, 1e-6, 1e-8):
        a = e.erlang_a(n, lam, mu, theta)
        assert a.p_wait == pytest.approx(c, rel=10 * theta + 1e-9)
        assert a.mean_wait == pytest.approx(w, rel=100 * theta + 1e-9)
        assert a.service_level(2.0) == pytest.approx(
            e.erlang_c_service_level(n, lam, mu, 2.0), rel=10 * theta + 1e-9
        )
    assert e.erlang_a(n, lam, mu, 0.0).service_level(2.0) == pytest.approx(
        e.erlang_c_service_level(n, lam, mu, 2.0), rel=1e-12
    )


def test_erlang_a_is_stable_when_overloaded():
    a = e.erlang_a(10, 3.0, 0.2, 1 / 30)  # 15 Erlangs on 10 counters
    assert 0.3 < a.p_abandon < 0.5
    assert a.p_wait > 0.99
    assert 0 <= a.service_level(0.0) <= a.service_level(1.0) <= a.service_level(100) <= 1
    assert a.service_level(1e6) == pytest.approx(1 - a.p_abandon, rel=1e-9)


@pytest.mark.parametrize("target", [0.5, 0.8, 0.9, 0.95])
@pytest.mark.parametrize("load", [0.5, 8.0, 40.0, 400.0])
def test_staff_for_service_level_is_minimal(target, load):
    mu = 1 / 12
    lam = load * mu
    t = 5.0
    n = e.staff_for_service_level(lam, mu, t, target)
    assert e.erlang_c_service_level(n, lam, mu, t) >= target
    assert n - 1 <= load or e.erlang_c_service_level(n - 1, lam, mu, t) < target
    theta = 1 / 20
    m = e.staff_for_service_level(lam, mu, t, target, abandon_rate=theta)
    assert e.erlang_a(m, lam, mu, theta).service_level(t) >= target
    assert m == 1 or e.erlang_a(m - 1, lam, mu, theta).service_level(t) < target
    assert m <= n  # walk-aways free capacity


def test_staff_for_mean_wait_and_abandonment_are_minimal():
    lam, mu, theta = 2.0, 0.1, 1 / 15
    n = e.staff_for_mean_wait(lam, mu, 2.0)
    assert e.erlang_c_mean_wait(n, lam, mu) <= 2.0 < e.erlang_c_mean_wait(n - 1, lam, mu)
    m = e.staff_for_mean_wait(lam, mu, 2.0, abandon_rate=theta)
    assert (
        e.erlang_a(m, lam, mu, theta).mean_wait <= 2.0 < e.erlang_a(m - 1, lam, mu, theta).mean_wait
    )
    k = e.staff_for_abandonment(lam, mu, theta, 0.03)
    assert (
        e.erlang_a(k, lam, mu, theta).p_abandon
        <= 0.03
        < e.erlang_a(k - 1, lam, mu, theta).p_abandon
    )


def test_square_root_staffing_and_shrinkage():
    beta = e.halfin_whitt_beta(0.2)
    assert 1.0 < beta < 1.1  # Halfin-Whitt: P(wait)=0.2 at beta ≈ 1.06
    n = e.square_root_staffing(100.0, beta)
    assert n == math.ceil(100 + beta * 10)
    assert abs(e.erlang_c(n, 100.0) - 0.2) < 0.03  # a good first guess
    assert e.rostered_staff(8, 0.2) == 10
    assert e.rostered_staff(9, 0.2) == 12
    assert e.rostered_staff(0, 0.3) == 0
    with pytest.raises(ValueError):
        e.rostered_staff(5, 1.0)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=60),
    rho=st.floats(min_value=0.05, max_value=0.99),
    t=st.floats(min_value=0.0, max_value=30.0),
)
def test_service_level_monotone_in_servers(n, rho, t):
    mu = 0.1
    lam = rho * n * mu
    assert (
        e.erlang_c_service_level(n + 1, lam, mu, t)
        >= e.erlang_c_service_level(n, lam, mu, t) - 1e-12
    )
    assert e.erlang_c(n + 1, lam / mu) <= e.erlang_c(n, lam / mu) + 1e-12
