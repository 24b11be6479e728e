"""Planning benchmarks and validation figures.

    .venv/bin/python bench/planning/run.py                 # everything
    .venv/bin/python bench/planning/run.py speed           # simulator speed only
    .venv/bin/python bench/planning/run.py validation --replications 30
    .venv/bin/python bench/planning/run.py timevarying policies

Sections:

* ``speed`` – one 10-hour day of a 30-counter centre with about 2,000 citizens (median
  of several runs), then 100 replications of it on ``--workers`` processes;
* ``validation`` – simulated M/M/n, M/M/n+M and two-class strict priority against
  Erlang C, Erlang A and Cobham's formula (95 % t-intervals over replications);
* ``timevarying`` – share of minutes missing ``P(wait) <= 0.2`` under plain SIPP, lagged
  SIPP and the modified-offered-load plan (exact transient), 60-minute services,
  arrivals ±50 % over a 12-hour day;
* ``policies`` – booking and priority policy tables.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from onestop.planning import erlang  # noqa: E402
from onestop.planning.policies import (  # noqa: E402
    booking_policy_comparison,
    format_table,
    priority_policy_comparison,
)
from onestop.planning.simulator import (  # noqa: E402
    CounterSpec,
    GroupSpec,
    SimConfig,
    run_replications,
    simulate,
    summarise,
)
from onestop.planning.timevarying import (  # noqa: E402
    ServiceLaw,
    Target,
    lagged_sipp_plan,
    mol_offered_load,
    sipp_plan,
    staff_minutes,
    transient_p_wait,
)
from onestop.queueing.routing import RoutingParams  # noqa: E402


def centre_day() -> SimConfig:
    """10 hours, 4 groups, 30 counters with mixed skills and staggered lunch breaks.

    About 2,000 citizens a day (midday peak), lognormal services, 12 % priority citizens,
    patience 45 minutes.
    """
    shape = np.array([0.6, 0.9, 1.2, 1.3, 1.1, 1.0, 1.1, 1.2, 0.9, 0.7])
    shape = shape / shape.mean()
    volumes = {"ID": 700, "TAX": 500, "SOC": 450, "REG": 350}
    service = {"ID": 6.0, "TAX": 8.0, "SOC": 9.0, "REG": 10.0}
    groups = tuple(
        GroupSpec(
            code,
            tuple(volumes[code] / 10 * shape),
            service[code],
            service_cv=0.7,
            priority_share=0.12,
            patience_mean=45.0,
        )
        for code in volumes
    )
    skills = (
        [{"ID": 1, "TAX": 2}] * 8
        + [{"TAX": 1, "SOC": 2}] * 7
        + [{"SOC": 1, "REG": 2}] * 7
        + [{"REG": 1, "ID": 2}] * 6
        + [{"ID": 1, "TAX": 1, "SOC": 1, "REG": 1}] * 2
    )
    counters = []
    for i, groups_of in enumerate(skills):
        lunch = 180.0 + 30.0 * (i % 4)
        counters.append(CounterSpec(f"c{i + 1}", groups_of, breaks=((lunch, lunch + 30.0),)))
    return SimConfig(groups, tuple(counters))


def machine() -> str:
    return f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}"


def speed(args: argparse.Namespace) -> None:
    cfg = centre_day()
    simulate(cfg, 0)  # warm imports
    times, sizes = [], []
    for seed in range(args.repeat):
        t0 = time.perf_counter()
        day = simulate(cfg, seed)
        times.append(time.perf_counter() - t0)
        sizes.append(day.records["arrival"].size)
    k = day.kpis()
    print(f"## speed ({machine()})")
    print(
        f"one day: {len(cfg.counters)} counters, {statistics.mean(sizes):.0f} citizens on average, "
        f"median {statistics.median(times):.3f} s, max {max(times):.3f} s over {args.repeat} days"
    )
    print(
        f"  last day: mean wait {k['mean_wait']:.1f} min, P90 {k['p90_wait']:.1f}, "
        f"P(abandon) {k['p_abandon']:.1%}, utilisation {k['utilisation']:.1%}"
    )
    t0 = time.perf_counter()
    runs = run_replications(cfg, 100, seed=1, workers=args.workers, progress=None)
    elapsed = time.perf_counter() - t0
    s = summarise(runs)
    print(f"100 replications on {args.workers} workers: {elapsed:.1f} s")
    for key in ("mean_wait", "p90_wait", "p_abandon", "utilisation"):
        v = s[key]
        print(f"  {key}: {v['mean']:.4f} [{v['low']:.4f}, {v['high']:.4f}]")


def _check(label: str, summary: dict, key: str, value: float) -> str:
    v = summary[key]
    inside = v["low"] <= value <= v["high"]
    return (
        f"| {label} | {key} | {value:.4f} | {v['mean']:.4f} | [{v['low']:.4f}, {v['high']:.4f}] "
        f"| {'yes' if inside else 'no'} |"
    )


def validation(args: argparse.Namespace) -> None:
    mu = 1 / 5
    reps, hours = args.replications, args.hours

    def model(n, lam, patience=None, share=0.0, k=3):
        group = GroupSpec(
            "A",
            (lam * 60,) * hours,
            1 / mu,
            service_dist="exponential",
            patience_mean=patience,
            priority_share=share,
        )
        counters = tuple(CounterSpec(f"c{i}", {"A": 1}) for i in range(n))
        return SimConfig(
            (group,), counters, routing=RoutingParams(max_priority_overtakes=k), warmup=120
        )

    print(f"## validation ({reps} replications of {hours} h, exponential 5-minute services)")
    print("| model | KPI | theory | simulated | 95 % CI | inside |")
    print("|---|---|---:|---:|---|---|")
    t0 = time.perf_counter()
    n, lam = 10, 0.85 * 10 * mu
    s = summarise(run_replications(model(n, lam), reps, seed=11, workers=args.workers))
    print(_check("M/M/10, rho 0.85", s, "p_wait", erlang.erlang_c(n, lam / mu)))
    print(_check("M/M/10, rho 0.85", s, "mean_wait_all", erlang.erlang_c_mean_wait(n, lam, mu)))
    print(f"|  | P95 exceeded | 0.05 | {s['p95_exceeded']['mean']:.4f} | | |")
    lam, theta = 1.15 * 10 * mu, 1 / 30
    s = summarise(run_replications(model(n, lam, 1 / theta), reps, seed=12, workers=args.workers))
    ref = erlang.erlang_a(n, lam, mu, theta)
    label = "M/M/10+M, load 1.15, patience 30"
    print(_check(label, s, "p_wait", ref.p_wait))
    print(_check(label, s, "p_abandon", ref.p_abandon))
    print(_check(label, s, "mean_wait_all", ref.mean_wait))
    n, rho, share = 5, 0.85, 0.3
    lam = rho * n * mu
    s = summarise(
        run_replications(model(n, lam, share=share, k=10**9), reps, seed=13, workers=args.workers)
    )
    c = erlang.erlang_c(n, lam / mu)
    sigma1 = share * lam / (n * mu)
    label = "M/M/5 strict priority, 30 % priority"
    print(_check(label, s, "priority_mean_wait", c / (n * mu * (1 - sigma1))))
    print(_check(label, s, "regular_mean_wait", c / (n * mu * (1 - sigma1) * (1 - rho))))
    day = simulate(model(10, 0.85 * 10 * mu), 1)
    r = day.records
    queue_time = np.where(r["served"], r["start"], r["end"]) - r["issued"]
    little_l = day.queue_area / day.horizon
    little_rhs = r["issued"].size / day.horizon * queue_time.mean()
    print(f"\nLittle's law on one run: L = {little_l:.4f}, lambda W = {little_rhs:.4f}")
    print(f"({time.perf_counter() - t0:.1f} s)")


def timevarying(args: argparse.Namespace) -> None:
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
    load_m = mol_offered_load(lam(np.arange(minutes) + 0.5), ServiceLaw(mean_service))
    mol_minutes = staff_minutes(load_m, mu, target)
    mol_hourly = np.array([mol_minutes[h * 60 : (h + 1) * 60].max() for h in range(minutes // 60)])
    plans = {
        "SIPP (hourly)": np.repeat(sipp_plan(hourly, mean_service, target), 60),
        "lagged SIPP (hourly)": np.repeat(lagged_sipp_plan(hourly, mean_service, target), 60),
        "MOL (per minute)": mol_minutes,
        "MOL (hourly max)": np.repeat(mol_hourly, 60),
    }
    print("## time-varying staffing: 60-min services, arrivals ±50 % over 12 h, P(wait) <= 0.2")
    print("| plan | minutes missing target | worst P(wait) | counter-hours |")
    print("|---|---:|---:|---:|")
    for name, plan in plans.items():
        p, _ = transient_p_wait(lam, plan, mu, dt=0.25)
        tail = p[day:]
        print(
            f"| {name} | {np.mean(tail > 0.2 + 1e-9):.1%} | {tail.max():.3f} "
            f"| {plan[day:].sum() / 60:.0f} |"
        )


def policies(args: argparse.Namespace) -> None:
    reps = args.replications
    print(f"## booking policies ({reps} days each, common random numbers)")
    print(
        format_table(
            booking_policy_comparison(reps, seed=2, workers=args.workers),
            [
                "no_show_rate",
                "idle_no_show_minutes",
                "booked_mean_wait",
                "walk_in_mean_wait",
                "walk_in_p90_wait",
            ],
        )
    )
    print(f"\n## priority rules ({reps} days each)")
    print(
        format_table(
            priority_policy_comparison(reps, seed=3, workers=args.workers),
            ["priority_mean_wait", "priority_p99_wait", "regular_mean_wait", "regular_p99_wait"],
        )
    )


SECTIONS = {
    "speed": speed,
    "validation": validation,
    "timevarying": timevarying,
    "policies": policies,
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("sections", nargs="*", help=f"any of {', '.join(SECTIONS)} (default: all)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--replications", type=int, default=40)
    parser.add_argument("--hours", type=int, default=100, help="length of a validation run")
    parser.add_argument("--repeat", type=int, default=10, help="days timed one by one")
    args = parser.parse_args()
    unknown = set(args.sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    for name in args.sections or list(SECTIONS):
        SECTIONS[name](args)
        print()


if __name__ == "__main__":
    main()
