"""Simulator: reproducibility, bookkeeping and validation against queueing theory."""

from __future__ import annotations

import math

import numpy as np
import pytest

from onestop.planning import erlang
from onestop.planning.simulator import (
    BookingPolicy,
    BookingSpec,
    CounterSpec,
    GroupSpec,
    SimConfig,
    run_replications,
    simulate,
    summarise,
)
from onestop.queueing.routing import RoutingParams

MU = 1 / 5  # 5-minute exponential services in the validation models


def stationary(
    servers: int,
    arrival_rate: float,
    hours: int,
    patience: float | None = None,
    priority_share: float = 0.0,
    routing: RoutingParams | None = None,
) -> SimConfig:
    """M/M/n(+M) with a constant arrival rate (per minute) for ``hours`` hours."""
    return SimConfig(
        groups=(
            GroupSpec(
                "A",
                (arrival_rate * 60,) * hours,
                1 / MU,
                service_dist="exponential",
                patience_mean=patience,
                priority_share=priority_share,
            ),
        ),
        counters=tuple(CounterSpec(f"c{i}", {"A": 1}) for i in range(servers)),
        routing=routing or RoutingParams(),
        warmup=120.0,
    )


def assert_in_ci(summary, key, value):
    s = summary[key]
    assert s["low"] <= value <= s["high"], (
        f"{key}: {value:.4f} not in [{s['low']:.4f}, {s['high']:.4f}]"
    )


def small_day(**kw) -> SimConfig:
    groups = (
        GroupSpec("A", (30, 40, 50, 30), 8.0, service_cv=0.7, priority_share=0.1, patience_mean=40),
        GroupSpec("B", (10, 10, 20, 10), 15.0, service_cv=1.2),
    )
    counters = (
        CounterSpec("1", {"A": 1}, breaks=((100, 130),)),
        CounterSpec("2", {"A": 1, "B": 2}),
        CounterSpec("3", {"A": 1}, shifts=((0, 120),)),
        CounterSpec("4", {"B": 1, "A": 2}, shifts=((60, 240),)),
        CounterSpec("5", {"A": 1}),
        CounterSpec("6", {"B": 1}),
    )
    return SimConfig(groups=groups, counters=counters, **kw)


def test_same_seed_same_day_and_workers_do_not_matter():
    cfg = small_day()
    a, b = simulate(cfg, 7), simulate(cfg, 7)
    for key in a.records:
        np.testing.assert_array_equal(a.records[key], b.records[key])
    assert not np.array_equal(simulate(cfg, 8).records["arrival"], a.records["arrival"])
    one = run_replications(cfg, 4, seed=3, workers=1, progress=False)
    two = run_replications(cfg, 4, seed=3, workers=2, progress=False)
    np.testing.assert_equal(one, two)  # NaN-aware


def test_day_bookkeeping():
    cfg = small_day()
    day = simulate(cfg, 11)
    r = day.records
    served, gone = r["served"], r["abandoned"]
    assert (served | gone).all()  # the centre drains its queue after closing
    assert not (served & gone).any()
    assert (r["wait"][served] >= -1e-9).all()
    np.testing.assert_allclose(r["end"][served] - r["start"][served], r["service"][served])
    # No counter serves a group it lacks, or starts a service while off.
    for idx, spec in enumerate(cfg.counters):
        mine = served & (r["counter"] == idx)
        codes = {cfg.groups[g].code for g in r["group"][mine]}
        assert codes <= set(spec.groups)
        starts = r["start"][mine]
        for a, b in spec.breaks:
            assert not ((starts > a) & (starts < b)).any()
        for a, b in spec.shifts:
            # A counter whose shift lasts until closing drains the queue afterwards.
            last = math.inf if b >= cfg.close else b
            assert ((starts >= a) & (starts <= last + 1e-9)).all()
        # One citizen at a time.
        order = np.argsort(starts)
        assert (r["start"][mine][order][1:] >= r["end"][mine][order][:-1] - 1e-9).all()
    # Everyone who waited was announced an estimate; immediate service announces zero.
    walk = ~r["booked"]
    waited = walk & (r["wait"] > 1e-9)
    assert np.isfinite(r["est_p95"][waited]).all() and (r["est_p95"][waited] > 0).all()
    k = day.kpis()
    assert 0 < k["utilisation"] <= 1
    assert k["arrivals"] == r["arrival"].size
    assert k["mean_wait"] <= k["p99_wait"]


def test_littles_law_on_a_run():
    day = simulate(small_day(), 5)
    r = day.records
    time_in_queue = np.where(r["served"], r["start"], r["end"]) - r["issued"]
    lam = r["issued"].size / day.horizon
    assert day.queue_area / day.horizon == pytest.approx(lam * time_in_queue.mean(), rel=0.01)


def test_mmn_matches_erlang_c():
    n, lam = 10, 0.85 * 10 * MU
    runs = run_replications(stationary(n, lam, 60), 12, seed=101, workers=2, progress=False)
    s = summarise(runs)
    assert_in_ci(s, "p_wait", erlang.erlang_c(n, lam / MU))
    assert_in_ci(s, "mean_wait_all", erlang.erlang_c_mean_wait(n, lam, MU))
    assert s["p_abandon"]["mean"] == 0
    # The announced P95 is exact for this model: about 5 % of waiting citizens exceed it.
    assert 0.035 <= s["p95_exceeded"]["mean"] <= 0.065


def test_mmn_plus_m_matches_erlang_a():
    n, lam, theta = 10, 1.15 * 10 * MU, 1 / 30
    runs = run_replications(
        stationary(n, lam, 30, patience=1 / theta), 12, seed=202, workers=2, progress=False
    )
    s = summarise(runs)
    ref = erlang.erlang_a(n, lam, MU, theta)
    assert_in_ci(s, "p_wait", ref.p_wait)
    assert_in_ci(s, "p_abandon", ref.p_abandon)
    assert_in_ci(s, "mean_wait_all", ref.mean_wait)


def test_strict_priority_matches_cobham():
    n, rho, share = 5, 0.85, 0.3
    lam = rho * n * MU
    strict = RoutingParams(max_priority_overtakes=10**9)
    cfg = stationary(n, lam, 60, priority_share=share, routing=strict)
    s = summarise(run_replications(cfg, 12, seed=303, workers=2, progress=False))
    c = erlang.erlang_c(n, lam / MU)
    sigma1 = share * lam / (n * MU)
    w_priority = c / (n * MU * (1 - sigma1))
    w_regular = c / (n * MU * (1 - sigma1) * (1 - rho))
    assert_in_ci(s, "priority_mean_wait", w_priority)
    assert_in_ci(s, "regular_mean_wait", w_regular)


def test_bookings_no_shows_and_policies():
    spec = BookingSpec(slot_minutes=15, no_show_base=0.15, no_show_per_day=0.02, lead_days_mean=6)
    groups = (GroupSpec("A", (40,) * 8, 12.0, service_cv=0.6),)
    counters = tuple(
        CounterSpec(f"b{i}", {"A": 1}, booking_blocks=((0, 240), (300, 480))) for i in range(3)
    ) + tuple(CounterSpec(f"w{i}", {"A": 1}) for i in range(6))
    base = SimConfig(groups=groups, counters=counters, bookings=spec)
    day = simulate(base, 1)
    assert day.bookings_made == 3 * (16 + 12)
    assert 0.15 <= spec.expected_no_show() <= 0.35
    k = day.kpis()
    assert k["idle_no_show_minutes"] > 0
    # Do nothing: booking counters never serve walk-ins inside booking blocks.
    r = day.records
    on_booking = np.isin(r["counter"], [0, 1, 2])
    inside = (r["start"] < 240) | ((r["start"] >= 300) & (r["start"] < 480))
    assert not (on_booking & inside & ~r["booked"]).any()
    # Standby walk-ins fill released slots and cut the idle time caused by no-shows.
    policy = BookingPolicy(grace=5.0, standby=True, overbook_first=1)
    other = simulate(
        SimConfig(groups=groups, counters=counters, bookings=spec, booking_policy=policy), 1
    )
    assert other.bookings_made == day.bookings_made + 3 * 2
    assert other.kpis()["idle_no_show_minutes"] < k["idle_no_show_minutes"]
    # Common random numbers: the walk-ins are the same citizens under both policies.
    walk_a = day.records["arrival"][~day.records["booked"]]
    walk_b = other.records["arrival"][~other.records["booked"]]
    np.testing.assert_array_equal(np.sort(walk_a), np.sort(walk_b))


def test_from_dict_and_summary_are_plain():
    cfg = SimConfig.from_dict(
        {
            "groups": [{"code": "A", "arrivals_per_hour": [20, 30], "service_mean": 10}],
            "counters": [{"name": "c", "count": 4, "groups": {"A": 1}, "breaks": [[50, 60]]}],
            "routing": {"max_priority_overtakes": 2},
        }
    )
    assert len(cfg.counters) == 4 and cfg.counters[0].breaks == ((50.0, 60.0),)
    assert cfg.close == 120
    s = summarise(run_replications(cfg, 3, seed=1, workers=1, progress=False))
    assert all(isinstance(v, float) for kpi in s.values() for v in kpi.values())
    assert math.isnan(summarise([{"x": 1.0}])["x"]["half_width"])


def test_simulate_day_is_strict_json():
    import json

    from onestop.planning.api import simulate_day

    out = simulate_day(
        {
            "groups": [
                {
                    "code": "A",
                    "arrivals_per_hour": [30, 40],
                    "service_mean": 10,
                    "priority_share": 0.1,
                }
            ],
            "counters": [{"count": 6, "groups": {"A": 1}}],
        },
        replications=3,
        seed=5,
        workers=1,
    )
    text = json.dumps(out, allow_nan=False)
    assert out["kpis"]["mean_wait"]["low"] <= out["kpis"]["mean_wait"]["mean"]
    assert out["kpis"]["booked_mean_wait"]["mean"] is None
    assert json.loads(text)["replications"] == 3
