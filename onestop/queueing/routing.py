"""Who is called next: the call policy of a counter.

This module is a pure calculator. It knows nothing about the database; the queue services
build :class:`WaitingTicket` values from the waiting tickets of a centre, ask
:func:`choose_next` which one a counter calls, and record the consequences (the caller
increments ``overtaken`` on the tickets returned by :func:`overtaken_ids`). The capacity
simulator in ``onestop.planning`` calls the same functions, so the simulated hall follows
exactly the policy of the real one.

Policy
======

A counter serves a set of service groups, each at a *priority level* 1..9 (level 1 is the
counter's primary group). When the counter calls the next citizen:

1. **Eligibility.** Only tickets of a group the counter serves are considered.
2. **Bookings first.** A ticket that comes from a checked-in booking is *inside its window*
   when ``booked_start - arrival_window <= now <= booked_start + late_cutoff`` (both ends
   included). Tickets inside their window are called before every other ticket, the
   earliest ``booked_start`` first, then the earliest ``issued_at``, then the lowest id.
   A booked ticket outside its window (checked in too early, or still waiting after the
   window has closed) is not refused: it simply competes as an ordinary ticket under
   rules 3 and 4, with its ``issued_at``. Check-in itself only opens inside the window, so
   in practice the second case is a booked citizen whom the centre did not manage to call
   in time; by then that ticket is old and its weighted wait is high.
3. **Head of each group, with bounded overtaking.** Within a group, tickets are ordered by
   ``(issued_at, id)``. Priority tickets (elderly, disabled, ...) may be called ahead of
   regular tickets of the same group, but a regular ticket is overtaken by at most
   ``k = max_priority_overtakes`` priority tickets. The head candidate of a group is:

   * the oldest priority ticket ``P``, unless some regular ticket issued before ``P`` has
     already been overtaken ``k`` times (or more, if ``k`` was lowered meanwhile);
   * in that case the oldest regular ticket of the group. It is issued before ``P`` (it is
     at least as old as the saturated one). Regular tickets therefore always leave in
     their own first-come-first-served order, and ``P`` waits until every saturated
     regular ticket ahead of it has been called. Without transfers the oldest regular
     ticket is itself the saturated one (an older ticket has been overtaken at least as
     often as a younger one); after a transfer the oldest regular ticket may carry fewer
     overtakes, and we still call it first to keep regular tickets in order;
   * the oldest regular ticket when the group has no priority ticket.

   With ``k = 0`` this is pure first-come-first-served within the group.
4. **Across groups, weighted wait.** Among the heads, the counter calls the one with the
   largest weighted wait ``(now - issued_at) * group_weight(level)``, where
   ``group_weight(level) = 1 / level``: a ticket of the primary group (level 1) that has
   waited 10 minutes ranks with a ticket of a level-2 group that has waited 20 minutes.
   Ties go to the earlier ``issued_at``, then to the lower id. A priority head competes
   across groups with its *own* wait; the priority flag only reorders tickets inside a
   group. This keeps priority citizens from starving the other groups of a shared counter
   while still serving them early in their own group.

``issued_at`` is the fairness time: a ticket transferred to another group keeps its
original ``issued_at`` (and so its place by waiting time) in the new group.

The bound of rule 3 is guaranteed for calls made under rules 3 and 4. Bookings (rule 2)
are appointments and are kept regardless of the bound; a booked ticket that is also a
priority ticket does count as an overtake in :func:`overtaken_ids`, which only makes the
bound more conservative for later priority walk-ins.

Complexity: :func:`choose_next` makes a single pass over the waiting tickets plus a pass
over the (few) groups, so it is O(n) and never sorts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "RoutingParams",
    "WaitingTicket",
    "choose_next",
    "group_weight",
    "overtaken_ids",
]


@dataclass(frozen=True, slots=True)
class WaitingTicket:
    """A ticket waiting to be called, as the call policy sees it.

    Attributes:
        id: Ticket identifier; the last tie-breaker, so it must be unique in a queue.
        group: Service group code.
        issued_at: Minutes on any common clock. This is the fairness time: a transferred
            ticket keeps its original value.
        priority: Whether the citizen belongs to a priority group (elderly, disabled, ...).
        booked_start: Slot start (same clock) when the ticket comes from a checked-in
            booking, otherwise ``None``.
        overtaken: How many priority tickets of the same group have been called ahead of
            this ticket so far.
    """

    id: int
    group: str
    issued_at: float
    priority: bool = False
    booked_start: float | None = None
    overtaken: int = 0


@dataclass(frozen=True, slots=True)
class RoutingParams:
    """Parameters of the call policy (``rules.yaml`` of the country pack).

    Attributes:
        max_priority_overtakes: ``k``, the most priority tickets that may be called ahead
            of a regular ticket of the same group.
        arrival_window: A booked ticket is inside its window from
            ``booked_start - arrival_window`` ...
        late_cutoff: ... to ``booked_start + late_cutoff`` (minutes, both ends included).
    """

    max_priority_overtakes: int = 3
    arrival_window: float = 30.0
    late_cutoff: float = 10.0

    def __post_init__(self) -> None:
        if self.max_priority_overtakes < 0:
            raise ValueError(
                f"max_priority_overtakes must be >= 0, got {self.max_priority_overtakes}"
            )
        if not self.arrival_window >= 0:
            raise ValueError(f"arrival_window must be >= 0, got {self.arrival_window}")
        if not self.late_cutoff >= 0:
            raise ValueError(f"late_cutoff must be >= 0, got {self.late_cutoff}")


def group_weight(priority_level: int) -> float:
    """Weight of a service group at a counter: ``1 / priority_level``.

    Level 1 is the counter's primary group (weight 1); level 2 weighs 1/2, and so on.

    Raises:
        ValueError: if ``priority_level`` is below 1.
    """
    if priority_level < 1:
        raise ValueError(f"priority level must be >= 1, got {priority_level}")
    return 1.0 / priority_level


def _key(ticket: WaitingTicket) -> tuple[float, int]:
    """First-come-first-served order within a group."""
    return (ticket.issued_at, ticket.id)


def _older(a: WaitingTicket | None, b: WaitingTicket) -> WaitingTicket:
    """The older of two tickets (``a`` may be missing)."""
    if a is None or _key(b) < _key(a):
        return b
    return a


@dataclass(slots=True)
class _GroupScan:
    """What a single pass learns about one group."""

    oldest_priority: WaitingTicket | None = None
    oldest_regular: WaitingTicket | None = None
    oldest_saturated: WaitingTicket | None = None  # oldest regular overtaken >= k times

    def head(self) -> WaitingTicket:
        """The group's head candidate (rule 3). The group holds at least one ticket."""
        priority = self.oldest_priority
        if priority is None:
            assert self.oldest_regular is not None
            return self.oldest_regular
        saturated = self.oldest_saturated
        if saturated is not None and _key(saturated) < _key(priority):
            # The oldest regular ticket is at least as old as the saturated one.
            assert self.oldest_regular is not None
            return self.oldest_regular
        return priority


def _inside_window(ticket: WaitingTicket, now: float, params: RoutingParams) -> bool:
    start = ticket.booked_start
    return start is not None and start - params.arrival_window <= now <= start + params.late_cutoff


def choose_next(
    waiting: Sequence[WaitingTicket],
    counter_groups: Mapping[str, int],
    now: float,
    params: RoutingParams = RoutingParams(),
) -> WaitingTicket | None:
    """The ticket a counter calls next, or ``None`` when no waiting ticket is eligible.

    Args:
        waiting: Waiting tickets, in any order (typically every waiting ticket of the
            centre; tickets of groups the counter does not serve are ignored).
        counter_groups: Service group code -> the counter's priority level (1..9) for it.
        now: Current time on the clock of ``issued_at``.
        params: Policy parameters.

    Returns:
        The chosen ticket (one of ``waiting``), following the policy in the module
        documentation. Deterministic for a given input, whatever the order of ``waiting``.

    Raises:
        ValueError: if a priority level in ``counter_groups`` is below 1.
    """
    weights = {group: group_weight(level) for group, level in counter_groups.items()}
    k = params.max_priority_overtakes

    best_booked: WaitingTicket | None = None
    best_booked_key: tuple[float, float, int] | None = None
    scans: dict[str, _GroupScan] = {}

    for ticket in waiting:
        if ticket.group not in weights:
            continue
        if _inside_window(ticket, now, params):
            assert ticket.booked_start is not None
            booked_key = (ticket.booked_start, ticket.issued_at, ticket.id)
            if best_booked_key is None or booked_key < best_booked_key:
                best_booked, best_booked_key = ticket, booked_key
            continue
        if best_booked is not None:
            continue  # a booking will be called; the group heads no longer matter
        scan = scans.get(ticket.group)
        if scan is None:
            scan = scans[ticket.group] = _GroupScan()
        if ticket.priority:
            scan.oldest_priority = _older(scan.oldest_priority, ticket)
        else:
            scan.oldest_regular = _older(scan.oldest_regular, ticket)
            if ticket.overtaken >= k:
                scan.oldest_saturated = _older(scan.oldest_saturated, ticket)

    if best_booked is not None:
        return best_booked

    best: WaitingTicket | None = None
    best_rank: tuple[float, float, int] | None = None
    for group, scan in scans.items():
        head = scan.head()
        rank = (-(now - head.issued_at) * weights[group], head.issued_at, head.id)
        if best_rank is None or rank < best_rank:
            best, best_rank = head, rank
    return best


def overtaken_ids(chosen: WaitingTicket, waiting: Sequence[WaitingTicket]) -> list[int]:
    """Ids of the regular tickets that calling ``chosen`` overtakes.

    These are the regular (non-priority) tickets of ``chosen.group`` that come before
    ``chosen`` in first-come-first-served order ``(issued_at, id)``. The list is empty when
    ``chosen`` is not a priority ticket. The caller increments ``overtaken`` on each of
    them. Ids are listed in the order of ``waiting``; ``chosen`` itself is never listed.
    """
    if not chosen.priority:
        return []
    limit = _key(chosen)
    return [
        ticket.id
        for ticket in waiting
        if ticket.group == chosen.group
        and not ticket.priority
        and ticket.id != chosen.id
        and _key(ticket) < limit
    ]
