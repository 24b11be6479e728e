from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from onestop.catalogue.models import Channel, Service, ServiceGroup
from onestop.centres.models import Centre
from onestop.core import clock
from onestop.core.calendar import WEEKDAYS

from .selectors import service_search


def _weekday_label(day: str) -> str:
    return {
        "mon": _("Monday"), "tue": _("Tuesday"), "wed": _("Wednesday"), "thu": _("Thursday"),
        "fri": _("Friday"), "sat": _("Saturday"), "sun": _("Sunday"),
    }[day]


def _links(specs):
    out = []
    for name, title, text in specs:
        try:
            out.append({"url": reverse(name), "title": title, "text": text})
        except NoReverseMatch:
            continue
    return out


def landing(request):
    country = request.country
    citizen = _links([
        ("web:services", _("Services"), _("Every service card: documents, fees, terms")),
        ("appointments:portal", _("Book an appointment"), _("Choose a centre, a day and a time")),
        ("appointments:my_booking", _("My booking"), _("View, move or cancel a booking")),
        ("queueing:remote_join", _("Join the queue from home"), _("Take today's ticket from your phone")),
    ])
    staff = _links([
        ("queueing:kiosk_index", _("Kiosk"), _("Ticket machine for the hall")),
        ("queueing:board_index", _("Display board"), _("Called tickets and waits")),
        ("queueing:counter_index", _("Counter console"), _("Call, serve and finish")),
        ("queueing:reception_index", _("Reception"), _("Issue tickets for citizens")),
        ("planning:index", _("Capacity planning"), _("Forecast, staffing plan and what-if")),
        ("admin:index", _("Administration"), _("Catalogue, centres, staff, audit trail")),
        ("api-docs", _("API"), _("OpenAPI description of /api/v1/")),
        ("healthz", _("Health"), _("Database status")),
    ])
    centres = Centre.objects.filter(country=country, archived_at__isnull=True) if country else []
    return render(request, "web/landing.html", {"citizen_links": citizen, "staff_links": staff, "centres": centres})


def services(request):
    country = request.country
    if country is None:
        raise Http404("No country pack is loaded.")
    query = request.GET.get("q", "").strip()[:100]
    group = request.GET.get("group", "").strip()[:40]
    items = service_search(country, query, group)
    groups = ServiceGroup.objects.filter(country=country, archived_at__isnull=True)
    return render(request, "web/services.html", {"services": items, "groups": groups, "query": query, "group": group})


def service(request, code: str):
    country = request.country
    if country is None:
        raise Http404("No country pack is loaded.")
    try:
        item = Service.objects.select_related("agency", "group").get(country=country, code=code)
    except Service.DoesNotExist:
        raise Http404("No such service.") from None
    tiers = [t for t in item.tiers.all() if t.archived_at is None]
    centres = []
    today = clock.local_today(country.time_zone)
    centre_qs = (Centre.objects.filter(country=country, archived_at__isnull=True,
                                       counters__group_links__group=item.group, counters__archived_at__isnull=True)
                 .distinct().prefetch_related("route"))
    for centre in centre_qs:
        if centre.kind == "mobile" and "mobile" not in item.channels:
            continue
        if centre.kind == "fixed" and "hall" not in item.channels:
            continue
        hours = [{"day": _weekday_label(d), "intervals": centre.hours.get(d, [])} for d in WEEKDAYS]
        stops = [s for s in centre.route.all() if today <= s.date <= today + timedelta(days=60)][:5]
        centres.append({"centre": centre, "hours": hours if centre.kind == "fixed" else [], "stops": stops})
    channels = [Channel(c).label for c in item.channels if c in Channel.values]
    return render(request, "web/service.html", {
        "service": item, "tiers": tiers, "documents": item.documents, "centres": centres, "channels": channels,
    })


def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        db = {"status": "ok", "vendor": connection.vendor}
        code = 200
    except Exception as exc:  # report, do not crash
        db = {"status": "error", "vendor": connection.vendor, "detail": exc.__class__.__name__}
        code = 503
    return JsonResponse({"status": "ok" if code == 200 else "error", "database": db}, status=code)
