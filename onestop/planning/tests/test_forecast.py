"""Demand forecast on synthetic histories with a known weekday × hour profile."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from onestop.planning.forecast import (
    ArrivalRecord,
    evaluate_forecast,
    fit_forecast,
    normalise_records,
)

START = date(2025, 1, 6)  # a Monday
HOURS = range(9, 18)


def profile(group: str, weekday: int, hour: int) -> float:
    """Known truth: a midday peak, busier Mondays, group B a third of A."""
    base = 20 + 15 * math.exp(-((hour - 12.5) ** 2) / 4)
    base *= 1.3 if weekday == 0 else 1.0
    return base if group == "A" else base / 3


def history(weeks: int, seed: int = 0, level=lambda week: 1.0, holidays=()):
    rng = np.random.default_rng(seed)
    records = []
    for day_index in range(weeks * 7):
        day = START + timedelta(days=day_index)
        if day.weekday() >= 5:
            continue  # closed at weekends
        for hour in HOURS:
            for group in ("A", "B"):
                mean = profile(group, day.weekday(), hour) * level(day_index // 7)
                if day in holidays:
                    mean *= 0.1  # a holiday with a skeleton service
                count = int(rng.poisson(mean))
                if count:
                    records.append(((day, hour), group, count))
    return records


def test_recovers_known_profile_and_skips_holidays():
    holidays = {START + timedelta(days=14), START + timedelta(days=30)}
    model = fit_forecast(history(16, holidays=holidays), holidays, half_life_weeks=math.inf)
    assert model.groups == ["A", "B"]
    assert model.hours[0] == list(HOURS) and 5 not in model.hours
    for group in ("A", "B"):
        for weekday in range(5):
            for hour in HOURS:
                truth = profile(group, weekday, hour)
                # 15-16 Poisson days per cell: well within 4 standard errors.
                assert abs(model.expected(group, weekday, hour) - truth) < 4 * math.sqrt(truth / 15)
    assert model.expected("A", 6, 12) == 0.0


def test_recent_weeks_weigh_more():
    # Demand steps up by 30 % for the last 4 of 16 weeks.
    records = history(16, seed=1, level=lambda week: 1.3 if week >= 12 else 1.0)
    flat = fit_forecast(records, half_life_weeks=math.inf)
    recent = fit_forecast(records, half_life_weeks=2.0)
    truth = profile("A", 2, 12) * 1.3
    assert abs(recent.expected("A", 2, 12) - truth) < abs(flat.expected("A", 2, 12) - truth)
    assert recent.expected("A", 2, 12) > flat.expected("A", 2, 12)


def test_holiday_forecast_is_closed_or_reduced():
    model = fit_forecast(history(6))
    day = date(2025, 5, 5)  # a Monday
    holiday = date(2025, 5, 6)
    full = model.for_date(day)
    assert full["A"][12] == pytest.approx(model.expected("A", 0, 12))
    assert model.for_date(holiday, holidays={holiday}) == {"A": {}, "B": {}}
    half = model.for_date(holiday, holidays={holiday}, reduced={holiday: 0.5})
    assert half["A"][12] == pytest.approx(0.5 * model.expected("A", 1, 12))
    open_hour, prof = model.profile(day)
    assert open_hour == 9 and len(prof["A"]) == len(HOURS)
    assert model.profile(holiday, holidays={holiday}) == (0, {})
    assert model.for_date(date(2025, 5, 10)) == {"A": {}, "B": {}}  # a Saturday: no hours


def test_evaluate_on_held_out_weeks():
    records = history(12, seed=2)
    scores = evaluate_forecast(records, holdout_weeks=2, half_life_weeks=6.0)
    assert scores["cells"] == 2 * 5 * len(HOURS) * 2
    assert scores["mae"] < scores["rmse"] < 2 * scores["mae"]
    # The error is essentially Poisson noise: compare with the true profile as forecast.
    last = START + timedelta(weeks=12) - timedelta(days=3)  # the last Friday
    cells = {(g, d, h): c for (d, h), g, c in records}
    held_out = [
        (g, d, h)
        for d in (last - timedelta(days=k) for k in range(14))
        if d.weekday() < 5
        for g in ("A", "B")
        for h in HOURS
    ]
    oracle_abs = sum(
        abs(profile(g, d.weekday(), h) - cells.get((g, d, h), 0)) for g, d, h in held_out
    )
    oracle_wape = oracle_abs / sum(cells.get(k, 0) for k in held_out)
    assert scores["actual_total"] == sum(cells.get(k, 0) for k in held_out)
    assert scores["wape"] < 1.15 * oracle_wape


def test_aware_datetimes_and_time_zones():
    baku = ZoneInfo("Asia/Baku")
    local = datetime(2025, 3, 3, 10, 15, tzinfo=baku)
    utc = local.astimezone(UTC)
    cells = normalise_records(
        [ArrivalRecord(local, "A", 2), (utc, "A", 1), ((date(2025, 3, 3), 10), "A", 1)],
        tz="Asia/Baku",
    )
    assert cells == {("A", date(2025, 3, 3), 10): 4.0}
    with pytest.raises(ValueError, match="naive"):
        normalise_records([(datetime(2025, 3, 3, 10), "A", 1)])
    with pytest.raises(ValueError):
        normalise_records([((date(2025, 3, 3), 25), "A", 1)])
    with pytest.raises(ValueError):
        fit_forecast([((date(2025, 3, 3), 10), "A", 1)], holidays={date(2025, 3, 3)})
