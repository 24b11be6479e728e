"""Demand forecast: expected walk-ins per service group, weekday and hour.

Input is an iterable of arrival records ``(when, group, count)``: ``when`` is either a
timezone-aware :class:`~datetime.datetime` (its local hour is used, converted to ``tz``
when given) or a ``(date, hour)`` pair. The model is a weighted mean per
``(group, weekday, hour)`` over the open days of the history:

    ``forecast(g, w, h) = Σ_d  ω_d  count(g, d, h)  /  Σ_d ω_d``

over open, non-holiday days ``d`` with weekday ``w``, where ``ω_d = 0.5 ** (age_d /
half_life)`` and ``age_d`` is the age of day ``d`` in weeks at the reference date (the
last day of history by default): recent weeks count more. An hour with no record on an
open day counts as zero arrivals. A day is open when it has at least one record (or is
listed in ``open_days``). Holidays are left out of the training data, and a forecast for
a holiday is *closed* (nothing) or, for a day in ``reduced``, the weekday profile times
the given factor.

:func:`evaluate_forecast` holds out the last weeks of the history and scores the forecast
fitted on the earlier weeks: MAE, RMSE and WAPE (``Σ|error| / Σ actual``) over every
``(group, day, hour)`` cell of the held-out open days.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

__all__ = [
    "ArrivalRecord",
    "Forecast",
    "evaluate_forecast",
    "fit_forecast",
    "normalise_records",
]

When = datetime | tuple[date, int]


@dataclass(frozen=True)
class ArrivalRecord:
    """Arrivals of one group in one hour: ``count`` citizens at ``when``."""

    when: When
    group: str
    count: float = 1.0


def _cell(when: When, tz: ZoneInfo | None) -> tuple[date, int]:
    if isinstance(when, datetime):
        if when.tzinfo is None or when.utcoffset() is None:
            raise ValueError(
                f"naive datetime {when.isoformat()}: give an aware datetime or (date, hour)"
            )
        local = when.astimezone(tz) if tz is not None else when
        return local.date(), local.hour
    day, hour = when
    if isinstance(day, datetime) or not isinstance(day, date):
        raise ValueError(f"expected (date, hour), got {when!r}")
    if not 0 <= int(hour) <= 23:
        raise ValueError(f"hour must be 0..23, got {hour!r}")
    return day, int(hour)


def normalise_records(
    records: Iterable[ArrivalRecord | tuple[When, str, float]], tz: str | None = None
) -> dict[tuple[str, date, int], float]:
    """Sum the records into ``{(group, date, hour): count}``."""
    zone = ZoneInfo(tz) if tz else None
    out: dict[tuple[str, date, int], float] = defaultdict(float)
    for rec in records:
        if isinstance(rec, ArrivalRecord):
            when, group, count = rec.when, rec.group, rec.count
        else:
            when, group, count = rec
        if count < 0 or not math.isfinite(count):
            raise ValueError(f"count must be finite and >= 0, got {count!r}")
        day, hour = _cell(when, zone)
        out[(str(group), day, hour)] += float(count)
    return dict(out)


@dataclass
class Forecast:
    """Expected arrivals per ``group → weekday (Monday = 0) → hour``.

    ``hours[weekday]`` lists the opening hours seen for that weekday in the history.
    """

    rates: dict[str, dict[int, dict[int, float]]]
    hours: dict[int, list[int]]
    reference: date
    half_life_weeks: float
    groups: list[str] = field(default_factory=list)

    def expected(self, group: str, weekday: int, hour: int) -> float:
        """Expected arrivals of ``group`` in that hour (0 outside the known hours)."""
        return self.rates.get(group, {}).get(weekday, {}).get(hour, 0.0)

    def for_date(
        self,
        day: date,
        holidays: Iterable[date] = (),
        reduced: Mapping[date, float] | None = None,
    ) -> dict[str, dict[int, float]]:
        """Expected arrivals ``group → hour → count`` on ``day``.

        A holiday is closed (every group gets an empty mapping) unless it is in
        ``reduced``, where the weekday profile is scaled by the factor given.
        """
        factor = 1.0
        if reduced and day in reduced:
            factor = float(reduced[day])
        elif day in set(holidays):
            return {g: {} for g in self.groups}
        wd = day.weekday()
        return {
            g: {h: factor * self.expected(g, wd, h) for h in self.hours.get(wd, [])}
            for g in self.groups
        }

    def profile(
        self,
        day: date,
        holidays: Iterable[date] = (),
        reduced: Mapping[date, float] | None = None,
    ) -> tuple[int, dict[str, list[float]]]:
        """``(open_hour, group → arrivals per hour)`` for consecutive opening hours, the
        input of :func:`onestop.planning.api.plan_day`; ``(0, {})`` on a closed day."""
        per_group = self.for_date(day, holidays, reduced)
        hours = sorted({h for hs in per_group.values() for h in hs})
        if not hours:
            return 0, {}
        span = range(hours[0], hours[-1] + 1)
        return hours[0], {g: [per_group[g].get(h, 0.0) for h in span] for g in self.groups}


def fit_forecast(
    records: Iterable[ArrivalRecord | tuple[When, str, float]],
    holidays: Iterable[date] = (),
    half_life_weeks: float = 4.0,
    reference: date | None = None,
    tz: str | None = None,
    open_days: Iterable[date] | None = None,
) -> Forecast:
    """Fit the weighted weekday × hour profile; see the module documentation.

    ``half_life_weeks = math.inf`` weighs every week the same.
    """
    return _fit_cells(
        normalise_records(records, tz), holidays, half_life_weeks, reference, open_days
    )


def _fit_cells(
    cells: Mapping[tuple[str, date, int], float],
    holidays: Iterable[date],
    half_life_weeks: float,
    reference: date | None,
    open_days: Iterable[date] | None,
) -> Forecast:
    if not half_life_weeks > 0:
        raise ValueError("half_life_weeks must be > 0")
    closed = set(holidays)
    days = set(open_days) if open_days is not None else {d for _, d, _ in cells}
    days = {d for d in days if d not in closed}
    if not days:
        raise ValueError("no open, non-holiday day in the history")
    ref = reference or max(days)
    groups = sorted({g for g, _, _ in cells})
    hours_by_wd: dict[int, set[int]] = defaultdict(set)
    for _, d, h in cells:
        if d in days:
            hours_by_wd[d.weekday()].add(h)

    def weight(d: date) -> float:
        if math.isinf(half_life_weeks):
            return 1.0
        age = max((ref - d).days, 0) / 7.0
        return 0.5 ** (age / half_life_weeks)

    weight_sum: dict[int, float] = defaultdict(float)
    for d in days:
        weight_sum[d.weekday()] += weight(d)
    acc: dict[str, dict[int, dict[int, float]]] = {
        g: {wd: dict.fromkeys(hs, 0.0) for wd, hs in hours_by_wd.items()} for g in groups
    }
    for (g, d, h), count in cells.items():
        if d in days:
            acc[g][d.weekday()][h] += weight(d) * count
    rates = {
        g: {wd: {h: v / weight_sum[wd] for h, v in sorted(hs.items())} for wd, hs in per_wd.items()}
        for g, per_wd in acc.items()
    }
    return Forecast(
        rates=rates,
        hours={wd: sorted(hs) for wd, hs in hours_by_wd.items()},
        reference=ref,
        half_life_weeks=half_life_weeks,
        groups=groups,
    )


def evaluate_forecast(
    records: Iterable[ArrivalRecord | tuple[When, str, float]],
    holidays: Iterable[date] = (),
    holdout_weeks: int = 2,
    half_life_weeks: float = 4.0,
    tz: str | None = None,
    open_days: Iterable[date] | None = None,
) -> dict[str, float]:
    """Fit on all but the last ``holdout_weeks`` weeks, score on them.

    Returns ``{"mae", "rmse", "wape", "cells", "actual_total"}`` over every
    ``(group, day, hour)`` of the held-out open non-holiday days (hours of the forecast's
    weekday profile plus any hour with arrivals).
    """
    if holdout_weeks < 1:
        raise ValueError("holdout_weeks must be >= 1")
    cells = normalise_records(records, tz)
    closed = set(holidays)
    days = set(open_days) if open_days is not None else {d for _, d, _ in cells}
    days = {d for d in days if d not in closed}
    if not days:
        raise ValueError("no open, non-holiday day in the history")
    cutoff = max(days) - timedelta(weeks=holdout_weeks)
    train_days = {d for d in days if d <= cutoff}
    test_days = sorted(d for d in days if d > cutoff)
    if not train_days:
        raise ValueError("no history before the held-out weeks")
    train = {k: v for k, v in cells.items() if k[1] <= cutoff}
    model = _fit_cells(train, closed, half_life_weeks, cutoff, train_days)
    hours_on: dict[date, set[int]] = defaultdict(set)
    for _, d, h in cells:
        hours_on[d].add(h)
    abs_err = sq_err = actual_total = 0.0
    n = 0
    groups = sorted(set(model.groups) | {g for g, _, _ in cells})
    for d in test_days:
        wd = d.weekday()
        hours = sorted(set(model.hours.get(wd, [])) | hours_on[d])
        for g in groups:
            for h in hours:
                actual = cells.get((g, d, h), 0.0)
                err = model.expected(g, wd, h) - actual
                abs_err += abs(err)
                sq_err += err * err
                actual_total += actual
                n += 1
    return {
        "mae": abs_err / n if n else math.nan,
        "rmse": math.sqrt(sq_err / n) if n else math.nan,
        "wape": abs_err / actual_total if actual_total else math.nan,
        "cells": float(n),
        "actual_total": actual_total,
    }
