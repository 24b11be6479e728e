"""Policy comparisons run and point the expected way (common random numbers)."""

from __future__ import annotations

from onestop.planning.policies import (
    booking_policy_comparison,
    format_table,
    priority_policy_comparison,
)


def test_priority_rules_order_the_waits():
    fcfs, bounded, strict = priority_policy_comparison(replications=20, seed=4, workers=2)
    assert fcfs["policy"] == "FCFS" and strict["policy"] == "strict priority"
    assert strict["priority_mean_wait"] < bounded["priority_mean_wait"] < fcfs["priority_mean_wait"]
    assert strict["priority_p99_wait"] < fcfs["priority_p99_wait"]
    assert fcfs["regular_mean_wait"] < bounded["regular_mean_wait"] < strict["regular_mean_wait"]
    # Non-preemptive reordering with equal service laws barely moves the overall mean.
    assert abs(strict["mean_wait"] - fcfs["mean_wait"]) < 0.1 * fcfs["mean_wait"]
    table = format_table([fcfs, bounded, strict])
    assert table.count("\n") == 4 and "±" in table


def test_booking_policies_trade_idle_time_for_booked_waits():
    nothing, standby, overbook = booking_policy_comparison(replications=20, seed=4, workers=2)
    for row in (nothing, standby, overbook):
        assert 0.25 <= row["no_show_rate"] <= 0.29
    # Releasing no-show slots to walk-ins cuts the idle time no-shows cause ...
    assert standby["idle_no_show_minutes"] < 0.5 * nothing["idle_no_show_minutes"]
    assert overbook["idle_no_show_minutes"] < standby["idle_no_show_minutes"]
    # ... and the walk-ins' waits, at some cost to the booked citizens.
    assert standby["walk_in_p90_wait"] < nothing["walk_in_p90_wait"]
    assert (
        nothing["booked_mean_wait"] <= standby["booked_mean_wait"] <= overbook["booked_mean_wait"]
    )
    assert all(row["booked_mean_wait"] >= 0 for row in (nothing, standby, overbook))
