"""Policy comparisons on simulated centre days.

Every policy of a comparison is run on the same replication seeds, so the citizens,
their service times and (for bookings) who fails to come are the same under each policy
(common random numbers); differences are the policies' doing.

* :func:`booking_policy_comparison` – bookings with 25–29 % no-shows. *Do nothing*: a
  booking counter keeps each slot for its booking. *Grace + standby*: an absent booking
  is a no-show after a grace window, the slot is released to walk-ins waiting for the
  booking counter's group (standby), and a late booking queues as a walk-in.
  *+ overbooking*: additionally one extra booking on the first slot of each block.
  Reported: counter idle time inside no-show slots, booked citizens' mean wait (from
  the slot start), walk-ins' mean and P90 wait.
* :func:`priority_policy_comparison` – priority citizens under FCFS (``k = 0``),
  bounded overtaking (``k = 3``, the default rule) and strict priority (``k`` unbounded):
  mean and P99 wait of priority and regular citizens.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from onestop.planning.simulator import (
    BookingPolicy,
    BookingSpec,
    CounterSpec,
    GroupSpec,
    SimConfig,
    run_replications,
    summarise,
)

__all__ = [
    "BOOKING_POLICIES",
    "booking_centre",
    "booking_policy_comparison",
    "format_table",
    "priority_centre",
    "priority_policy_comparison",
]

BOOKING_POLICIES: dict[str, BookingPolicy] = {
    "do nothing": BookingPolicy(),
    "grace 5 min + standby": BookingPolicy(grace=5.0, standby=True),
    "grace 5 min + standby + overbook first slot": BookingPolicy(
        grace=5.0, standby=True, overbook_first=1
    ),
}

STRICT = 10**9


def booking_centre() -> SimConfig:
    """An 8-hour hall: 4 booking counters (15-minute slots, 09–13 and 14–17 in minutes
    0–240 and 300–480) and 6 walk-in counters for one group; services lognormal, mean
    12 minutes, cv 0.6; walk-ins 27 an hour; about 27 % no-shows growing with lead time.
    """
    group = GroupSpec("A", (27.0,) * 8, 12.0, service_cv=0.6, patience_mean=60.0)
    blocks = ((0.0, 240.0), (300.0, 480.0))
    counters = tuple(
        CounterSpec(f"book{i + 1}", {"A": 1}, booking_blocks=blocks) for i in range(4)
    ) + tuple(CounterSpec(f"walk{i + 1}", {"A": 1}) for i in range(6))
    spec = BookingSpec(
        slot_minutes=15.0, no_show_base=0.15, no_show_per_day=0.02, lead_days_mean=6.0
    )
    return SimConfig((group,), counters, bookings=spec)


def priority_centre() -> SimConfig:
    """An 8-hour hall, one group on 8 counters at load 0.92, 20 % priority citizens."""
    group = GroupSpec("A", (0.92 * 8 * 6.0,) * 8, 10.0, service_cv=0.8, priority_share=0.2)
    counters = tuple(CounterSpec(f"c{i + 1}", {"A": 1}) for i in range(8))
    return SimConfig((group,), counters)


def _row(
    name: str, summary: Mapping[str, Mapping[str, float]], keys: Sequence[str]
) -> dict[str, Any]:
    row: dict[str, Any] = {"policy": name}
    for key in keys:
        row[key] = summary[key]["mean"]
        row[key + "_ci"] = summary[key]["half_width"]
    return row


def booking_policy_comparison(
    replications: int = 40,
    seed: int = 0,
    workers: int | None = None,
    config: SimConfig | None = None,
    policies: Mapping[str, BookingPolicy] | None = None,
) -> list[dict[str, Any]]:
    """One row per booking policy: KPI means and 95 % CI half-widths (``<kpi>_ci``).

    KPIs: ``no_show_rate``, ``idle_no_show_minutes`` (summed over counters, per day),
    ``idle_minutes``, ``booked_mean_wait``, ``walk_in_mean_wait``, ``walk_in_p90_wait``,
    ``p_abandon``.
    """
    base = config or booking_centre()
    keys = (
        "no_show_rate",
        "idle_no_show_minutes",
        "idle_minutes",
        "booked_mean_wait",
        "walk_in_mean_wait",
        "walk_in_p90_wait",
        "p_abandon",
    )
    rows = []
    for name, policy in (policies or BOOKING_POLICIES).items():
        cfg = replace(base, booking_policy=policy)
        runs = run_replications(cfg, replications, seed, workers)
        rows.append(_row(name, summarise(runs), keys))
    return rows


def priority_policy_comparison(
    replications: int = 40,
    seed: int = 0,
    workers: int | None = None,
    config: SimConfig | None = None,
    bounded: int = 3,
) -> list[dict[str, Any]]:
    """One row per priority rule (FCFS, bounded overtaking, strict): waits per class."""
    base = config or priority_centre()
    keys = (
        "priority_mean_wait",
        "priority_p99_wait",
        "regular_mean_wait",
        "regular_p99_wait",
        "mean_wait",
    )
    rows = []
    for name, k in (
        ("FCFS", 0),
        (f"bounded overtaking (k={bounded})", bounded),
        ("strict priority", STRICT),
    ):
        routing = replace(base.routing, max_priority_overtakes=k)
        cfg = replace(base, routing=routing)
        runs = run_replications(cfg, replications, seed, workers)
        rows.append(_row(name, summarise(runs), keys))
    return rows


def format_table(rows: Sequence[Mapping[str, Any]], keys: Sequence[str] | None = None) -> str:
    """Markdown table of comparison rows, ``mean ± half-width`` per KPI."""
    if not rows:
        return ""
    if keys is None:
        keys = [k for k in rows[0] if k != "policy" and not k.endswith("_ci")]
    head = "| policy | " + " | ".join(keys) + " |"
    rule = "|---|" + "---:|" * len(keys)
    lines = [head, rule]
    for row in rows:
        cells = []
        for key in keys:
            value, half = row[key], row.get(key + "_ci")
            pct = key in ("no_show_rate", "p_abandon")
            fmt = "{:.1%}" if pct else "{:.2f}"
            cell = fmt.format(value)
            if half is not None and half == half:  # not NaN
                cell += " ± " + fmt.format(half)
            cells.append(cell)
        lines.append(f"| {row['policy']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
