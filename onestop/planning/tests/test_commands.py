"""``onestop plan`` and ``onestop simulate``: tables, JSON, counters-plan files and errors."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from onestop.centres.models import Centre
from onestop.cli import main

from .test_centre import IDCARD, NOW, PLAN_KEYS, TOMORROW, make_history

DAY = TOMORROW.isoformat()


@pytest.fixture
def hq(loaded_mini):
    import time_machine

    centre = Centre.objects.get(country=loaded_mini, code="hq")
    with time_machine.travel(NOW, tick=False):
        make_history(centre, holiday_rush=False)
        yield centre


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_plan_table(hq):
    out, _ = run("plan", "--centre", "hq", "--date", DAY)
    lines = out.splitlines()
    assert lines[0] == "hq (Central hall) · Tuesday 2026-11-24"
    assert lines[1] == "target: 80% within 15 min (80/15)"
    assert lines[2].startswith("forecast: history of 5 open Tuesdays")
    header = lines[3].split()
    assert header == [
        "group",
        "hour",
        "arrivals",
        "counters",
        "SIPP",
        "P(wait)",
        "mean",
        "wait",
        "<=",
        "15",
        "min",
    ]
    rows = [line.split() for line in lines[5:-1]]
    assert len(rows) == 2 * 9
    assert rows[2][:3] == ["idcard", "11:00", f"{IDCARD[11]:.1f}"]
    assert all(r[5].endswith("%") and r[7] == "min" for r in rows)
    # Aligned: every row as wide as the header's columns.
    assert len({line.index("11:00") for line in lines[5:-1] if "11:00" in line}) == 1
    assert lines[-1].startswith("counter-hours: ")
    assert lines[-1].endswith("the centre has 2 counters")


def test_plan_json(hq):
    out, _ = run("plan", "--centre", "hq", "--date", DAY, "--json", "--target", "mean<=5")
    data = json.loads(out)
    assert set(data) == {"centre", "date", "target", "forecast", "groups", "rows"}
    assert data["centre"] == "hq" and data["date"] == DAY
    assert data["target"] == {"spec": "mean<=5", "kind": "mean_wait", "value": 5.0, "within": 0.0}
    assert data["forecast"] == {
        "source": "history",
        "history_days": 5,
        "closed_reason": "",
        "open_hours": list(range(9, 18)),
    }
    assert set(data["groups"]) == {"idcard", "civil"}
    assert set(data["groups"]["idcard"]) == {
        "service_minutes",
        "abandon_rate",
        "counters_at_centre",
    }
    assert len(data["rows"]) == 18 and all(set(r) == PLAN_KEYS for r in data["rows"])
    assert all(r["service_level"] is None for r in data["rows"])
    assert all(r["mean_wait"] <= 5 for r in data["rows"] if r["arrivals"])


def test_plan_skips_the_lunch_closure(hq):
    data = json.loads(run("plan", "--centre", "north", "--date", "2026-11-30", "--json")[0])
    assert data["forecast"]["open_hours"] == [9, 10, 11, 12, 14, 15, 16, 17]
    assert [r["hour"] for r in data["rows"]] == data["forecast"]["open_hours"]
    out, _ = run("plan", "--centre", "north", "--date", "2026-11-30")
    assert "13:00" not in out and "14:00" in out


def test_plan_on_a_closed_day(hq):
    out, _ = run("plan", "--centre", "hq", "--date", "2026-12-30")
    assert out.splitlines()[-1] == "closed: public holiday or closure"
    data = json.loads(run("plan", "--centre", "hq", "--date", "2026-11-29", "--json")[0])
    assert data["rows"] == [] and data["forecast"]["closed_reason"] == "no_hours"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--centre", "nowhere", "--date", DAY],
            "unknown centre 'nowhere' (centres: hq, north, bus)",
        ),
        (["--centre", "hq", "--date", "24.11.2026"], "bad date '24.11.2026': expected YYYY-MM-DD"),
        (["--centre", "hq", "--date", "2026-02-30"], "bad date '2026-02-30': day is out of range"),
        (["--centre", "hq", "--date", "0001-01-01"], "bad date '0001-01-01': 0001-01-01 is more"),
        (["--centre", "hq", "--date", DAY, "--target", "fast"], "bad target 'fast': could not"),
        (
            ["--centre", "hq", "--date", DAY, "--target", "150/10"],
            "bad target '150/10': service_level",
        ),
    ],
)
def test_plan_errors(hq, args, message):
    with pytest.raises(CommandError) as exc:
        run("plan", *args)
    assert str(exc.value).startswith(message)
    assert exc.value.returncode == 1


def test_simulate_table_and_json(hq):
    out, _ = run(
        "simulate", "--centre", "hq", "--date", DAY, "--replications", "3", "--workers", "1"
    )
    lines = out.splitlines()
    assert lines[2] == "counters: the centre's 2 counters, open all day"
    assert lines[3] == "3 simulated days, seed 0; 95% confidence intervals"
    assert lines[4].split() == ["KPI", "mean", "95%", "interval"]
    assert lines[6].startswith("arrivals") and " .. " in lines[6]
    assert any(line.startswith("P90 wait") and "min" in line for line in lines)
    out, _ = run(
        "simulate",
        "--centre",
        "hq",
        "--date",
        DAY,
        "--replications",
        "3",
        "--workers",
        "1",
        "--seed",
        "7",
        "--json",
    )
    data = json.loads(out)
    assert set(data) == {
        "centre",
        "date",
        "counters",
        "counters_plan",
        "target",
        "forecast",
        "replications",
        "seed",
        "kpis",
    }
    assert (data["counters"], data["replications"], data["seed"]) == ("centre", 3, 7)
    assert {"mean_wait", "p90_wait", "p_abandon", "abandoned", "utilisation"} <= set(data["kpis"])
    assert set(data["kpis"]["mean_wait"]) == {"mean", "low", "high", "half_width", "n"}
    assert data["kpis"]["arrivals"]["mean"] == pytest.approx(35 + 15, rel=0.4)


def test_simulate_recommended_and_plan_files(hq, tmp_path):
    args = ["simulate", "--centre", "hq", "--date", DAY, "--replications", "2", "--workers", "1"]
    recommended = json.loads(run(*args, "--recommended", "--json")[0])
    assert recommended["counters"] == "recommended" and recommended["target"] == "80/15"
    # The JSON of `onestop plan` is a counters plan: same plan, same seed, same figures.
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(run("plan", "--centre", "hq", "--date", DAY, "--json")[0])
    from_file = json.loads(run(*args, "--counters-plan", str(plan_file), "--json")[0])
    assert from_file["counters"] == "file" and from_file["kpis"] == recommended["kpis"]
    # CSV and the grid form of JSON give the same plan.
    csv_file = tmp_path / "plan.csv"
    csv_file.write_text(
        "# morning only\ngroup,hour,counters,note\nidcard,9,1,\nidcard,10,2,peak\n"
        "\ncivil,09:00,1,\n"
    )
    grid_file = tmp_path / "grid.json"
    grid_file.write_text(json.dumps({"idcard": {"9": 1, "10": 2}, "civil": {"09": 1}}))
    from_csv = json.loads(run(*args, "--counters-plan", str(csv_file), "--json")[0])
    from_grid = json.loads(run(*args, "--counters-plan", str(grid_file), "--json")[0])
    assert from_csv["kpis"] == from_grid["kpis"]
    assert from_csv["kpis"]["unserved"]["mean"] > 0  # nobody after 11:00


def test_bad_csv_plan_lists_every_problem_with_its_line(hq, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "group,hour,counters\nidcard,9,2\nidcard,9,3\npassport,10,1\ncivil,20,1\n"
        "civil,ten,1\ncivil,11,-2\ncivil,12\n"
    )
    with pytest.raises(CommandError) as exc:
        run("simulate", "--centre", "hq", "--date", DAY, "--counters-plan", str(bad))
    assert exc.value.returncode == 1
    assert str(exc.value) == f"{bad}: 6 problems in the counters plan"
    err = StringIO()
    with pytest.raises(CommandError):
        call_command(
            "simulate",
            "--centre",
            "hq",
            "--date",
            DAY,
            "--counters-plan",
            str(bad),
            stdout=StringIO(),
            stderr=err,
        )
    assert err.getvalue().splitlines() == [
        f"{bad}:3: hour: idcard 09:00 is given twice (first on line 2)",
        f"{bad}:4: group: unknown group 'passport' (this centre serves: idcard, civil)",
        f"{bad}:5: hour: 20:00 is outside the opening hours 09:00-18:00",
        f'{bad}:6: hour: expected a clock hour such as 9, "09" or "09:00", got \'ten\'',
        f"{bad}:7: counters: expected a whole number from 0 to 500, got '-2'",
        f"{bad}:8: row: expected 3 columns, got 2",
    ]


def test_bad_json_plan_points_at_the_line_of_the_field(hq, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(
        '{"rows": [\n  {"group": "idcard", "hour": 9, "counters": 2},\n'
        '  {"group": "idcard",\n   "hour": 10,\n   "counters": 2.5},\n'
        '  {"group": "civil", "hour": 11}\n]}\n'
    )
    err = StringIO()
    with pytest.raises(CommandError):
        call_command(
            "simulate",
            "--centre",
            "hq",
            "--date",
            DAY,
            "--counters-plan",
            str(bad),
            stdout=StringIO(),
            stderr=err,
        )
    assert err.getvalue().splitlines() == [
        f"{bad}:5: counters: expected a whole number from 0 to 500, got 2.5",
        f"{bad}:6: counters: missing (a row needs group, hour and counters)",
    ]
    broken = tmp_path / "broken.json"
    broken.write_text('[\n  {"group": "idcard", "hour": 9, "counters": 2},\n]\n')
    err = StringIO()
    with pytest.raises(CommandError):
        call_command(
            "simulate",
            "--centre",
            "hq",
            "--date",
            DAY,
            "--counters-plan",
            str(broken),
            stdout=StringIO(),
            stderr=err,
        )
    assert err.getvalue().strip() == f"{broken}:3: json: Expecting value"


def test_console_command_exits_1_without_a_traceback(hq, tmp_path, capsys, monkeypatch):
    from django.db import connections

    # run_from_argv closes every connection when done: keep the test's transaction open.
    monkeypatch.setattr(connections, "close_all", lambda: None)
    bad = tmp_path / "bad.csv"
    bad.write_text("group,hour,counters\nidcard,9,many\n")
    code = main(
        ["onestop", "simulate", "--centre", "hq", "--date", DAY, "--counters-plan", str(bad)]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert f"{bad}:2: counters: expected a whole number from 0 to 500, got 'many'" in err
    assert "Traceback" not in err
    assert (
        main(
            [
                "onestop",
                "simulate",
                "--centre",
                "hq",
                "--date",
                DAY,
                "--counters-plan",
                str(tmp_path / "missing.csv"),
            ]
        )
        == 1
    )
    assert "cannot read the counters plan" in capsys.readouterr().err
    assert main(["onestop", "plan", "--centre", "hq", "--date", "tomorrow"]) == 1
    assert "bad date 'tomorrow'" in capsys.readouterr().err
    assert (
        main(["onestop", "simulate", "--centre", "hq", "--date", DAY, "--replications", "1"]) == 1
    )
