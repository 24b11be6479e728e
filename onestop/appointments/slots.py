"""The slot calculator: which slots a centre offers a service group on a day, and how many places.

Pure: no database, no clock. :mod:`onestop.appointments.selectors` gathers the inputs
(opening intervals, counters, handling times, overrides, holidays) and calls
:func:`plan_day`.

How capacity is computed
========================

1. **Which days.** A day has slots when the centre has opening intervals on it (fixed
   centres: their weekly hours; mobile units: their route stop of that date) and the day
   is neither a public holiday nor a closure of the pack (network-wide or for this
   centre). The pack's *weekend* does not close a centre: an ASAN centre that opens on
   Saturday takes bookings on Saturday, because citizens book the hours that are posted
   on the door. (Working days matter for legal deadlines, not for opening hours.)
2. **Which slots.** Each opening interval is cut into slots of ``slot_minutes`` from its
   start; a remainder shorter than a slot at the end of an interval is not offered.
3. **Counter time for the group.** A counter serving several groups splits its time
   between them by *priority level*, with the same weight ``1 / level`` that the call
   policy gives a group's waiting time (:mod:`onestop.queueing.routing`): a counter with
   its primary group (level 1) and one secondary group (level 2) gives the primary
   ``1 / (1 + 1/2) = 2/3`` of its time and the secondary ``1/3``. A counter serving one
   group gives it all of its time. The group's counter time in one slot is
   ``slot_minutes * sum(shares)``.
4. **Citizens per slot.** That counter time divided by the group's mean handling time
   (the mean of its services' ``handling_minutes``) is the number of citizens the
   counters can serve in the slot; the pack's ``share_for_bookings`` of it is offered to
   bookings and the rest stays for walk-ins.
5. **Whole places.** The result is usually a fraction (0.625 places per slot). Places
   are handed out so that after each slot the day's running total of places is the
   exact running total rounded half up: with 0.625 the slots get 1, 0, 1, 1, 0, 1, 0, 1,
   ... and the day as a whole offers its exact total rounded. Every slot gets the
   exact share rounded down or up. Slots with no place are not offered. The
   arithmetic is exact (fractions), so the plan is the same on every machine.
6. **Overrides.** A capacity override for the centre and date (for the group, else for
   all groups) replaces step 3-5: every slot of the day gets exactly that many places
   (0 closes online booking for the day). An override never opens a closed day.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

HALF = Fraction(1, 2)

__all__ = ["PlannedSlot", "counter_share", "per_slot_capacity", "plan_day", "slot_starts"]


@dataclass(frozen=True, slots=True)
class PlannedSlot:
    start: datetime  # aware, UTC
    end: datetime  # aware, UTC
    capacity: int


def counter_share(levels: Iterable[int], level: int) -> Fraction:
    """The share of a counter's time for the group at ``level``, among all ``levels`` it serves."""
    weights = [Fraction(1, max(1, lv)) for lv in levels]
    total = sum(weights, Fraction(0))
    if total == 0:
        return Fraction(0)
    return Fraction(1, max(1, level)) / total


def per_slot_capacity(
    *,
    slot_minutes: int,
    counter_shares: Sequence[Fraction],
    mean_handling_minutes: Fraction,
    share_for_bookings: Fraction,
) -> Fraction:
    """Places per slot for bookings, as an exact fraction."""
    if mean_handling_minutes <= 0 or not counter_shares:
        return Fraction(0)
    counter_minutes = slot_minutes * sum(counter_shares, Fraction(0))
    return share_for_bookings * counter_minutes / mean_handling_minutes


def rounded_share(per_slot: Fraction, slots: int) -> int:
    """``floor(per_slot * slots + 1/2)``: the places of the first ``slots`` slots, rounded.

    Computed on the fraction's integers: the same value as with ``Fraction`` arithmetic, at
    a small part of its cost (a day's plan used to spend most of its time in ``Fraction``).
    """
    numerator, denominator = per_slot.numerator, per_slot.denominator
    return (2 * numerator * slots + denominator) // (2 * denominator)


def slot_starts(
    intervals: Sequence[tuple[time, time]], slot_minutes: int
) -> list[tuple[time, time]]:
    """Local (start, end) times of the slots that fit wholly inside the opening intervals."""
    out: list[tuple[time, time]] = []
    step = timedelta(minutes=slot_minutes)
    anchor = date(2000, 1, 3)  # any date: only the wall-clock arithmetic matters here
    for opens, closes in sorted(intervals):
        current = datetime.combine(anchor, opens)
        limit = datetime.combine(anchor, closes)
        while current + step <= limit:
            out.append((current.time(), (current + step).time()))
            current += step
    return out


def plan_day(
    *,
    day: date,
    tz: str,
    intervals: Sequence[tuple[time, time]],
    slot_minutes: int,
    counter_shares: Sequence[Fraction],
    mean_handling_minutes: Fraction,
    share_for_bookings: Fraction,
    closed: bool = False,
    override: int | None = None,
    include_empty: bool = False,
) -> list[PlannedSlot]:
    """The slots of ``day`` with their places for bookings (slots with none are left out).

    ``intervals`` are local opening times at the centre (time zone ``tz``); ``closed``
    is true on a public holiday or a closure; ``override`` is the places per slot set by
    hand for this day, if any.
    """
    if closed or not intervals or slot_minutes <= 0:
        return []
    zone = ZoneInfo(tz)
    utc = ZoneInfo("UTC")
    per_slot = per_slot_capacity(
        slot_minutes=slot_minutes,
        counter_shares=counter_shares,
        mean_handling_minutes=mean_handling_minutes,
        share_for_bookings=share_for_bookings,
    )
    out: list[PlannedSlot] = []
    for index, (start, end) in enumerate(slot_starts(intervals, slot_minutes)):
        if override is not None:
            places = max(0, int(override))
        else:
            places = rounded_share(per_slot, index + 1) - rounded_share(per_slot, index)
        if places <= 0 and not include_empty:
            continue
        local_start = datetime.combine(day, start, tzinfo=zone)
        local_end = datetime.combine(day, end, tzinfo=zone)
        out.append(
            PlannedSlot(
                start=local_start.astimezone(utc), end=local_end.astimezone(utc), capacity=places
            )
        )
    return out
