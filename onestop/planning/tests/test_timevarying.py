"""Time-varying staffing: SIPP vs modified offered load, judged by the exact transient."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import integrate

from onestop.planning import erlang
from onestop.planning.api import plan_day
from onestop.planning.timevarying import (
    ServiceLaw,
    Target,
    lagged_sipp_plan,
    mol_offered_load,
    mol_plan,
    per_minute_rates,
    sipp_plan,
    staff_minutes,
    transient_p_wait,
)


def test_target_parsing():
    assert Target.parse(0.2) == Target("p_wait", 0.2, 0.0)
    assert Target.parse("80/10") == Target("service_level", 0.8, 10.0)
    assert Target.parse("mean<=5") == Target("mean_wait", 5.0, 0.0)
    assert Target.parse({"kind": "abandon", "value": 0.05}).kind == "abandon"
    with pytest.raises(ValueError):
        Target("p_wait", 1.5)
    with pytest.raises(ValueError):
        Target.parse("abandon<=0.05").servers(1.0, 0.1)
    assert Target.parse(0.2).servers(8 / 5, 1 / 5) == erlang.staff_for_service_level(
        8 / 5, 1 / 5, 0.0, 0.8
    )


def test_offered_load_matches_its_differential_equation():
    # Exponential services: m' = lambda(t) - mu m, m(0) = 0.
    lam = per_minute_rates([30, 60, 90, 40], 60)
    load = mol_offered_load(lam, ServiceLaw(20.0))
    sol = integrate.solve_ivp(
        lambda t, m: [lam[min(int(t), lam.size - 1)] - m[0] / 20.0],
        (0, lam.size),
        [0.0],
        t_eval=np.arange(1, lam.size + 1),
        max_step=0.5,
        rtol=1e-8,
        atol=1e-10,
    )
    np.testing.assert_allclose(load, sol.y[0], rtol=2e-3, atol=1e-3)
    # Long constant demand: the load tends to lambda E[S] whatever the law.
    const = np.full(2000, 0.5)
    for law in (
        ServiceLaw(20.0),
        ServiceLaw(20.0, "lognormal", 0.5),
        ServiceLaw(20.0, "deterministic"),
    ):
        assert mol_offered_load(const, law)[-1] == pytest.approx(10.0, rel=1e-3)


def test_lognormal_expected_min():
    law = ServiceLaw(12.0, "lognormal", 0.8)
    sigma = math.sqrt(math.log1p(0.8**2))
    mu = math.log(12.0) - sigma**2 / 2
    from scipy import stats

    dist = stats.lognorm(s=sigma, scale=math.exp(mu))
    for x in (1.0, 12.0, 40.0):
        value, _ = integrate.quad(dist.sf, 0, x)
        assert law.expected_min(np.array([x]))[0] == pytest.approx(value, rel=1e-6)


def test_transient_reaches_erlang_c():
    n, lam, mu = 8, 1.2, 0.2
    p, final = transient_p_wait(np.full(600, lam), np.full(600, n), mu)
    assert p[-1] == pytest.approx(erlang.erlang_c(n, lam / mu), abs=1e-4)
    assert final.sum() == pytest.approx(1.0)


def test_mol_holds_target_where_sipp_fails():
    """60-minute services, arrivals ±50 % over a 12-hour day, P(wait) <= 0.2.

    Two identical days are integrated; the second (periodic regime) is judged minute by
    minute with the exact M(t)/M/s(t) transient.
    """
    day, mean_service, load = 720, 60.0, 50.0
    mu = 1 / mean_service

    def lam(t):
        return load * mu * (1 + 0.5 * np.sin(2 * np.pi * np.asarray(t) / day))

    minutes = 2 * day
    hourly = [
        60 * float(np.mean(lam(np.arange(h * 60, (h + 1) * 60) + 0.5)))
        for h in range(minutes // 60)
    ]
    target = Target("p_wait", 0.2, 0.0)
    sipp = np.repeat(sipp_plan(hourly, mean_service, target), 60)
    load_m = mol_offered_load(lam(np.arange(minutes) + 0.5), ServiceLaw(mean_service))
    mol = staff_minutes(load_m, mu, target)
    misses = {}
    for name, plan in (("sipp", sipp), ("mol", mol)):
        p, _ = transient_p_wait(lam, plan, mu, dt=0.25)
        misses[name] = float(np.mean(p[day:] > 0.2 + 1e-9))
    assert misses["sipp"] > 0.25
    assert misses["mol"] < 0.10
    # MOL does it with about the same counter-minutes.
    assert mol[day:].sum() <= 1.02 * sipp[day:].sum()


def test_period_plans():
    rates = [30, 60, 90, 60, 30]
    target = Target("service_level", 0.8, 5.0)
    sipp = sipp_plan(rates, 15.0, target)
    lagged = lagged_sipp_plan(rates, 15.0, target)
    plan, per_minute, load = mol_plan(rates, ServiceLaw(15.0), target)
    assert len(sipp) == len(lagged) == len(plan) == 5 and per_minute.size == load.size == 300
    assert plan[0] <= sipp[0]  # the hall starts empty
    assert max(plan) >= max(sipp) - 1
    assert all(p == per_minute[k * 60 : (k + 1) * 60].max() for k, p in enumerate(plan))


def test_plan_day_rows():
    rows = plan_day({"A": [20, 40, 60, 40], "B": [10, 10, 10, 10]}, {"A": 12, "B": 20}, "80/10", 9)
    assert [r["hour"] for r in rows] == [9, 10, 11, 12] * 2
    assert {r["group"] for r in rows} == {"A", "B"}
    json.dumps(rows)
    for r in rows:
        assert r["counters"] >= 0 and r["sipp_counters"] >= 0
        if r["counters"] and r["offered_load"] > 0:
            assert r["service_level"] >= 0.8 - 1e-9 or r["offered_load"] < r["counters"]
    peak = max(rows[:4], key=lambda r: r["counters"])
    assert peak["hour"] in (11, 12)
    with_walkaways = plan_day({"A": [60, 60]}, {"A": 12}, 0.3, 9, abandon_rate=1 / 20)
    assert with_walkaways[1]["p_abandon"] > 0
    assert (
        with_walkaways[1]["counters"] <= plan_day({"A": [60, 60]}, {"A": 12}, 0.3, 9)[1]["counters"]
    )
    with pytest.raises(ValueError):
        plan_day({"A": [1]}, {}, 0.2, 9)
