"""Wait-predictor evaluation on simulated days.

For each scenario some *training* days are simulated first; the service rate, the
service-time coefficient of variation and the walk-away rate are learned from them with
:func:`onestop.queueing.estimate.learned_service_rate`,
:func:`~onestop.queueing.estimate.learned_service_cv` and
:func:`~onestop.queueing.estimate.learned_abandon_rate` (what a live centre learns from
its history). *Test* days are then simulated with those learned values announced to
every citizen, and each predictor is scored against the waits citizens actually had.

Predictors of the mean wait of a walk-in who finds every counter of the group busy
(citizens served at once are left out: every predictor would say 0):

* ``LES`` – wait of the last citizen of the group who entered service;
* ``HOL`` – current wait of the citizen at the head of the queue (0 if the queue is
  empty);
* ``QL`` – ``(ahead + 1) / (n mu)`` with ``n`` the counters open now;
* ``QL_m`` – :func:`~onestop.queueing.estimate.estimate_wait` with the learned walk-away
  rate (queue length with walk-aways);
* ``default`` – :func:`~onestop.queueing.estimate.estimate_wait_roster` with the roster
  from now on, the learned rates and the learned service cv: the estimate the centre
  announces;
* ``learned`` – least squares on the training days over the features
  ``(1, QL_m, default, HOL, LES)``.

With ``oracle_samples > 0`` (the bench's ``--oracle``), scenarios with one group, a
constant roster and nobody walking away also get an ``oracle`` row: the exact
conditional mean wait given everything the queue can know at the arrival – the number
ahead, the elapsed service times of the citizens in service, and the *true* service-time
law – by Monte Carlo (:func:`oracle_means`). No predictor built on that information can
have a lower RMSE (beyond Monte Carlo noise), so it bounds what the default could gain.

Scores: RMSE and mean absolute error over served citizens who had to wait (the actual
wait of a walk-away is censored), their relative gain over QL and LES, and for the
predictors with a P95 the share of those citizens whose wait exceeded it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy import stats

from onestop.planning.simulator import (
    CounterSpec,
    DayResult,
    GroupSpec,
    SimConfig,
    roster_from,
    simulate_days,
    walk_in_roster,
)
from onestop.queueing.estimate import (
    estimate_wait,
    estimate_wait_roster,
    learned_abandon_rate,
    learned_service_cv,
    learned_service_rate,
)

__all__ = [
    "PREDICTORS",
    "Scenario",
    "evaluate_days",
    "evaluate_scenario",
    "format_report",
    "learn_rates",
    "oracle_means",
    "scenarios",
    "with_patience",
]

PREDICTORS = ("LES", "HOL", "QL", "QL_m", "default", "learned")


@dataclass(frozen=True)
class Scenario:
    """A test bed: a day configuration and the targets it is judged against."""

    name: str
    description: str
    config: SimConfig
    stationary: bool = False


def _counters(n: int, **kw: Any) -> tuple[CounterSpec, ...]:
    return tuple(CounterSpec(f"c{i + 1}", {"A": 1}, **kw) for i in range(n))


def scenarios(hours: int = 8, service_minutes: float = 10.0) -> dict[str, Scenario]:
    """The five evaluation scenarios (10 counters, one group, ``hours``-hour days).

    * ``stationary`` – M/M/10 at load 0.9;
    * ``patience`` – M/M/10+M at load 1.2, mean patience 30 minutes;
    * ``lognormal`` – load 0.9, lognormal services with cv 0.6;
    * ``swing`` – exponential services, arrivals swinging ±40 % (one sine period over
      the day, 15-minute steps) around load 0.9;
    * ``lunch`` – load 0.75 on 10 counters, 4 of them at lunch from 3.5 h to 5 h, 2 of
      these off after lunch: counters go 10 → 6 → 8.
    """
    mu = 1.0 / service_minutes
    per_hour = 60.0 * mu  # arrivals per hour for one Erlang
    day = 60.0 * hours

    def group(load: float, **kw: Any) -> GroupSpec:
        spec: dict[str, Any] = {"service_dist": "exponential"} | kw
        return GroupSpec("A", (10 * load * per_hour,) * hours, service_minutes, **spec)

    steps = int(day // 15)
    mid = (np.arange(steps) + 0.5) * 15.0
    swing_rates = tuple(10 * 0.9 * per_hour * (1 + 0.4 * np.sin(2 * np.pi * mid / day)))
    lunch_start, lunch_end = 3.5 * 60, 5.0 * 60
    lunch = (
        _counters(4)
        + _counters(4, breaks=((lunch_start, lunch_end),))
        + _counters(2, shifts=((0.0, lunch_start),))
    )
    lunch = tuple(replace(c, name=f"c{i + 1}") for i, c in enumerate(lunch))
    return {
        "stationary": Scenario(
            "stationary",
            "M/M/10, load 0.9",
            SimConfig((group(0.9),), _counters(10)),
            stationary=True,
        ),
        "patience": Scenario(
            "patience",
            "M/M/10+M, load 1.2, patience 30 min",
            SimConfig((group(1.2, patience_mean=30.0),), _counters(10)),
        ),
        "lognormal": Scenario(
            "lognormal",
            "lognormal service (cv 0.6), load 0.9, 10 counters",
            SimConfig((group(0.9, service_dist="lognormal", service_cv=0.6),), _counters(10)),
        ),
        "swing": Scenario(
            "swing",
            "arrivals ±40 % over the day around load 0.9, 10 counters",
            SimConfig(
                (GroupSpec("A", swing_rates, service_minutes, service_dist="exponential"),),
                _counters(10),
                period_minutes=15.0,
            ),
        ),
        "lunch": Scenario(
            "lunch",
            "load 7.5 Erlangs, counters 10 → 6 (lunch) → 8",
            SimConfig((group(0.75),), lunch),
        ),
    }


def with_patience(scenario: Scenario, patience: float = 30.0) -> Scenario:
    """The same scenario with exponential patience added to every group."""
    groups = tuple(replace(g, patience_mean=patience) for g in scenario.config.groups)
    return Scenario(
        scenario.name + "+patience",
        scenario.description + f", patience {patience:g} min",
        replace(scenario.config, groups=groups),
        scenario.stationary,
    )


def learn_rates(
    config: SimConfig, days: Sequence[DayResult]
) -> dict[str, tuple[float, float, float]]:
    """``(service rate, walk-away rate, service cv)`` per group learned from ``days``."""
    out: dict[str, tuple[float, float, float]] = {}
    for gi, g in enumerate(config.groups):
        durations: list[np.ndarray] = []
        abandoned = 0
        exposure = 0.0
        for day in days:
            r = day.records
            mine = r["group"] == gi
            served = mine & r["served"]
            durations.append(r["service"][served])
            gone = mine & r["abandoned"]
            abandoned += int(gone.sum())
            queued = mine & (r["served"] | r["abandoned"])
            exposure += float(np.nansum(r["wait"][queued]))
        all_durations = np.concatenate(durations) if durations else np.zeros(0)
        mu = learned_service_rate(all_durations.tolist(), g.service_mean)
        theta = learned_abandon_rate(abandoned, exposure)
        out[g.code] = (mu, theta, learned_service_cv(all_durations.tolist()))
    return out


def _delayed(day: DayResult) -> np.ndarray:
    """Walk-ins who found no free counter of their group (announced a non-zero wait)."""
    r = day.records
    return ~r["booked"] & (r["est_mean"] > 0)


def _features(
    day: DayResult, rates: Mapping[str, tuple[float, float, float]]
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Predictions (mean and P95) for delayed walk-ins of a day, their waits, and a mask.

    Returns ``(means, p95s, actual, served)`` over the delayed walk-ins (citizens who
    found no free counter), ``served`` telling which of them were served.
    """
    config = day.config
    r = day.records
    delayed = _delayed(day)
    times, counts = walk_in_roster(config)
    idx = np.nonzero(delayed)[0]
    group = r["group"][idx]
    ahead = r["ahead"][idx]
    servers = np.maximum(r["servers"][idx], 1)
    issued = r["issued"][idx]
    codes = [g.code for g in config.groups]
    mu = np.array([rates[codes[g]][0] for g in group])
    theta = np.array([rates[codes[g]][1] for g in group])
    cv = np.array([rates[codes[g]][2] for g in group])
    means: dict[str, np.ndarray] = {}
    p95s: dict[str, np.ndarray] = {}
    means["LES"] = np.nan_to_num(r["les"][idx], nan=0.0)
    means["HOL"] = np.nan_to_num(r["hol"][idx], nan=0.0)
    means["QL"] = (ahead + 1) / (servers * mu)
    ql_m = np.empty(idx.size)
    ql_p95 = np.empty(idx.size)
    ql_m_p95 = np.empty(idx.size)
    d_mean = np.empty(idx.size)
    d_p95 = np.empty(idx.size)
    for k in range(idx.size):
        a, n, m, th = int(ahead[k]), int(servers[k]), float(mu[k]), float(theta[k])
        est = estimate_wait(a, n, m, th)
        ql_m[k], ql_m_p95[k] = est.mean, est.p95
        ql_p95[k] = estimate_wait(a, n, m, 0.0).p95
        g = int(group[k])
        roster = roster_from(times[g], counts[g], float(issued[k]))
        dest = estimate_wait_roster(a, roster, m, th, service_cv=float(cv[k]))
        d_mean[k], d_p95[k] = dest.mean, dest.p95
    means["QL_m"] = ql_m
    means["default"] = d_mean
    p95s["QL"] = ql_p95
    p95s["QL_m"] = ql_m_p95
    p95s["default"] = d_p95
    return means, p95s, r["wait"][idx], r["served"][idx]


def _residual_sampler(group: GroupSpec) -> Any:
    """``(elapsed, rng, size) -> residual service times`` of services already ``elapsed`` long."""
    mean = group.service_mean
    if group.service_dist == "exponential":
        return lambda elapsed, rng, size: rng.exponential(mean, (size, elapsed.size))
    sigma = math.sqrt(math.log1p(group.service_cv**2))
    law = stats.lognorm(sigma, scale=mean * math.exp(-(sigma**2) / 2))

    def sample(elapsed: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
        done = law.cdf(elapsed)  # S | S > e by inversion of the distribution function
        u = done + (1.0 - done) * rng.random((size, elapsed.size))
        return np.maximum(law.ppf(u) - elapsed, 0.0)

    return sample


def _service_sampler(group: GroupSpec) -> Any:
    mean = group.service_mean
    if group.service_dist == "exponential":
        return lambda rng, size: rng.exponential(mean, size)
    sigma = math.sqrt(math.log1p(group.service_cv**2))
    return lambda rng, size: rng.lognormal(math.log(mean) - sigma**2 / 2, sigma, size)


def oracle_eligible(config: SimConfig) -> bool:
    """One group, one constant step of counters, nobody walks away, no bookings."""
    times, _ = walk_in_roster(config)
    return (
        len(config.groups) == 1
        and config.groups[0].patience_mean is None
        and config.bookings is None
        and len(times[0]) == 1
    )


def oracle_means(day: DayResult, samples: int = 400, seed: int = 0) -> np.ndarray:
    """Conditional mean wait of each delayed walk-in given the state at arrival (Monte Carlo).

    For a day of an :func:`oracle_eligible` configuration: the citizens in service finish
    after residual times drawn from the true service law given their elapsed times, then
    every counter keeps serving the queue first come first served; the citizen is called
    at the ``ahead + 1``-th completion. ``samples`` draws per citizen.
    """
    config = day.config
    group = config.groups[0]
    residual = _residual_sampler(group)
    service = _service_sampler(group)
    rng = np.random.default_rng(seed)
    r = day.records
    idx = np.nonzero(~r["booked"] & (r["est_mean"] > 0))[0]
    out = np.empty(idx.size)
    rows = np.arange(samples)
    for k, i in enumerate(idx):
        elapsed = r["elapsed"][i]
        elapsed = elapsed[~np.isnan(elapsed)]
        free = residual(elapsed, rng, samples)
        for _ in range(int(r["ahead"][i])):
            first = np.argmin(free, axis=1)
            free[rows, first] += service(rng, samples)
        out[k] = float(free.min(axis=1).mean())
    return out


def _design(means: Mapping[str, np.ndarray]) -> np.ndarray:
    n = means["QL"].size
    return np.column_stack(
        [np.ones(n), means["QL_m"], means["default"], means["HOL"], means["LES"]]
    )


def evaluate_days(
    train: Sequence[DayResult],
    test: Sequence[DayResult],
    rates: Mapping[str, tuple[float, float, float]],
) -> dict[str, Any]:
    """Score every predictor on the ``test`` days (the learned one is fitted on ``train``)."""
    tr = [_features(d, rates) for d in train]
    x_train = np.vstack([_design(m) for m, _, _, _ in tr]) if tr else np.zeros((0, 5))
    y_train = np.concatenate([a for _, _, a, _ in tr]) if tr else np.zeros(0)
    s_train = np.concatenate([s for _, _, _, s in tr]) if tr else np.zeros(0, bool)
    coef = None
    if s_train.sum() >= 10:
        coef, *_ = np.linalg.lstsq(x_train[s_train], y_train[s_train], rcond=None)
    te = [_features(d, rates) for d in test]
    means = {k: np.concatenate([m[k] for m, _, _, _ in te]) for k in PREDICTORS if k != "learned"}
    p95s = {k: np.concatenate([p[k] for _, p, _, _ in te]) for k in ("QL", "QL_m", "default")}
    actual = np.concatenate([a for _, _, a, _ in te])
    served = np.concatenate([s for _, _, _, s in te])
    if coef is not None:
        means["learned"] = _design(means) @ coef
    y = actual[served]
    rows: dict[str, dict[str, float]] = {}
    for name, pred in means.items():
        err = pred[served] - y
        rows[name] = {
            "rmse": float(np.sqrt(np.mean(err**2))) if err.size else math.nan,
            "mae": float(np.mean(np.abs(err))) if err.size else math.nan,
            "bias": float(np.mean(err)) if err.size else math.nan,
            "p95_exceeded": float(np.mean(y > p95s[name][served]))
            if name in p95s and err.size
            else math.nan,
            # Walk-aways who left after their P95 had passed certainly exceeded it.
            "p95_exceeded_all": float(np.mean(actual > p95s[name]))
            if name in p95s and actual.size
            else math.nan,
        }
    ql, les = rows["QL"]["rmse"], rows["LES"]["rmse"]
    for row in rows.values():
        row["gain_vs_QL"] = 1.0 - row["rmse"] / ql if ql > 0 else math.nan
        row["gain_vs_LES"] = 1.0 - row["rmse"] / les if les > 0 else math.nan
    abandoned_delayed = int((~served).sum())
    return {
        "rows": rows,
        "citizens": int(served.sum()),
        "walk_aways": abandoned_delayed,
        "mean_wait": float(y.mean()) if y.size else math.nan,
        "rates": {k: list(v) for k, v in rates.items()},
        "coef": coef.tolist() if coef is not None else None,
    }


def evaluate_scenario(
    scenario: Scenario,
    train_days: int = 10,
    test_days: int = 40,
    seed: int = 0,
    workers: int | None = None,
    oracle_samples: int = 0,
) -> dict[str, Any]:
    """Simulate, learn, announce and score one scenario; see the module documentation.

    The result has ``rows`` (predictor → rmse, mae, bias, p95_exceeded, gain_vs_QL,
    gain_vs_LES), ``citizens`` scored, ``targets`` (each target → met or not) and the
    learned ``rates``. The announced estimates recorded by the simulator on the test days
    are the ``default`` predictor (checked in ``announced_matches_default``).
    """
    ss = np.random.SeedSequence(seed)
    train_seed, test_seed = (int(s.generate_state(1)[0]) for s in ss.spawn(2))
    train = simulate_days(scenario.config, train_days, train_seed, workers)
    rates = learn_rates(scenario.config, train)
    announced = replace(
        scenario.config,
        announce_rates={k: (v[0], v[1]) for k, v in rates.items()},
        announce_cv={k: v[2] for k, v in rates.items()},
    )
    test = simulate_days(announced, test_days, test_seed, workers)
    out = evaluate_days(train, test, rates)
    # The simulator's own announcements are the default predictor.
    first = test[0].records
    recorded = first["est_mean"][~first["booked"] & (first["est_mean"] > 0)]
    recomputed = _features(test[0], rates)[0]["default"]
    out["announced_matches_default"] = bool(np.allclose(recorded, recomputed, rtol=1e-9, atol=1e-9))
    rows = out["rows"]
    if oracle_samples > 0 and oracle_eligible(scenario.config):
        pred = np.concatenate([oracle_means(d, oracle_samples, seed) for d in test])
        served = np.concatenate([d.records["served"][_delayed(d)] for d in test])
        actual = np.concatenate([d.records["wait"][_delayed(d)] for d in test])
        err = pred[served] - actual[served]
        rmse = float(np.sqrt(np.mean(err**2)))
        rows["oracle"] = {
            "rmse": rmse,
            "mae": float(np.mean(np.abs(err))),
            "bias": float(np.mean(err)),
            "p95_exceeded": math.nan,
            "p95_exceeded_all": math.nan,
            "gain_vs_QL": 1.0 - rmse / rows["QL"]["rmse"],
            "gain_vs_LES": 1.0 - rmse / rows["LES"]["rmse"],
        }
    best = min(rows[k]["rmse"] for k in ("LES", "HOL", "QL", "QL_m"))
    d = rows["default"]
    if scenario.stationary:
        targets = {
            "default within 3% of best (QL)": d["rmse"] <= 1.03 * best,
            "default >= 30% better than LES": d["gain_vs_LES"] >= 0.30,
        }
    else:
        targets = {
            "default >= 15% better than QL": d["gain_vs_QL"] >= 0.15,
            "default >= 30% better than LES": d["gain_vs_LES"] >= 0.30,
        }
    targets["P95 exceeded by 5% ± 1.5%"] = abs(d["p95_exceeded"] - 0.05) <= 0.015
    out["targets"] = targets
    out["scenario"] = scenario.name
    out["description"] = scenario.description
    return out


def format_report(results: Sequence[Mapping[str, Any]]) -> str:
    """Markdown tables of :func:`evaluate_scenario` results."""
    lines: list[str] = []
    for res in results:
        lines.append(f"### {res['scenario']}: {res['description']}")
        lines.append("")
        rates = ", ".join(
            f"{k}: mu={v[0]:.4f}, theta={v[1]:.4f}, cv={v[2]:.3f}" for k, v in res["rates"].items()
        )
        lines.append(
            f"{res['citizens']} served citizens who waited; mean wait {res['mean_wait']:.2f} min; "
            f"learned rates {rates}"
        )
        lines.append("")
        lines.append(
            "| predictor | RMSE | MAE | bias | vs QL | vs LES | > P95 (served) | > P95 (all) |"
        )
        lines.append("|---|---:|---:|---:|---:|---:|---:|---:|")
        for name, row in res["rows"].items():
            p95 = "" if math.isnan(row["p95_exceeded"]) else f"{row['p95_exceeded']:.1%}"
            p95_all = (
                "" if math.isnan(row["p95_exceeded_all"]) else f"{row['p95_exceeded_all']:.1%}"
            )
            lines.append(
                f"| {name} | {row['rmse']:.2f} | {row['mae']:.2f} | {row['bias']:+.2f} | "
                f"{row['gain_vs_QL']:+.1%} | {row['gain_vs_LES']:+.1%} | {p95} | {p95_all} |"
            )
        lines.append("")
        for target, met in res["targets"].items():
            lines.append(f"- {target}: {'met' if met else '**missed**'}")
        lines.append("")
    return "\n".join(lines)
