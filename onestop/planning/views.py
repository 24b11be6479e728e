"""Capacity planning pages for centre managers, under /planning/.

* ``planning:index`` — the centres in the user's scope;
* ``planning:centre`` — for one centre and day (``?date=``, default tomorrow): the
  forecast per group and hour, the recommended plan (table and chart), and a what-if
  form: edit counters per group and hour, simulate the day, compare with the plan.

Signed-in staff whose role plans (centre managers, national administrators, auditors)
and whose scope includes the centre; everybody else gets 403 before anything is
computed. Charts are inline SVG drawn on the server (:mod:`onestop.planning.charts`).
"""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from onestop.accounts.models import Role
from onestop.accounts.scope import can_see_centre, centres_for, is_staff_member
from onestop.centres.models import Centre, Counter
from onestop.core import clock
from onestop.core.models import translate

from .charts import Series, bar_chart

PLANNING_ROLES = frozenset({Role.NATIONAL_ADMIN, Role.AUDITOR, Role.CENTRE_MANAGER})
WHATIF_REPLICATIONS = 20
WHATIF_SEED = 0
WHATIF_WORKERS = 1  # in the request's own process: no process pool inside the web server
MAX_CELL_COUNTERS = 99
SIMULATION_CACHE_SECONDS = 600


def may_plan(user, centre: Centre | None = None) -> bool:
    """A planning role, and (for a centre) the centre in the user's scope."""
    if not is_staff_member(user) or not (user.is_superuser or user.role in PLANNING_ROLES):
        return False
    return centre is None or can_see_centre(user, centre)


def _country(request):
    country = getattr(request, "country", None)
    if country is None:
        raise Http404("No country pack is loaded.")
    return country


def _denied(request):
    message = _("Capacity planning for this centre is outside your role or scope.")
    return render(request, "planning/denied.html", {"message": message}, status=403)


@login_required
def index(request):
    country = _country(request)
    if not may_plan(request.user):
        return _denied(request)
    centres = centres_for(request.user).filter(country=country, archived_at__isnull=True)
    items = [
        {
            "name": translate(c.name) or c.code,
            "address": translate(c.address),
            "mobile": c.kind == "mobile",
            "url": reverse("planning:centre", kwargs={"centre": c.code}),
        }
        for c in centres
    ]
    return render(request, "planning/index.html", {"items": items})


# --------------------------------------------------------------------------- what-if form


def _field_name(code: str, hour: int) -> str:
    return f"c-{code}-{hour}"


class WhatIfForm(forms.Form):
    """Counters per group and open hour; starts from the recommended plan."""

    def __init__(self, *args, groups, hours, open_hours, plan, **kwargs):
        super().__init__(*args, **kwargs)
        self.groups = groups
        self.hours = hours
        for group in groups:
            name = translate(group.name) or group.code
            for hour in hours:
                if hour not in open_hours:
                    continue
                label = _("%(group)s, %(hour)s") % {"group": name, "hour": f"{hour:02d}:00"}
                self.fields[_field_name(group.code, hour)] = forms.IntegerField(
                    label=label,
                    min_value=0,
                    max_value=MAX_CELL_COUNTERS,
                    initial=plan.get(group.code, {}).get(hour, 0),
                    widget=forms.NumberInput(attrs={"aria-label": label, "class": "cell-input"}),
                )

    def plan(self) -> dict[str, dict[int, int]]:
        out: dict[str, dict[int, int]] = {}
        for group in self.groups:
            for hour in self.hours:
                value = self.cleaned_data.get(_field_name(group.code, hour))
                if value:
                    out.setdefault(group.code, {})[hour] = int(value)
        return out

    def rows(self) -> list[dict]:
        out = []
        for group in self.groups:
            cells = []
            for hour in self.hours:
                name = _field_name(group.code, hour)
                cells.append(self[name] if name in self.fields else None)
            out.append(
                {
                    "name": translate(group.name) or group.code,
                    "prefix": group.prefix,
                    "cells": cells,
                }
            )
        return out


# --------------------------------------------------------------------------- helpers


def _day(request, centre: Centre) -> tuple[date, str]:
    from .centre import check_day

    today = clock.local_today(centre.time_zone)
    tomorrow = today + timedelta(days=1)
    raw = request.GET.get("date", "").strip()
    if not raw:
        return tomorrow, ""
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return tomorrow, _("“%(value)s” is not a date; showing tomorrow.") % {"value": raw[:20]}
    try:
        check_day(day, today)
    except ValueError:
        return tomorrow, _("Choose a date within five years of today; showing tomorrow.")
    return day, ""


def _hour_label(hour: int) -> str:
    return f"{hour:02d}:00"


def _counters_by_hour(centre: Centre, fc) -> list[int]:
    count = Counter.objects.filter(centre=centre, archived_at__isnull=True).count()
    return [count if h in fc.open_hours else 0 for h in fc.hours]


def _number(value: float | None, kind: str) -> str:
    """A figure in the active language: minutes, a share in per cent, or a count."""
    if value is None:
        return "—"
    if kind == "share":
        return _("%(value)s%%") % {"value": number_format(value * 100, decimal_pos=1)}
    if kind == "minutes":
        return _("%(value)s min") % {"value": number_format(value, decimal_pos=1)}
    return number_format(value, decimal_pos=1)


def _kpi(result: dict, key: str, kind: str) -> dict:
    stats = result["kpis"].get(key) or {}
    low, high = stats.get("low"), stats.get("high")
    known = low is not None and high is not None
    return {
        "value": _number(stats.get("mean"), kind),
        "low": _number(low, kind) if known else "",
        "high": _number(high, kind) if known else "",
    }


SHOWN_KPIS = [
    ("mean_wait", gettext_lazy("Mean wait (served citizens)"), "minutes"),
    ("p90_wait", gettext_lazy("90th percentile of the wait"), "minutes"),
    ("p_abandon", gettext_lazy("Walk-aways (share of arrivals)"), "share"),
    ("abandoned", gettext_lazy("Walk-aways (citizens per day)"), "count"),
    ("unserved", gettext_lazy("Not served by closing"), "count"),
    ("utilisation", gettext_lazy("Counter utilisation"), "share"),
]


def _comparison(yours: dict, recommended: dict) -> list[dict]:
    rows = []
    for key, label, kind in SHOWN_KPIS:
        rows.append(
            {
                "label": label,
                "yours": _kpi(yours, key, kind),
                "recommended": _kpi(recommended, key, kind),
            }
        )
    return rows


def _simulate(config: dict) -> dict:
    """Simulate a what-if; results are cached by the whole configuration for ten minutes."""
    from .centre import inputs_digest, run_simulation

    key = "onestop:whatif:" + inputs_digest(config, WHATIF_REPLICATIONS, WHATIF_SEED)
    result = cache.get(key)
    if result is None:
        result = run_simulation(config, WHATIF_REPLICATIONS, WHATIF_SEED, WHATIF_WORKERS)
        cache.set(key, result, SIMULATION_CACHE_SECONDS)
    return result


# --------------------------------------------------------------------------- the page


@login_required
def centre_page(request, centre):
    country = _country(request)
    centre = get_object_or_404(
        Centre.objects.select_related("country"),
        country=country,
        code=centre,
        archived_at__isnull=True,
    )
    if not may_plan(request.user, centre):
        return _denied(request)
    from .centre import (
        default_target,
        describe_target,
        forecast_for,
        group_parameters,
        plan_grid,
        recommended_plan,
        sim_config,
    )

    day, date_error = _day(request, centre)
    fc = forecast_for(centre, day)
    target = default_target(centre.country)
    context = {
        "centre": centre,
        "centre_name": translate(centre.name) or centre.code,
        "day": day,
        "date_error": date_error,
        "forecast": fc,
        "target_text": describe_target(target),
        "replications": WHATIF_REPLICATIONS,
        "max_wait": target.split("/", 1)[1],
    }
    if fc.is_closed:
        return render(request, "planning/centre.html", context)
    params = group_parameters(centre, fc.groups)
    rows = recommended_plan(centre, day, target, forecast=fc, parameters=params)
    grid = plan_grid(rows, hours=fc.open_hours)
    names = {g.code: translate(g.name) or g.code for g in fc.groups}
    hours = [_hour_label(h) for h in fc.hours]
    arrivals = fc.arrivals()
    centre_counters = _counters_by_hour(centre, fc)
    forecast_chart = bar_chart(
        hours,
        [Series(names[c], arrivals[c]) for c in fc.codes],
        chart_id="forecast-chart",
        title=_("Expected arrivals per hour"),
        description=_("Stacked bars: citizens expected in each opening hour, by service group."),
        y_label=_("Citizens per hour"),
        x_label=_("Hour"),
    )
    plan_chart = bar_chart(
        hours,
        [Series(names[c], [grid.get(c, {}).get(h, 0) for h in fc.hours]) for c in fc.codes],
        chart_id="plan-chart",
        title=_("Recommended counters per hour"),
        description=_(
            "Stacked bars: counters the plan needs in each hour, by service group; "
            "the line shows the counters the centre has."
        ),
        y_label=_("Counters"),
        x_label=_("Hour"),
        line=Series(_("Counters at the centre"), centre_counters),
        integer=True,
    )
    by_group = []
    for code in fc.codes:
        cells = [grid.get(code, {}).get(h, 0) if h in fc.open_hours else None for h in fc.hours]
        by_group.append({"name": names[code], "cells": cells, "total": sum(c or 0 for c in cells)})
    totals = [sum(grid.get(c, {}).get(h, 0) for c in fc.codes) for h in fc.hours]
    over = [
        {"hour": _hour_label(h), "need": need, "have": have}
        for h, need, have in zip(fc.hours, totals, centre_counters, strict=True)
        if need > have and have
    ]
    detail = [
        {
            "name": names[row["group"]],
            "hour": _hour_label(row["hour"]),
            "arrivals": number_format(row["arrivals"], decimal_pos=1),
            "counters": row["counters"],
            "sipp": row["sipp_counters"],
            "p_wait": _number(row["p_wait"], "share"),
            "mean_wait": _number(row["mean_wait"], "minutes"),
            "service_level": _number(row["service_level"], "share"),
            "p_abandon": _number(row["p_abandon"], "share"),
        }
        for row in rows
        if row["hour"] in fc.open_hours
    ]
    form_kwargs = {
        "groups": fc.groups,
        "hours": fc.hours,
        "open_hours": fc.open_hours,
        "plan": grid,
    }
    status = 200
    results = None
    if request.method == "POST":
        form = WhatIfForm(request.POST, **form_kwargs)
        if form.is_valid():
            yours_plan = form.plan()
            yours = _simulate(sim_config(centre, day, yours_plan, forecast=fc, parameters=params))
            recommended = _simulate(sim_config(centre, day, grid, forecast=fc, parameters=params))
            results = {
                "rows": _comparison(yours, recommended),
                "yours_hours": sum(sum(v.values()) for v in yours_plan.values()),
                "recommended_hours": sum(sum(v.values()) for v in grid.values()),
            }
        else:
            status = 422
    else:
        form = WhatIfForm(**form_kwargs)
    context.update(
        {
            "hours": hours,
            "hour_pairs": list(zip(fc.hours, hours, strict=True)),
            "groups": [{"code": c, "name": names[c]} for c in fc.codes],
            "forecast_chart": forecast_chart,
            "plan_chart": plan_chart,
            "plan_rows": by_group,
            "plan_totals": totals,
            "plan_total": sum(totals),
            "centre_counters": centre_counters,
            "over": over,
            "detail": detail,
            "service_level": rows and rows[0]["service_level"] is not None,
            "form": form,
            "form_rows": form.rows(),
            "results": results,
            "total_arrivals": round(fc.total()),
            "parameters": [
                {
                    "name": names[c],
                    "minutes": _number(params[c].service_minutes, "minutes"),
                    "patience": _number(params[c].patience_minutes, "minutes"),
                }
                for c in fc.codes
            ],
        }
    )
    return render(request, "planning/centre.html", context, status=status)
