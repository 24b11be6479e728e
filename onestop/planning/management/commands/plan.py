"""``onestop plan --centre CODE --date YYYY-MM-DD [--target SPEC] [--json]``.

The recommended counters per service group and opening hour of one day, from the demand
forecast (:func:`onestop.planning.centre.recommended_plan`). See docs/planning.md.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from onestop.centres.models import Counter
from onestop.planning.centre import (
    counter_shares,
    default_target,
    forecast_for,
    group_parameters,
    recommended_plan,
)

from ._common import (
    TARGET_EXAMPLES,
    add_centre_arguments,
    centre_label,
    find_centre,
    forecast_line,
    parse_day,
    parse_target,
    table,
)


def _pct(value) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _minutes(value) -> str:
    return "-" if value is None else f"{value:.1f} min"


class Command(BaseCommand):
    help = "Counters per service group and hour for a centre and day, from the demand forecast."

    def add_arguments(self, parser):
        add_centre_arguments(parser)
        parser.add_argument(
            "--target",
            metavar="SPEC",
            help=f"staffing target; default: 80/<kpi_targets.max_wait_minutes> of the pack. "
            f"Examples: {TARGET_EXAMPLES}",
        )
        parser.add_argument("--json", action="store_true", help="print JSON instead of a table")

    def handle(self, *args, **options):
        centre = find_centre(options["centre"])
        day = parse_day(options["date"], centre)
        spec = options["target"] or default_target(centre.country)
        goal = parse_target(spec)
        fc = forecast_for(centre, day)
        params = group_parameters(centre, fc.groups)
        try:
            rows = recommended_plan(centre, day, goal, forecast=fc, parameters=params)
        except ValueError as exc:
            raise CommandError(f"bad target '{spec}': {exc}", returncode=1) from None
        rows = [row for row in rows if row["hour"] in fc.open_hours]  # none over lunch
        shares = counter_shares(centre)
        if options["json"]:
            payload = {
                "centre": centre.code,
                "date": day.isoformat(),
                "target": {
                    "spec": spec,
                    "kind": goal.kind,
                    "value": goal.value,
                    "within": goal.within,
                },
                "forecast": {
                    "source": fc.source,
                    "history_days": fc.history_days,
                    "closed_reason": fc.closed_reason,
                    "open_hours": fc.open_hours,
                },
                "groups": {
                    code: {
                        "service_minutes": round(p.service_minutes, 3),
                        "abandon_rate": round(p.abandon_rate, 6),
                        "counters_at_centre": round(shares.get(code, 0.0), 3),
                    }
                    for code, p in params.items()
                },
                "rows": rows,
            }
            self.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False))
            return
        self.stdout.write(f"{centre_label(centre)} · {day:%A} {day.isoformat()}")
        self.stdout.write(f"target: {goal.describe()} ({spec})")
        self.stdout.write(forecast_line(fc))
        if fc.is_closed:
            return
        service_level = goal.kind == "service_level"
        headers = ["group", "hour", "arrivals", "counters", "SIPP", "P(wait)", "mean wait"]
        right = [False, False, True, True, True, True, True]
        if service_level:
            headers.append(f"<= {goal.within:g} min")
            right.append(True)
        lines = []
        for row in rows:
            cells = [
                row["group"],
                f"{row['hour']:02d}:00",
                f"{row['arrivals']:.1f}",
                str(row["counters"]),
                str(row["sipp_counters"]),
                _pct(row["p_wait"]),
                _minutes(row["mean_wait"]),
            ]
            if service_level:
                cells.append(_pct(row["service_level"]))
            lines.append(cells)
        self.stdout.write(table(headers, lines, right))
        per_hour: dict[int, int] = {}
        for row in rows:
            per_hour[row["hour"]] = per_hour.get(row["hour"], 0) + row["counters"]
        peak_hour = max(per_hour, key=lambda h: (per_hour[h], -h))
        have = Counter.objects.filter(centre=centre, archived_at__isnull=True).count()
        planned = sum(r["counters"] for r in rows)
        sipp = sum(r["sipp_counters"] for r in rows)
        self.stdout.write(
            f"counter-hours: {planned} (SIPP {sipp}); peak {per_hour[peak_hour]} counters "
            f"at {peak_hour:02d}:00; the centre has {have} counters"
        )
