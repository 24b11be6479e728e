"""``onestop simulate --centre CODE --date YYYY-MM-DD [--counters-plan FILE] ...``.

Simulates the day many times (:mod:`onestop.planning.simulator`) with the forecast demand
and prints KPIs with 95 % confidence intervals. Counters: the centre's own (default), a
plan file (``--counters-plan``) or the recommended plan (``--recommended``).

A counters plan gives counters per service group and clock hour; cells not given are 0.

* CSV, with a header naming the columns ``group``, ``hour`` and ``counters`` (others are
  ignored; blank lines and lines starting with ``#`` are skipped)::

      group,hour,counters
      idcard,9,4
      idcard,10,6

* JSON, either rows — a list of ``{"group", "hour", "counters"}`` objects or an object
  whose ``"rows"`` are such a list (what ``onestop plan --json`` prints) — or a grid
  ``{"idcard": {"9": 4, "10": 6}, ...}``.

An hour is ``9``, ``"09"`` or ``"09:00"`` and must lie between opening and closing;
counters are whole numbers from 0 to 500. Every problem is reported as
``FILE:LINE: FIELD: message`` on stderr and the command exits with status 1.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from django.core.management.base import BaseCommand, CommandError

from onestop.planning.centre import (
    CentreForecast,
    default_target,
    forecast_for,
    group_parameters,
    plan_grid,
    recommended_plan,
    run_simulation,
    sim_config,
)

from ._common import (
    add_centre_arguments,
    centre_label,
    find_centre,
    forecast_line,
    parse_day,
    parse_target,
    table,
)

MAX_COUNTERS = 500
HOUR_RE = re.compile(r"^\s*(\d{1,2})(?::00)?\s*$")

# KPIs of the table: (key, label, kind) — kind formats the numbers.
TABLE_KPIS = [
    ("arrivals", "arrivals", "count"),
    ("served", "served", "count"),
    ("abandoned", "walked away", "count"),
    ("unserved", "not served by closing", "count"),
    ("mean_wait", "mean wait (served)", "minutes"),
    ("p50_wait", "median wait", "minutes"),
    ("p90_wait", "P90 wait", "minutes"),
    ("p95_wait", "P95 wait", "minutes"),
    ("p_wait", "share who waited", "share"),
    ("p_abandon", "share who walked away", "share"),
    ("utilisation", "counter utilisation", "share"),
    ("mean_queue", "mean queue length", "count"),
]


# --------------------------------------------------------------------------- plan files


@dataclass
class PlanProblems(Exception):
    """Problems of a counters-plan file, each ``(line, field, message)``."""

    path: str
    problems: list[tuple[int, str, str]] = field(default_factory=list)

    def add(self, line: int, name: str, message: str) -> None:
        self.problems.append((line, name, message))

    def lines(self) -> list[str]:
        return [f"{self.path}:{line}: {name}: {message}" for line, name, message in self.problems]


class _Reader:
    """Collects the cells of a plan, checking each against the centre's groups and hours."""

    def __init__(self, path: str, fc: CentreForecast):
        self.errors = PlanProblems(path)
        self.groups = fc.codes
        self.hours = fc.hours
        self.grid: dict[str, dict[int, int]] = {}
        self.seen: dict[tuple[str, int], int] = {}

    def cell(self, line: int | Mapping[str, int], group: Any, hour: Any, counters: Any) -> None:
        """Check and keep one cell; ``line`` is one line, or the line of each field."""
        at = (
            line
            if isinstance(line, Mapping)
            else dict.fromkeys(("group", "hour", "counters"), line)
        )
        ok = True
        if not isinstance(group, str) or group.strip() not in self.groups:
            self.errors.add(
                at["group"],
                "group",
                f"unknown group {group!r} (this centre serves: {', '.join(self.groups)})",
            )
            ok = False
        else:
            group = group.strip()
        clock_hour = self._hour(at["hour"], hour)
        number = self._counters(at["counters"], counters)
        if not ok or clock_hour is None or number is None:
            return
        first = self.seen.get((group, clock_hour))
        if first is not None:
            self.errors.add(
                at["hour"],
                "hour",
                f"{group} {clock_hour:02d}:00 is given twice (first on line {first})",
            )
            return
        self.seen[(group, clock_hour)] = at["hour"]
        self.grid.setdefault(group, {})[clock_hour] = number

    def _hour(self, line: int, value: Any) -> int | None:
        hour = None
        if isinstance(value, int) and not isinstance(value, bool):
            hour = value
        elif isinstance(value, str) and (match := HOUR_RE.match(value)):
            hour = int(match.group(1))
        if hour is None or not 0 <= hour <= 23:
            self.errors.add(
                line, "hour", f'expected a clock hour such as 9, "09" or "09:00", got {value!r}'
            )
            return None
        if hour not in self.hours:
            self.errors.add(
                line,
                "hour",
                f"{hour:02d}:00 is outside the opening hours "
                f"{self.hours[0]:02d}:00-{self.hours[-1] + 1:02d}:00",
            )
            return None
        return hour

    def _counters(self, line: int, value: Any) -> int | None:
        number = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str) and value.strip().isdigit():
            number = int(value.strip())
        if number is None or not 0 <= number <= MAX_COUNTERS:
            self.errors.add(
                line, "counters", f"expected a whole number from 0 to {MAX_COUNTERS}, got {value!r}"
            )
            return None
        return number


def _line_index(text: str) -> list[int]:
    return [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]


def _json_lines(text: str) -> dict[tuple, int]:
    """Line of every value of a (valid) JSON document, by its path of keys and indexes."""
    import bisect

    starts = _line_index(text)
    decoder = json.JSONDecoder()
    ws = re.compile(r"[ \t\n\r]*")
    lines: dict[tuple, int] = {}

    def skip(i: int) -> int:
        return cast(re.Match[str], ws.match(text, i)).end()  # `*` matches, if only the empty string

    def walk(i: int, path: tuple) -> int:
        i = skip(i)
        lines[path] = bisect.bisect_right(starts, i)
        opener = text[i]
        if opener not in "{[":
            return decoder.raw_decode(text, i)[1]
        closer = "}" if opener == "{" else "]"
        i = skip(i + 1)
        if text[i] == closer:
            return i + 1
        index = 0
        while True:
            if opener == "{":
                key, i = decoder.raw_decode(text, skip(i))
                i = skip(i) + 1  # the colon
                i = walk(i, (*path, key))
            else:
                i = walk(i, (*path, index))
                index += 1
            i = skip(i)
            if text[i] == ",":
                i += 1
                continue
            return i + 1

    walk(0, ())
    return lines


def _read_json(text: str, reader: _Reader) -> None:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        reader.errors.add(exc.lineno, "json", exc.msg)
        return
    lines = _json_lines(text)
    rows_path: tuple = ()
    rows = data
    if isinstance(data, dict) and "rows" in data:
        rows, rows_path = data["rows"], ("rows",)
    if isinstance(rows, list):
        for i, row in enumerate(rows):
            at = (*rows_path, i)
            if not isinstance(row, dict):
                reader.errors.add(
                    lines[at], "row", "expected an object with group, hour and counters"
                )
                continue
            missing = [k for k in ("group", "hour", "counters") if k not in row]
            if missing:
                reader.errors.add(
                    lines[at], missing[0], "missing (a row needs group, hour and counters)"
                )
                continue
            where = {name: lines[(*at, name)] for name in ("group", "hour", "counters")}
            reader.cell(where, row["group"], row["hour"], row["counters"])
        return
    if not isinstance(data, dict):
        reader.errors.add(
            1, "json", 'expected a list of rows, an object with "rows", or an object of groups'
        )
        return
    for group, hours in data.items():
        if not isinstance(hours, dict):
            reader.errors.add(
                lines[(group,)], "group", f"{group}: expected an object of hour: counters"
            )
            continue
        for hour, counters in hours.items():
            where = {
                "group": lines[(group,)],
                "hour": lines[(group, hour)],
                "counters": lines[(group, hour)],
            }
            reader.cell(where, group, hour, counters)


def _read_csv(text: str, reader: _Reader) -> None:
    rows = csv.reader(io.StringIO(text))
    header: list[str] | None = None
    columns: dict[str, int] = {}
    for cells in rows:
        line = rows.line_num
        if not cells or not "".join(cells).strip() or cells[0].lstrip().startswith("#"):
            continue
        if header is None:
            header = [c.strip().lower() for c in cells]
            for name in ("group", "hour", "counters"):
                if name not in header:
                    reader.errors.add(
                        line,
                        "header",
                        f"missing column '{name}' (the header needs group,hour,counters)",
                    )
                else:
                    columns[name] = header.index(name)
            if len(columns) < 3:
                return
            continue
        if len(cells) <= max(columns.values()):
            reader.errors.add(line, "row", f"expected {len(header)} columns, got {len(cells)}")
            continue
        reader.cell(
            line, cells[columns["group"]], cells[columns["hour"]], cells[columns["counters"]]
        )
    if header is None:
        reader.errors.add(1, "header", "empty file (the header needs group,hour,counters)")


def read_counters_plan(path: str, fc: CentreForecast) -> dict[str, dict[int, int]]:
    """``{group: {hour: counters}}`` from a CSV or JSON file; raises :class:`PlanProblems`."""
    reader = _Reader(path, fc)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise CommandError(
            f"{path}: cannot read the counters plan: {exc.strerror or exc}", returncode=1
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        reader.errors.add(1, "file", "not UTF-8 text")
        raise reader.errors from None
    is_json = path.lower().endswith(".json") or (
        not path.lower().endswith(".csv") and text.lstrip()[:1] in ("{", "[")
    )
    (_read_json if is_json else _read_csv)(text, reader)
    if reader.errors.problems:
        raise reader.errors
    return reader.grid


# --------------------------------------------------------------------------- the command


def _fmt(value: float | None, kind: str) -> str:
    if value is None:
        return "-"
    if kind == "share":
        return f"{value * 100:.1f}%"
    if kind == "minutes":
        return f"{value:.1f} min"
    return f"{value:.1f}"


class Command(BaseCommand):
    help = "Simulate a centre's day with the forecast demand; KPIs with 95% confidence intervals."

    def add_arguments(self, parser):
        add_centre_arguments(parser)
        staffing = parser.add_mutually_exclusive_group()
        staffing.add_argument(
            "--counters-plan",
            metavar="FILE",
            help="CSV or JSON file of counters per group and hour (see docs/planning.md); "
            "default: the centre's own counters, open all day",
        )
        staffing.add_argument(
            "--recommended",
            action="store_true",
            help="simulate the recommended plan of `onestop plan`",
        )
        parser.add_argument(
            "--target", metavar="SPEC", help="target of --recommended (see `onestop plan`)"
        )
        parser.add_argument(
            "--replications",
            type=int,
            default=50,
            metavar="N",
            help="simulated days (default 50, at least 2)",
        )
        parser.add_argument(
            "--seed", type=int, default=0, metavar="S", help="random seed (default 0)"
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            metavar="W",
            help="worker processes (default: one per CPU)",
        )
        parser.add_argument("--json", action="store_true", help="print JSON instead of a table")

    def handle(self, *args, **options):
        centre = find_centre(options["centre"])
        day = parse_day(options["date"], centre)
        replications = options["replications"]
        if replications < 2:
            raise CommandError(
                "--replications must be at least 2 (an interval needs two days)", returncode=1
            )
        if options["workers"] is not None and options["workers"] < 1:
            raise CommandError("--workers must be at least 1", returncode=1)
        spec = options["target"] or default_target(centre.country)
        goal = parse_target(spec)
        fc = forecast_for(centre, day)
        if fc.is_closed:
            raise CommandError(
                f"{centre.code} is closed on {day.isoformat()}: {forecast_line(fc)}", returncode=1
            )
        params = group_parameters(centre, fc.groups)
        plan: Mapping[str, Mapping[int, int]] | None = None
        staffing = "centre"
        if options["counters_plan"]:
            staffing = "file"
            try:
                plan = read_counters_plan(options["counters_plan"], fc)
            except PlanProblems as problems:
                for line in problems.lines():
                    self.stderr.write(line)
                count = len(problems.problems)
                noun = "problem" if count == 1 else "problems"
                raise CommandError(
                    f"{problems.path}: {count} {noun} in the counters plan", returncode=1
                ) from None
        elif options["recommended"]:
            staffing = "recommended"
            try:
                rows = recommended_plan(centre, day, goal, forecast=fc, parameters=params)
            except ValueError as exc:
                raise CommandError(f"bad target '{spec}': {exc}", returncode=1) from None
            plan = plan_grid(rows, hours=fc.open_hours)
        if plan is not None:
            arrivals = fc.arrivals()
            unstaffed = [
                code
                for code in fc.codes
                if sum(arrivals[code]) > 0 and not any(plan.get(code, {}).values())
            ]
            if unstaffed:
                self.stderr.write(
                    f"warning: no counter in the plan for {', '.join(unstaffed)}: "
                    "those citizens are not served"
                )
        config = sim_config(centre, day, plan, forecast=fc, parameters=params)
        result = run_simulation(
            config, replications, options["seed"], options["workers"], progress=None
        )
        if options["json"]:
            payload = {
                "centre": centre.code,
                "date": day.isoformat(),
                "counters": staffing,
                "counters_plan": options["counters_plan"],
                "target": spec if staffing == "recommended" else None,
                "forecast": {"source": fc.source, "history_days": fc.history_days},
                **result,
            }
            self.stdout.write(json.dumps(payload, indent=2))
            return
        described = {
            "centre": f"the centre's {len(config['counters'])} counters, open all day",
            "file": f"the counters plan {options['counters_plan']}",
            "recommended": f"the recommended plan for {goal.describe()}",
        }[staffing]
        self.stdout.write(f"{centre_label(centre)} · {day:%A} {day.isoformat()}")
        self.stdout.write(forecast_line(fc))
        self.stdout.write(f"counters: {described}")
        self.stdout.write(
            f"{replications} simulated days, seed {options['seed']}; 95% confidence intervals"
        )
        lines = []
        for key, label, kind in TABLE_KPIS:
            stats = result["kpis"].get(key, {})
            low, high = stats.get("low"), stats.get("high")
            interval = (
                "-" if low is None or high is None else f"{_fmt(low, kind)} .. {_fmt(high, kind)}"
            )
            lines.append([label, _fmt(stats.get("mean"), kind), interval])
        self.stdout.write(table(["KPI", "mean", "95% interval"], lines, [False, True, True]))
