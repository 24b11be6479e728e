"""The booking rules of a country pack (``rules.yaml``, section ``booking``)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

LATE_WALK_IN = "walk_in"
LATE_REFUSE = "refuse"


@dataclass(frozen=True)
class BookingRules:
    slot_minutes: int = 15
    horizon_days: int = 30
    share_for_bookings: Fraction = Fraction(1, 2)
    max_active_per_group: int = 1
    period_days: int = 10
    arrival_window_minutes: int = 30
    late_cutoff_minutes: int = 10
    late_policy: str = LATE_WALK_IN

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> BookingRules:
        raw = raw or {}
        default = cls()
        share = raw.get("share_for_bookings", default.share_for_bookings)
        return cls(
            slot_minutes=int(raw.get("slot_minutes", default.slot_minutes)),
            horizon_days=int(raw.get("horizon_days", default.horizon_days)),
            # Exact arithmetic: 0.4 of a capacity must not become 0.39999... and round down.
            share_for_bookings=Fraction(str(share)).limit_denominator(10_000),
            max_active_per_group=int(raw.get("max_active_per_group", default.max_active_per_group)),
            period_days=int(raw.get("period_days", default.period_days)),
            arrival_window_minutes=int(
                raw.get("arrival_window_minutes", default.arrival_window_minutes)
            ),
            late_cutoff_minutes=int(raw.get("late_cutoff_minutes", default.late_cutoff_minutes)),
            late_policy=str(raw.get("late_policy", default.late_policy)),
        )

    @classmethod
    def for_country(cls, country) -> BookingRules:
        return cls.from_dict((country.rules or {}).get("booking"))

    @property
    def walk_in_when_late(self) -> bool:
        return self.late_policy == LATE_WALK_IN
