"""Tests of the call policy (pure; no database)."""

from __future__ import annotations

import dataclasses
import random
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onestop.queueing.routing import (
    RoutingParams,
    WaitingTicket,
    choose_next,
    group_weight,
    overtaken_ids,
)

T = WaitingTicket


def call_ids(waiting: list[WaitingTicket], groups: dict[str, int], now: float, **params) -> list:
    """Call repeatedly at ``now`` until nobody eligible is left; return the ids in order."""
    routing = RoutingParams(**params)
    queue = list(waiting)
    order = []
    while (chosen := choose_next(queue, groups, now, routing)) is not None:
        bumped = set(overtaken_ids(chosen, queue))
        queue = [
            dataclasses.replace(t, overtaken=t.overtaken + 1) if t.id in bumped else t
            for t in queue
            if t.id != chosen.id
        ]
        order.append(chosen.id)
    return order


# ----------------------------------------------------------------------------- basics


def test_empty_queue_returns_none():
    assert choose_next([], {"a": 1}, now=0.0) is None


def test_counter_without_groups_returns_none():
    assert choose_next([T(1, "a", 0.0)], {}, now=5.0) is None


def test_ineligible_tickets_return_none():
    waiting = [T(1, "b", 0.0), T(2, "c", 1.0, priority=True), T(3, "d", 2.0, booked_start=5.0)]
    assert choose_next(waiting, {"a": 1}, now=5.0) is None


def test_only_eligible_groups_are_called():
    waiting = [T(1, "b", 0.0), T(2, "a", 3.0)]
    assert choose_next(waiting, {"a": 1}, now=10.0).id == 2


def test_regular_tickets_fcfs_with_id_tiebreak():
    waiting = [T(5, "a", 2.0), T(3, "a", 1.0), T(4, "a", 1.0), T(1, "a", 4.0)]
    assert call_ids(waiting, {"a": 1}, now=10.0) == [3, 4, 5, 1]


def test_group_weight():
    assert group_weight(1) == 1.0
    assert group_weight(2) == 0.5
    assert group_weight(4) == 0.25
    with pytest.raises(ValueError, match="priority level"):
        group_weight(0)
    with pytest.raises(ValueError, match="priority level"):
        choose_next([T(1, "a", 0.0)], {"a": 0}, now=1.0)


@pytest.mark.parametrize(
    "kwargs", [{"max_priority_overtakes": -1}, {"arrival_window": -1.0}, {"late_cutoff": -0.5}]
)
def test_invalid_params(kwargs):
    with pytest.raises(ValueError):
        RoutingParams(**kwargs)


# ------------------------------------------------------------------ priority, bounded


def test_priority_ticket_overtakes_regular_ones():
    waiting = [T(1, "a", 0.0), T(2, "a", 1.0), T(3, "a", 5.0, priority=True)]
    chosen = choose_next(waiting, {"a": 1}, now=10.0)
    assert chosen.id == 3
    assert overtaken_ids(chosen, waiting) == [1, 2]


def test_overtaken_ids_only_counts_older_regular_tickets_of_the_same_group():
    waiting = [
        T(1, "a", 0.0),
        T(2, "b", 1.0),  # other group
        T(3, "a", 2.0, priority=True),  # priority tickets are not overtaken
        T(4, "a", 3.0, priority=True),
        T(5, "a", 4.0),  # issued after the chosen ticket
        T(6, "a", 3.0),  # same issued_at, higher id: after the chosen ticket
        T(7, "a", 3.0, booked_start=50.0),  # a regular booked ticket is overtaken too
    ]
    chosen = waiting[3]
    assert overtaken_ids(chosen, waiting) == [1]
    waiting[6] = T(7, "a", 2.5, booked_start=50.0)
    assert overtaken_ids(chosen, waiting) == [1, 7]


def test_regular_chosen_overtakes_nobody():
    waiting = [T(1, "a", 0.0), T(2, "a", 1.0)]
    assert overtaken_ids(waiting[1], waiting) == []


def test_bound_k_blocks_priority_tickets():
    # Regular ticket 1 has already been overtaken twice; with k = 2 it must be called
    # before any further priority ticket, with k = 3 one more priority ticket may pass.
    waiting = [T(1, "a", 0.0, overtaken=2), T(2, "a", 1.0), T(3, "a", 5.0, priority=True)]
    assert choose_next(waiting, {"a": 1}, 10.0, RoutingParams(max_priority_overtakes=2)).id == 1
    assert choose_next(waiting, {"a": 1}, 10.0, RoutingParams(max_priority_overtakes=3)).id == 3


def test_saturated_ticket_issued_after_priority_does_not_block():
    waiting = [T(1, "a", 0.0, priority=True), T(2, "a", 1.0, overtaken=9)]
    assert choose_next(waiting, {"a": 1}, 10.0, RoutingParams(max_priority_overtakes=1)).id == 1


def test_blocked_group_calls_oldest_regular_ticket_first():
    # After a transfer the oldest regular ticket (1) may carry fewer overtakes than a
    # younger saturated one (2); regular tickets still leave in their own order.
    waiting = [
        T(1, "a", 0.0, overtaken=0),
        T(2, "a", 1.0, overtaken=3),
        T(3, "a", 2.0, priority=True),
    ]
    assert call_ids(waiting, {"a": 1}, now=10.0, max_priority_overtakes=3) == [1, 2, 3]


def test_sequence_with_k_two():
    # Regulars 1, 2 then five priority tickets, all waiting at once.
    waiting = [T(1, "a", 0.0), T(2, "a", 1.0)] + [
        T(10 + i, "a", 2.0 + i, priority=True) for i in range(5)
    ]
    assert call_ids(waiting, {"a": 1}, now=30.0, max_priority_overtakes=2) == [
        10,
        11,
        1,
        2,
        12,
        13,
        14,
    ]


def test_k_zero_is_fcfs():
    waiting = [T(1, "a", 0.0), T(2, "a", 1.0, priority=True), T(3, "a", 2.0)]
    assert call_ids(waiting, {"a": 1}, now=30.0, max_priority_overtakes=0) == [1, 2, 3]


# Random arrival sequences on one counter serving two groups at different levels. Priority
# arrivals are frequent and calls about as frequent as arrivals, so that regular tickets
# are often overtaken up to the bound.
_ARRIVE_REGULAR_A = ("arrive", "a", False)
_ARRIVE_PRIORITY_A = ("arrive", "a", True)
_ARRIVE_REGULAR_B = ("arrive", "b", False)
_ARRIVE_PRIORITY_B = ("arrive", "b", True)
_CALL = ("call",)
_events = st.lists(
    st.sampled_from(
        [
            _ARRIVE_REGULAR_A,
            _ARRIVE_PRIORITY_A,
            _ARRIVE_PRIORITY_A,
            _ARRIVE_REGULAR_B,
            _ARRIVE_PRIORITY_B,
            _CALL,
            _CALL,
            _CALL,
            _CALL,
        ]
    ),
    min_size=60,
    max_size=150,
)


def _simulate(events, k: int, groups: dict[str, int]):
    """Replay arrivals and calls; return the called tickets in order and the leftovers."""
    routing = RoutingParams(max_priority_overtakes=k)
    waiting: list[WaitingTicket] = []
    called: list[WaitingTicket] = []
    next_id = 1
    for clock, event in enumerate(events):
        if event[0] == "arrive":
            # Ids are not in issue order, so the policy cannot lean on them.
            waiting.append(T(1000 - next_id, event[1], float(clock), priority=event[2]))
            next_id += 1
            continue
        chosen = choose_next(waiting, groups, float(clock), routing)
        if chosen is None:
            assert not waiting
            continue
        bumped = set(overtaken_ids(chosen, waiting))
        waiting = [
            dataclasses.replace(t, overtaken=t.overtaken + 1) if t.id in bumped else t
            for t in waiting
            if t.id != chosen.id
        ]
        assert all(t.overtaken <= k for t in waiting if not t.priority)
        called.append(chosen)
    return called, waiting


def _overtakes(called: list[WaitingTicket]) -> dict[int, int]:
    """For each called regular ticket, the priority tickets of its group issued after it
    and called before it (recomputed from the call order, independent of ``overtaken``)."""
    counts = {}
    for position, ticket in enumerate(called):
        if ticket.priority:
            continue
        counts[ticket.id] = sum(
            1
            for earlier in called[:position]
            if earlier.priority
            and earlier.group == ticket.group
            and (earlier.issued_at, earlier.id) > (ticket.issued_at, ticket.id)
        )
    return counts


@settings(max_examples=60, deadline=None)
@given(events=_events, levels=st.sampled_from([(1, 1), (1, 2), (2, 1), (1, 9)]))
@pytest.mark.parametrize("k", range(7))
def test_bounded_overtaking_property(k, events, levels):
    groups = {"a": levels[0], "b": levels[1]}
    called, _ = _simulate(events, k, groups)
    assert all(count <= k for count in _overtakes(called).values())
    for group in groups:
        regular = [(t.issued_at, t.id) for t in called if t.group == group and not t.priority]
        assert regular == sorted(regular), "regular tickets leave in their own order"
        if k == 0:
            mine = [(t.issued_at, t.id) for t in called if t.group == group]
            assert mine == sorted(mine), "k = 0 is first-come-first-served within the group"


@settings(max_examples=100, deadline=None)
@given(events=_events)
def test_priority_tickets_do_overtake_when_allowed(events):
    # With a large k the bound never binds: whenever a priority ticket of the group is
    # waiting, the group head is a priority ticket.
    waiting = []
    for clock, event in enumerate(events):
        if event[0] == "arrive":
            waiting.append(T(clock, "a", float(clock), priority=event[2]))
            continue
        chosen = choose_next(waiting, {"a": 1}, float(clock), RoutingParams(100))
        if chosen is None:
            continue
        assert chosen.priority == any(t.priority for t in waiting)
        waiting.remove(chosen)


# --------------------------------------------------------------------------- bookings


def test_booked_ticket_inside_window_goes_first():
    waiting = [T(1, "a", 0.0), T(2, "a", 1.0, priority=True), T(3, "a", 25.0, booked_start=30.0)]
    assert choose_next(waiting, {"a": 1}, now=30.0).id == 3


@pytest.mark.parametrize(
    ("now", "inside"),
    [
        (29.9, False),  # window opens at 60 - 30
        (30.0, True),
        (60.0, True),
        (70.0, True),  # closes at 60 + 10
        (70.1, False),
    ],
)
def test_booking_window_edges(now, inside):
    waiting = [T(1, "a", 0.0), T(2, "a", 20.0, booked_start=60.0)]
    assert choose_next(waiting, {"a": 1}, now=now).id == (2 if inside else 1)


def test_booked_ticket_outside_window_competes_as_ordinary_ticket():
    # Too early: issued at 5 with the slot at 60, now 10: ordinary ticket issued at 5.
    waiting = [T(1, "a", 7.0), T(2, "a", 5.0, booked_start=60.0)]
    assert choose_next(waiting, {"a": 1}, now=10.0).id == 2
    # Late and no longer inside the window: still keeps its waiting time.
    waiting = [T(1, "a", 7.0), T(2, "a", 8.0, booked_start=0.0)]
    assert choose_next(waiting, {"a": 1}, now=20.0).id == 1


def test_booked_tickets_ordered_by_slot_then_issue_then_id():
    waiting = [
        T(1, "a", 10.0, booked_start=40.0),
        T(2, "a", 12.0, booked_start=30.0),
        T(3, "a", 11.0, booked_start=30.0),
        T(4, "a", 11.0, booked_start=30.0),
        T(5, "a", 0.0),
    ]
    assert call_ids(waiting, {"a": 1}, now=35.0) == [3, 4, 2, 1, 5]


def test_booked_ticket_beats_other_groups_and_levels():
    waiting = [T(1, "a", 0.0, priority=True), T(2, "b", 50.0, booked_start=60.0)]
    assert choose_next(waiting, {"a": 1, "b": 9}, now=60.0).id == 2


def test_booking_window_uses_params():
    waiting = [T(1, "a", 0.0), T(2, "a", 20.0, booked_start=60.0)]
    params = RoutingParams(arrival_window=5.0, late_cutoff=0.0)
    assert choose_next(waiting, {"a": 1}, 50.0, params).id == 1
    assert choose_next(waiting, {"a": 1}, 55.0, params).id == 2
    assert choose_next(waiting, {"a": 1}, 60.5, params).id == 1


def test_booked_ticket_of_ineligible_group_is_ignored():
    waiting = [T(1, "a", 0.0), T(2, "b", 20.0, booked_start=30.0)]
    assert choose_next(waiting, {"a": 1}, now=30.0).id == 1


# -------------------------------------------------------------------------- transfers


def test_transferred_ticket_keeps_its_place():
    # Ticket 1 waited in group "a" since minute 0 and is transferred to "b", where 2 and 3
    # were issued later: it is called first there.
    waiting = [T(2, "b", 5.0), T(3, "b", 6.0), T(1, "b", 0.0)]
    assert call_ids(waiting, {"b": 1}, now=20.0) == [1, 2, 3]


def test_transferred_ticket_keeps_weighted_wait_across_groups():
    # Counter: "a" primary, "b" secondary. The transferred ticket keeps issued_at = 0, so
    # its weighted wait 40 * 1/2 = 20 beats the 15-minute wait of "a".
    waiting = [T(7, "a", 25.0), T(8, "b", 0.0)]
    assert choose_next(waiting, {"a": 1, "b": 2}, now=40.0).id == 8


# ---------------------------------------------------------------------------- weights


def test_weights_favour_primary_group():
    groups = {"a": 1, "b": 2}
    # a waited 10 (score 10); b waited 18 (score 9): a.
    assert choose_next([T(1, "a", 10.0), T(2, "b", 2.0)], groups, now=20.0).id == 1
    # b waited 22 (score 11): b.
    assert choose_next([T(1, "a", 10.0), T(2, "b", -2.0)], groups, now=20.0).id == 2
    # Tie at 10: earlier issued_at wins, i.e. b.
    assert choose_next([T(1, "a", 10.0), T(2, "b", 0.0)], groups, now=20.0).id == 2


def test_equal_weights_tie_broken_by_id():
    waiting = [T(9, "a", 5.0), T(4, "b", 5.0)]
    assert choose_next(waiting, {"a": 1, "b": 1}, now=20.0).id == 4


def test_three_groups_exact_order():
    groups = {"a": 1, "b": 2, "c": 3}
    waiting = [
        T(1, "a", 50.0),  # 10 * 1 = 10
        T(2, "b", 35.0),  # 25 / 2 = 12.5
        T(3, "c", 15.0),  # 45 / 3 = 15
        T(4, "c", 30.0),  # 30 / 3 = 10 (issued before ticket 1: wins the tie with it)
    ]
    assert choose_next(waiting, groups, now=60.0).id == 3
    assert call_ids(waiting, groups, now=60.0) == [3, 2, 4, 1]


def test_priority_head_competes_with_its_own_wait():
    # Group "a" head is priority ticket 2 (waited 4); group "b" head waited 30 at level 2.
    groups = {"a": 1, "b": 2}
    waiting = [T(1, "a", 0.0), T(2, "a", 26.0, priority=True), T(3, "b", 0.0)]
    assert choose_next(waiting, groups, now=30.0).id == 3
    # With "b" waiting less, the priority ticket is called ahead of the older ticket 1.
    waiting = [T(1, "a", 0.0), T(2, "a", 26.0, priority=True), T(3, "b", 25.0)]
    assert choose_next(waiting, groups, now=30.0).id == 2


# ----------------------------------------------------------------- determinism, speed


@settings(max_examples=200, deadline=None)
@given(
    tickets=st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c"]),
            st.integers(0, 30),
            st.booleans(),
            st.one_of(st.none(), st.integers(0, 90)),
            st.integers(0, 4),
        ),
        max_size=30,
    ),
    seed=st.integers(0, 2**32 - 1),
)
def test_result_does_not_depend_on_input_order(tickets, seed):
    waiting = [
        T(i, group, float(issued), priority, None if slot is None else float(slot), over)
        for i, (group, issued, priority, slot, over) in enumerate(tickets)
    ]
    shuffled = list(waiting)
    random.Random(seed).shuffle(shuffled)
    groups = {"a": 1, "b": 2, "c": 3}
    assert choose_next(waiting, groups, 40.0) == choose_next(shuffled, groups, 40.0)


def test_linear_time_on_a_big_hall():
    rng = random.Random(1)
    groups = [f"g{i}" for i in range(40)]
    waiting = [
        T(i, rng.choice(groups), rng.uniform(0, 240), rng.random() < 0.1, None, rng.randint(0, 3))
        for i in range(20_000)
    ]
    counter = {g: 1 + i % 3 for i, g in enumerate(groups[:8])}
    start = time.perf_counter()
    for _ in range(5):
        assert choose_next(waiting, counter, 240.0) is not None
    assert (time.perf_counter() - start) / 5 < 0.1
