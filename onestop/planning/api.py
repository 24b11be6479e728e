"""Entry points for the CLI and the web page: :func:`plan_day` and :func:`simulate_day`.

Both take and return plain JSON-compatible values.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from onestop.planning import erlang
from onestop.planning.simulator import SimConfig, run_replications, summarise
from onestop.planning.timevarying import ServiceLaw, Target, mol_plan, sipp_plan

__all__ = ["plan_day", "simulate_day"]


def _theta(abandon_rate: float | Mapping[str, float] | None, group: str) -> float | None:
    if abandon_rate is None:
        return None
    if isinstance(abandon_rate, Mapping):
        value = abandon_rate.get(group)
        return float(value) if value else None
    return float(abandon_rate) or None


def plan_day(
    profile: Mapping[str, Sequence[float]],
    service_minutes: Mapping[str, float],
    target: Target | float | str | Mapping[str, Any],
    open_hour: int,
    abandon_rate: float | Mapping[str, float] | None = None,
) -> list[dict[str, Any]]:
    """Counters needed per group and opening hour to hold ``target`` all day.

    Args:
        profile: Group code → expected walk-ins for each opening hour, in order
            (``profile["A"][0]`` is the hour starting at ``open_hour``).
        service_minutes: Group code → mean service time in minutes.
        target: A :class:`~onestop.planning.timevarying.Target` or anything
            :meth:`Target.parse` reads: ``0.2`` (at most 20 % wait at all), ``"80/10"``
            (80 % called within 10 minutes), ``"mean<=5"``, ``"abandon<=0.05"``, or
            ``{"kind": ..., "value": ..., "within": ...}``.
        open_hour: Clock hour of the first hour of ``profile`` (e.g. 9).
        abandon_rate: Walk-away rate per waiting minute (``1 / mean patience``), one
            number or one per group; ``None`` plans with Erlang C (nobody walks away),
            otherwise with Erlang A.

    Returns:
        One row per group and hour, in profile order: ``group``, ``hour`` (clock hour),
        ``arrivals``, ``offered_load`` (modified offered load, the mean over the hour, in
        Erlangs), ``counters`` (the plan: the modified-offered-load requirement, the
        largest over the hour's minutes), ``sipp_counters`` (plain SIPP, for comparison),
        and at ``counters`` with the hour's load: ``p_wait``, ``mean_wait`` (minutes),
        ``service_level`` (``P(wait <= within)`` for a service-level target, else
        ``None``) and ``p_abandon`` (0 without walk-aways). Services are taken as
        exponential and the centre as empty at opening.
    """
    goal = Target.parse(target)
    missing = set(profile) - set(service_minutes)
    if missing:
        raise ValueError(f"no service time for groups {sorted(missing)}")
    rows: list[dict[str, Any]] = []
    for group, rates in profile.items():
        minutes = float(service_minutes[group])
        if not minutes > 0:
            raise ValueError(f"service time of {group} must be > 0")
        theta = _theta(abandon_rate, group)
        plan, _, load = mol_plan(list(rates), ServiceLaw(minutes), goal, 60.0, theta)
        sipp = sipp_plan(list(rates), minutes, goal, theta)
        mu = 1.0 / minutes
        for k, arrivals in enumerate(rates):
            counters = plan[k]
            hour_load = float(load[k * 60 : (k + 1) * 60].mean())
            lam = hour_load * mu
            row: dict[str, Any] = {
                "group": group,
                "hour": open_hour + k,
                "arrivals": float(arrivals),
                "offered_load": round(hour_load, 4),
                "counters": int(counters),
                "sipp_counters": int(sipp[k]),
            }
            row.update(_kpis(counters, lam, mu, theta, goal))
            rows.append(row)
    return rows


def _kpis(
    counters: int, lam: float, mu: float, theta: float | None, goal: Target
) -> dict[str, Any]:
    within = goal.within if goal.kind == "service_level" else None
    if lam <= 0:
        return {
            "p_wait": 0.0,
            "mean_wait": 0.0,
            "service_level": 1.0 if within is not None else None,
            "p_abandon": 0.0,
        }
    if counters == 0:
        return {
            "p_wait": 1.0,
            "mean_wait": None,
            "service_level": 0.0 if within is not None else None,
            "p_abandon": None,
        }
    if theta:
        a = erlang.erlang_a(counters, lam, mu, theta)
        return {
            "p_wait": round(a.p_wait, 4),
            "mean_wait": round(a.mean_wait, 3),
            "service_level": round(a.service_level(within), 4) if within is not None else None,
            "p_abandon": round(a.p_abandon, 4),
        }
    mean_wait = erlang.erlang_c_mean_wait(counters, lam, mu)
    return {
        "p_wait": round(erlang.erlang_c(counters, lam / mu), 4),
        "mean_wait": round(mean_wait, 3) if math.isfinite(mean_wait) else None,
        "service_level": round(erlang.erlang_c_service_level(counters, lam, mu, within), 4)
        if within is not None
        else None,
        "p_abandon": 0.0,
    }


def simulate_day(
    config: SimConfig | Mapping[str, Any],
    replications: int = 20,
    seed: int = 0,
    workers: int | None = None,
) -> dict[str, Any]:
    """Simulate ``replications`` independent days and return KPIs with 95 % intervals.

    Args:
        config: A :class:`~onestop.planning.simulator.SimConfig` or its JSON form (see
            :meth:`SimConfig.from_dict`): ``groups`` (code, arrivals_per_hour, service_mean,
            service_cv, service_dist, priority_share, patience_mean), ``counters``
            (name, count, groups {code: level}, shifts, breaks, booking_blocks), and
            optionally ``period_minutes``, ``routing``, ``bookings``, ``booking_policy``,
            ``warmup``, ``drain``. Times in minutes from opening.
        replications: Number of simulated days.
        seed: Seed of the whole experiment (same seed, same figures).
        workers: Worker processes (default: CPU count; 1 = in this process).

    Returns:
        ``{"replications", "seed", "kpis": {name: {"mean", "low", "high",
        "half_width", "n"}}}``; KPIs are listed in
        :func:`onestop.planning.simulator.compute_kpis`. Non-finite values (a KPI without
        data, an interval from a single day) are ``None``, so the result is strict JSON.
    """
    cfg = config if isinstance(config, SimConfig) else SimConfig.from_dict(config)
    runs = run_replications(cfg, replications, seed, workers, progress=False)
    summary = summarise(runs)
    clean = {
        key: {k: (v if math.isfinite(v) else None) for k, v in stats.items()}
        for key, stats in summary.items()
    }
    return {"replications": replications, "seed": seed, "kpis": clean}
