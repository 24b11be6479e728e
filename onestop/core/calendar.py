"""Working-day calendar: weekends, public holidays from ``holidays`` and pack closures.

Pure: a :class:`WorkingCalendar` is built from plain values and answers questions about
dates. Legal deadlines (``add_working_days``) count only working days.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

import holidays as holidays_lib

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@lru_cache(maxsize=256)
def _public_holidays(country: str, year: int) -> frozenset[date]:
    return frozenset(holidays_lib.country_holidays(country, years=year).keys())


def holiday_country_supported(country: str) -> bool:
    return country.upper() in holidays_lib.list_supported_countries()


@dataclass(frozen=True)
class WorkingCalendar:
    """A country's working days: not a weekend, not a public holiday, not a closure."""

    holiday_country: str
    weekend: frozenset[int] = frozenset({5, 6})  # Monday is 0
    closures: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def build(cls, holiday_country: str, weekend: Iterable[str], closures: Iterable[date] = ()) -> WorkingCalendar:
        return cls(
            holiday_country=holiday_country.upper(),
            weekend=frozenset(WEEKDAYS.index(day) for day in weekend),
            closures=frozenset(closures),
        )

    def is_holiday(self, day: date) -> bool:
        return day in _public_holidays(self.holiday_country, day.year) or day in self.closures

    def is_working_day(self, day: date) -> bool:
        return day.weekday() not in self.weekend and not self.is_holiday(day)

    def add_working_days(self, start: date, days: int) -> date:
        """The date ``days`` working days after ``start`` (``start`` itself not counted).

        ``days == 0`` is same-day: ``start`` if it is a working day, else the next one.
        """
        if days < 0:
            raise ValueError("days must be >= 0")
        current = start
        if days == 0:
            while not self.is_working_day(current):
                current += timedelta(days=1)
            return current
        remaining = days
        while remaining:
            current += timedelta(days=1)
            if self.is_working_day(current):
                remaining -= 1
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in the half-open range (start, end]; negative when end < start."""
        if end < start:
            return -self.working_days_between(end, start)
        count = 0
        current = start
        while current < end:
            current += timedelta(days=1)
            if self.is_working_day(current):
                count += 1
        return count
