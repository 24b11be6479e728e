"""The planning core on the database: history, forecast, parameters, plan, simulation input.

The history is synthetic and deterministic: every open weekday has the same tickets per
service group and local hour, so the fitted forecast must equal them exactly.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from onestop.catalogue.models import Service
from onestop.centres.models import Centre
from onestop.planning import centre as planning
from onestop.planning.simulator import SimConfig
from onestop.queueing.models import Source, Status, Ticket

BAKU = ZoneInfo("Asia/Baku")
# Monday 23 November 2026, 10:00 in Baku: "tomorrow" is Tuesday the 24th.
NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
TOMORROW = date(2026, 11, 24)
FIRST = date(2026, 10, 12)  # a Monday, six weeks of history before NOW
LAST = date(2026, 11, 20)  # the Friday before NOW
HOLIDAY = date(2026, 11, 10)  # a Tuesday: Victory Day (observed) in Azerbaijan

IDCARD = {9: 2, 10: 4, 11: 6, 12: 5, 13: 3, 14: 4, 15: 5, 16: 3, 17: 2}
CIVIL = {9: 1, 10: 1, 11: 3, 12: 1, 13: 1, 14: 1, 15: 1, 16: 1, 17: 1}
PLAN_KEYS = {
    "group",
    "hour",
    "arrivals",
    "offered_load",
    "counters",
    "sipp_counters",
    "p_wait",
    "mean_wait",
    "service_level",
    "p_abandon",
}


def make_history(centre: Centre, first: date = FIRST, last: date = LAST, holiday_rush: bool = True):
    """Tickets on every weekday from ``first`` to ``last``: IDCARD and CIVIL walk-ins per
    local hour, one booked civil check-in at 10:00; on HOLIDAY (if in range) a rush of 30
    an hour that the forecast must ignore. idcard services take 6 or 10 minutes (mean 8),
    civil ones 12; one walk-in in 20 walks away."""
    services = {
        s.group.code: s
        for s in Service.objects.filter(country=centre.country).select_related("group")
    }
    tickets = []
    day = first
    while day <= last:
        if day.weekday() < 5:
            sequence = {"A": 0, "D": 0}
            for code, per_hour in (("idcard", IDCARD), ("civil", CIVIL)):
                service = services[code]
                prefix = service.group.prefix
                for hour, count in per_hour.items():
                    if day == HOLIDAY and holiday_rush:
                        count = 30
                    for k in range(count):
                        sequence[prefix] += 1
                        issued = datetime(
                            day.year, day.month, day.day, hour, 2 * k % 60, tzinfo=BAKU
                        )
                        gone = sequence[prefix] % 20 == 0
                        minutes = 12 if code == "civil" else (6 if k % 2 else 10)
                        called = issued + timedelta(minutes=5)
                        tickets.append(
                            Ticket(
                                centre=centre,
                                day=day,
                                prefix=prefix,
                                sequence=sequence[prefix],
                                number=f"{prefix}{sequence[prefix]:03d}",
                                service=service,
                                group=service.group,
                                source=Source.KIOSK,
                                status=Status.CANCELLED if gone else Status.DONE,
                                issued_at=issued,
                                fairness_at=issued,
                                called_at=None if gone else called,
                                started_at=None if gone else called,
                                finished_at=issued + timedelta(minutes=30)
                                if gone
                                else called + timedelta(minutes=minutes),
                            )
                        )
            civil = services["civil"]
            sequence["D"] += 1
            booked = datetime(day.year, day.month, day.day, 10, 30, tzinfo=BAKU)
            tickets.append(
                Ticket(
                    centre=centre,
                    day=day,
                    prefix="D",
                    sequence=sequence["D"],
                    number=f"D{sequence['D']:03d}",
                    service=civil,
                    group=civil.group,
                    source=Source.APPOINTMENT,
                    status=Status.DONE,
                    issued_at=booked,
                    fairness_at=booked,
                    booked_start=booked,
                    called_at=booked,
                    started_at=booked,
                    finished_at=booked + timedelta(minutes=12),
                )
            )
        day += timedelta(days=1)
    Ticket.objects.bulk_create(tickets)
    return len(tickets)


@pytest.fixture
def hq(loaded_mini):
    return Centre.objects.get(country=loaded_mini, code="hq")


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def test_arrival_history_counts_per_group_and_local_hour(hq, frozen):
    make_history(hq, FIRST, FIRST + timedelta(days=1))  # Monday and Tuesday
    walk = planning.arrival_history(hq, FIRST, FIRST + timedelta(days=2))
    cells = {(r.when, r.group): r.count for r in walk}
    # Local Baku hours, not UTC (09:00 in Baku is 05:00 UTC).
    assert cells[((FIRST, 9), "idcard")] == 2
    assert cells[((FIRST, 11), "idcard")] == 6
    assert cells[((FIRST, 11), "civil")] == 3
    assert sum(r.count for r in walk) == 2 * (sum(IDCARD.values()) + sum(CIVIL.values()))
    # Walk-aways arrived too; bookings are apart.
    booked = planning.arrival_history(
        hq, FIRST, FIRST + timedelta(days=2), planning.BOOKING_SOURCES
    )
    assert [(r.when, r.group, r.count) for r in booked] == [
        ((FIRST, 10), "civil", 1.0),
        ((FIRST + timedelta(days=1), 10), "civil", 1.0),
    ]
    # ``until`` is exclusive.
    assert {r.when[0] for r in planning.arrival_history(hq, FIRST, FIRST + timedelta(days=1))} == {
        FIRST
    }


def test_forecast_from_history_recovers_the_profile_and_skips_the_holiday(hq, frozen):
    make_history(hq)
    fc = planning.forecast_for(hq, TOMORROW)
    assert fc.source == "history"
    assert fc.history_days == 5  # six Tuesdays, one of them a holiday
    assert fc.hours == list(range(9, 18)) and fc.open_hours == fc.hours
    assert fc.codes == ["idcard", "civil"]
    assert fc.walk_ins["idcard"] == pytest.approx([IDCARD[h] for h in fc.hours])
    assert fc.walk_ins["civil"] == pytest.approx([CIVIL[h] for h in fc.hours])
    assert fc.bookings["civil"] == pytest.approx([1.0 if h == 10 else 0.0 for h in fc.hours])
    assert fc.arrivals()["civil"][1] == pytest.approx(CIVIL[10] + 1)
    assert fc.total() == pytest.approx(sum(IDCARD.values()) + sum(CIVIL.values()) + 1)


def test_closed_days(hq, loaded_mini, frozen):
    assert planning.forecast_for(hq, date(2026, 11, 9)).closed_reason == "holiday"  # Flag Day
    assert planning.forecast_for(hq, date(2026, 12, 30)).closed_reason == "holiday"  # pack closure
    sunday = planning.forecast_for(hq, date(2026, 11, 29))
    assert sunday.is_closed and sunday.closed_reason == "no_hours"
    assert planning.recommended_plan(hq, date(2026, 11, 29)) == []
    with pytest.raises(planning.CentreClosed):
        planning.sim_config(hq, date(2026, 11, 29))
    # Saturday: the pack's weekend does not close a centre that has Saturday hours.
    assert planning.forecast_for(hq, date(2026, 11, 28)).open_hours == [10, 11, 12, 13]
    bus = Centre.objects.get(country=loaded_mini, code="bus")
    on_route = planning.forecast_for(bus, date(2026, 12, 1))
    assert on_route.open_hours == list(range(10, 16)) and on_route.codes == ["civil"]
    assert planning.forecast_for(bus, date(2026, 12, 2)).closed_reason == "no_hours"


def test_lunch_break_is_closed_inside_the_day(loaded_mini, frozen):
    north = Centre.objects.get(country=loaded_mini, code="north")
    fc = planning.forecast_for(north, date(2026, 11, 30))  # Monday: 09-13 and 14-18
    assert fc.hours == list(range(9, 18)) and 13 not in fc.open_hours
    assert fc.walk_ins["idcard"][4] == 0.0
    config = planning.sim_config(north, fc.day, forecast=fc)
    assert config["counters"][0]["shifts"] == [[0.0, 240.0], [300.0, 540.0]]


def test_default_profile_without_history(hq, frozen):
    fc = planning.forecast_for(hq, TOMORROW)
    assert fc.source == "default" and fc.history_days == 0
    # hq: counter 1 serves idcard (level 1) and civil (level 2), counter 2 civil only.
    assert planning.counter_shares(hq) == pytest.approx({"idcard": 2 / 3, "civil": 4 / 3})
    # Busiest hour (11:00 on the typical curve): counters 80 % busy with catalogue times
    # (idcard 8 min, civil 12 min).
    assert max(fc.walk_ins["idcard"]) == pytest.approx(2 / 3 * 0.8 * 60 / 8, abs=0.01)
    assert max(fc.walk_ins["civil"]) == pytest.approx(4 / 3 * 0.8 * 60 / 12, abs=0.01)
    peak = fc.hours[fc.walk_ins["idcard"].index(max(fc.walk_ins["idcard"]))]
    assert peak == 11
    curve = [planning.TYPICAL_DAY[h] for h in fc.hours]
    ratio = [v / c for v, c in zip(fc.walk_ins["idcard"], curve, strict=True)]
    assert max(ratio) - min(ratio) < 0.01  # same shape as the typical day
    assert fc.bookings["civil"] == [0.0] * len(fc.hours)


def test_parameters_learned_from_history_and_catalogue_fallback(hq, frozen):
    fallback = planning.group_parameters(hq)
    assert fallback["idcard"].service_minutes == pytest.approx(8.0)
    assert fallback["civil"].service_minutes == pytest.approx(12.0)
    assert fallback["idcard"].abandon_rate == 0.0 and fallback["idcard"].patience_minutes is None
    assert planning.service_minutes(hq) == pytest.approx({"idcard": 8.0, "civil": 12.0})
    make_history(hq, holiday_rush=False)
    from django.core.cache import cache

    cache.clear()  # group_rates caches for two minutes
    learned = planning.group_parameters(hq)
    assert learned["idcard"].service_minutes == pytest.approx(8.0, abs=0.3)  # 6 or 10 minutes
    assert learned["idcard"].service_cv == pytest.approx(0.25, abs=0.02)
    assert learned["civil"].service_cv == pytest.approx(0.2)  # constant: clipped to the floor
    assert learned["idcard"].abandon_rate > 0
    assert learned["idcard"].patience_minutes == pytest.approx(1 / learned["idcard"].abandon_rate)


def test_plan_rows_shape_and_more_arrivals_never_fewer_counters(hq, frozen):
    fc = planning.forecast_for(hq, TOMORROW)
    rows = planning.recommended_plan(hq, TOMORROW, "80/15", forecast=fc)
    assert len(rows) == len(fc.codes) * len(fc.hours)
    assert all(set(row) == PLAN_KEYS for row in rows)
    assert [(r["group"], r["hour"]) for r in rows] == [(g, h) for g in fc.codes for h in fc.hours]
    assert all(r["counters"] >= 1 for r in rows if r["arrivals"] > 0)
    assert all(r["service_level"] >= 0.8 - 1e-9 for r in rows if r["arrivals"] > 0)
    previous = rows
    for factor in (2, 4):
        busier = planning.CentreForecast(
            centre=hq,
            day=TOMORROW,
            groups=fc.groups,
            hours=fc.hours,
            open_hours=fc.open_hours,
            walk_ins={c: [factor * v for v in fc.walk_ins[c]] for c in fc.codes},
            bookings=fc.bookings,
            source="default",
        )
        more = planning.recommended_plan(hq, TOMORROW, "80/15", forecast=busier)
        assert all(m["counters"] >= p["counters"] for m, p in zip(more, previous, strict=True))
        assert sum(m["counters"] for m in more) > sum(p["counters"] for p in previous)
        previous = more
    # A stricter target needs at least as many counters.
    strict = planning.recommended_plan(hq, TOMORROW, "90/5", forecast=fc)
    assert all(s["counters"] >= r["counters"] for s, r in zip(strict, rows, strict=True))
    assert planning.plan_grid(rows)["idcard"][11] == rows[2]["counters"]


def test_default_target_reads_the_pack(loaded_mini):
    assert planning.default_target(loaded_mini) == "80/15"
    loaded_mini.rules = {**loaded_mini.rules, "kpi_targets": {"max_wait_minutes": 7.5}}
    assert planning.default_target(loaded_mini) == "80/7.5"
    assert "7.5" in planning.describe_target("80/7.5")


def test_sim_config_with_centre_counters_and_with_a_plan(hq, frozen):
    make_history(hq, holiday_rush=False)
    fc = planning.forecast_for(hq, TOMORROW)
    own = planning.sim_config(hq, TOMORROW, forecast=fc)
    cfg = SimConfig.from_dict(own)
    assert [c.name for c in cfg.counters] == ["#1", "#2"]
    assert dict(cfg.counters[0].groups) == {"idcard": 1, "civil": 2}
    assert cfg.counters[0].shifts == ((0.0, 540.0),)
    assert cfg.close == 540.0 and cfg.drain
    idcard = next(g for g in cfg.groups if g.code == "idcard")
    assert idcard.arrivals_per_hour == pytest.approx(tuple(IDCARD[h] for h in fc.hours))
    assert idcard.patience_mean is not None and idcard.service_mean == pytest.approx(8.0, abs=0.3)
    assert cfg.routing.max_priority_overtakes == 3

    plan = {"idcard": {9: 1, 10: 2, 11: 2, 15: 1}, "civil": {11: 1}}
    planned = SimConfig.from_dict(planning.sim_config(hq, TOMORROW, plan, forecast=fc))
    shifts = {c.name: c.shifts for c in planned.counters}
    assert shifts == {
        "A1": ((0.0, 180.0), (360.0, 420.0)),
        "A2": ((60.0, 180.0),),
        "D1": ((120.0, 180.0),),
    }
    result = planning.run_simulation(
        planning.sim_config(hq, TOMORROW, plan, forecast=fc), 3, seed=1
    )
    kpis = result["kpis"]
    assert kpis["arrivals"]["mean"] > 0 and kpis["unserved"]["mean"] > 0  # civil idle most hours
    assert all(v["low"] is None or v["low"] >= 0 for v in kpis.values())
    assert 0 <= kpis["p_abandon"]["high"] <= 1


def test_mobile_unit_forecast_from_its_latest_stops(loaded_mini, frozen):
    bus = Centre.objects.get(country=loaded_mini, code="bus")
    birth = Service.objects.get(country=loaded_mini, code="birth")
    stops = {
        date(2026, 10, 29): 9,
        date(2026, 11, 4): 3,
        date(2026, 11, 12): 3,
        date(2026, 11, 19): 3,
    }
    tickets = []
    for day, per_hour in stops.items():
        for hour in (10, 11, 12):
            for k in range(per_hour):
                issued = datetime(day.year, day.month, day.day, hour, 5 * k, tzinfo=BAKU)
                n = (hour - 10) * 10 + k + 1
                tickets.append(
                    Ticket(
                        centre=bus,
                        day=day,
                        prefix="D",
                        sequence=n,
                        number=f"D{n:03d}",
                        service=birth,
                        group=birth.group,
                        source=Source.RECEPTION,
                        issued_at=issued,
                        fairness_at=issued,
                    )
                )
    Ticket.objects.bulk_create(tickets)
    fc = planning.forecast_for(bus, date(2026, 12, 1))  # a Tuesday; the stops were not
    assert fc.source == "history" and fc.history_days == 4
    walk = dict(zip(fc.hours, fc.walk_ins["civil"], strict=True))
    # The oldest stop (9 an hour) weighs least: the k-th latest stop is k weeks old.
    weights = [0.5 ** (k / 4) for k in range(4)]
    expected = (3 * sum(weights[:3]) + 9 * weights[3]) / sum(weights)
    assert walk[10] == pytest.approx(expected, abs=1e-3) and 3 < walk[10] < 4.5
    assert walk[13] == 0.0 and walk[15] == 0.0
