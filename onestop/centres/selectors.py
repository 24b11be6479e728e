"""Reads about centres: calendars, opening hours."""

from __future__ import annotations

from datetime import date, time

from onestop.core.calendar import WEEKDAYS, WorkingCalendar


def country_calendar(country, centre_code: str | None = None) -> WorkingCalendar:
    from .models import Closure

    closures = []
    for closure in Closure.objects.filter(country=country).prefetch_related("centres"):
        codes = {c.code for c in closure.centres.all()}
        if not codes or (centre_code and centre_code in codes):
            closures.append(closure.date)
    return WorkingCalendar.build(country.holiday_country, country.weekend, closures)


def parse_interval(text: str) -> tuple[time, time]:
    start, end = text.split("-")
    return time.fromisoformat(start.strip()), time.fromisoformat(end.strip())


def opening_intervals(centre, day: date) -> list[tuple[time, time]]:
    """Opening intervals of ``centre`` on ``day`` (before holidays; mobile units use their route)."""
    if centre.kind == "mobile":
        stops = [s for s in centre.route.all() if s.date == day]
        return [(s.opens, s.closes) for s in stops]
    return [parse_interval(i) for i in centre.hours.get(WEEKDAYS[day.weekday()], [])]


def is_open_on(centre, day: date) -> bool:
    calendar = country_calendar(centre.country, centre.code)
    return calendar.is_working_day(day) and bool(opening_intervals(centre, day))
