"""Hall screens of the electronic queue, under /hall/.

* kiosk (no login): language first, then a service group, a service, priority and phone;
  prints an 80 mm ticket with a QR code to the ticket's phone page;
* display board (no login): last calls and waits, live over ``/ws/board/<centre>/``;
* counter console (operator of the counter): every transition of the queue services;
* reception (staff of the centre): tickets on a citizen's behalf, queue overview;
* ticket phone page (the ticket's secret token): status, position, estimate, cancel;
* remote join (citizen, phone code): today's ticket from home.

Every change goes through :mod:`onestop.queueing.services`; a refusal of the domain
(:class:`~onestop.core.problems.DomainError`) or of scope (``PermissionDenied``) is shown
to the user as a message, never as a server error.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import cast
from zoneinfo import ZoneInfo

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from onestop.accounts.scope import can_see_centre, centres_for
from onestop.catalogue.models import PriorityGroup, ServiceGroup
from onestop.centres.models import Centre, Counter
from onestop.core import clock
from onestop.core.models import translate
from onestop.core.problems import Conflict, DomainError

from . import services
from .forms import (
    BreakForm,
    FinishForm,
    KioskTicketForm,
    ReceptionTicketForm,
    RemoteJoinForm,
    TransferForm,
    WalkInForm,
    offered_groups,
    offered_services,
)
from .models import CounterStatus, Source, Status, Ticket
from .routing import choose_next, overtaken_ids
from .selectors import (
    board_snapshot,
    counter_groups,
    counter_state,
    estimate_for,
    group_rates,
    queue_overview,
    routing_params,
    ticket_position,
    waiting_for_groups,
)
from .templatetags.hall_numbers import local_number

KIOSK_RETURN_SECONDS = 12
RATES_CACHE_SECONDS = 60
TICKET_SELECT = ("centre__country", "group", "counter", "service", "priority_group")

# --------------------------------------------------------------------------- shared helpers


def _country(request):
    country = getattr(request, "country", None)
    if country is None:
        raise Http404("No country pack is loaded.")
    return country


def _centre(request, code: str) -> Centre:
    return get_object_or_404(Centre.objects.select_related("country"), country=_country(request), code=code,
                             archived_at__isnull=True)


def _counter(request, pk: int) -> Counter:
    return get_object_or_404(Counter.objects.select_related("centre__country"), pk=pk, archived_at__isnull=True,
                             centre__country=_country(request), centre__archived_at__isnull=True)


def _denied(request, exc: PermissionDenied):
    template = "queueing/_denied.html" if getattr(request, "htmx", False) else "queueing/denied.html"
    return render(request, template, {"message": str(exc) or _("You may not do this.")}, status=403)


FIELD_ALIASES = {"otp": "code", "services": "services", "priority_group": "priority_group"}


def _form_error(form, exc: DomainError) -> None:
    field = FIELD_ALIASES.get(exc.field or "", exc.field)
    form.add_error(field if field in form.fields else None, exc.detail)


def _require_valid(form) -> dict:
    """Clean a form of the console; its first error becomes a DomainError shown like the services' ones."""
    if form.is_valid():
        return form.cleaned_data
    for errors in form.errors.values():
        raise DomainError(str(errors[0]), status_code=422)
    raise DomainError(_("Check the form."), status_code=422)


def estimate_minutes(mean: float, p95: float) -> tuple[int, int]:
    """Whole minutes to announce: the mean rounded (at least 1), the 95th percentile rounded up."""
    low = max(1, round(mean))
    return low, max(low, math.ceil(p95))


def estimate_text(estimate: dict | None, number: Callable[[int], str] = str) -> str:
    """The sentence: "about 12 min, at most 36 min"; ``number`` writes the minutes."""
    if not estimate:
        return ""
    low, high = estimate_minutes(estimate["mean_minutes"], estimate["p95_minutes"])
    return _("about %(mean)s min, at most %(p95)s min") % {"mean": number(low), "p95": number(high)}


def estimate_range(estimate: dict | None, number: Callable[[int], str] = str) -> str:
    """The short form for tables: "12–36 min" (about 12, at most 36); ``number`` writes the minutes."""
    if not estimate:
        return ""
    low, high = estimate_minutes(estimate["mean_minutes"], estimate["p95_minutes"])
    return _("%(mean)s–%(p95)s min") % {"mean": number(low), "p95": number(high)}


def _estimate_dict(estimate) -> dict | None:
    if estimate is None or not math.isfinite(estimate.mean) or not math.isfinite(estimate.p95):
        return None
    return {"mean_minutes": round(estimate.mean, 1), "p95_minutes": round(estimate.p95, 1)}


def _cached_rates(centre: Centre, group: ServiceGroup) -> tuple[float, float]:
    """Learned rates change slowly; every open ticket page asks on every push, so keep them a minute."""
    key = f"queueing:rates:{centre.pk}:{group.pk}"
    return cast("tuple[float, float]",
                cache.get_or_set(key, lambda: group_rates(centre, group), RATES_CACHE_SECONDS))


def _live_estimate(ticket: Ticket, ahead: int) -> dict | None:
    return _estimate_dict(estimate_for(ticket.centre, ticket.group, ahead,
                                       rates=_cached_rates(ticket.centre, ticket.group)))


def _overview_rows(centre: Centre, group_codes=None) -> list[dict]:
    rows = []
    for item in queue_overview(centre):
        if group_codes is not None and item.group.code not in group_codes:
            continue
        estimate = _estimate_dict(item.estimate)
        rows.append({"group": item.group, "name": translate(item.group.name) or item.group.code,
                     "waiting": item.waiting, "open_counters": item.open_counters, "estimate": estimate,
                     # hall screens (kiosk, console, reception): minutes in the active language's digits
                     "estimate_text": estimate_text(estimate, local_number),
                     "estimate_range": estimate_range(estimate, local_number)})
    return rows


def _js_texts() -> dict:
    """Sentences the pages' scripts fill in, with named placeholders (translated once, here)."""
    return {
        "estimate": _("about %(mean)s min, at most %(p95)s min"),
        "estimate_range": _("%(mean)s–%(p95)s min"),
        "ahead": _("People ahead of you: %(count)s"),
        "next": _("You are next."),
        "go_to": _("Please go to counter %(counter)s"),
        "counter": _("Counter %(counter)s"),
        "waiting": _("Waiting"),
        "no_estimate": _("no estimate yet"),
        "offline": _("Reconnecting…"),
        "no_calls": _("No tickets called yet"),
    }


def _status_labels() -> dict:
    return {value: str(label) for value, label in Status.choices}


# --------------------------------------------------------------------------- ticket state (phone page, WebSocket)


def ticket_state(ticket: Ticket, language: str | None = None) -> dict:
    """What the ticket's phone page shows, JSON-serialisable; texts in ``language`` (default: active)."""
    lang = language or translation.get_language() or ticket.language
    with translation.override(lang):
        waiting = ticket.status == Status.WAITING
        position = ticket_position(ticket) if waiting else None
        return {
            "number": ticket.number,
            "status": ticket.status,
            "status_label": str(Status(ticket.status).label),
            "position": position,
            "estimate": _live_estimate(ticket, position) if position is not None else None,  # None: not waiting
            "counter": cast(Counter, ticket.counter).number if ticket.counter_id else None,
            "service": translate(ticket.service.name, lang) or ticket.service.code,
            "centre": translate(ticket.centre.name, lang) or ticket.centre.code,
            "recalls": ticket.recalls,
            "can_cancel": ticket.status in (Status.WAITING, Status.PARKED),
        }


def _ticket_url(request, ticket: Ticket) -> str:
    path = reverse("queueing:ticket_page", kwargs={"token": ticket.token})
    return request.build_absolute_uri(f"{path}?lang={ticket.language}" if ticket.language else path)


def qr_svg(url: str, title: str = ""):
    """The QR code of ``url`` as inline SVG (segno escapes the title; the rest is generated paths)."""
    svg = segno.make(url, error="m").svg_inline(scale=4, border=2, title=title or None, svgclass="qr")
    return mark_safe(svg)  # noqa: S308 - markup generated by segno, no user input besides the escaped title


def ahead_count_text(ahead: int) -> str:
    """ "3 people ahead of you" with the count in the active language's digits (the slip's msgids)."""
    return ngettext("%(counter)s person ahead of you", "%(counter)s people ahead of you", ahead) % {
        "counter": local_number(ahead)}


def _slip_context(request, ticket: Ticket) -> dict:
    """The printed ticket: number, service, centre, local time, estimate and the QR code.

    Counts and minutes are in the active language's digits; the number and the time as printed.
    """
    url = _ticket_url(request, ticket)
    local = ticket.issued_at.astimezone(ZoneInfo(ticket.centre.time_zone))
    estimate = None
    if ticket.estimate_mean is not None and ticket.estimate_p95 is not None:
        estimate = {"mean_minutes": ticket.estimate_mean, "p95_minutes": ticket.estimate_p95}
    ahead = ticket_position(ticket)
    return {
        "ticket": ticket,
        "service_name": translate(ticket.service.name) or ticket.service.code,
        "centre_name": translate(ticket.centre.name) or ticket.centre.code,
        "priority_name": translate(cast(PriorityGroup, ticket.priority_group).name) if ticket.priority_group_id else "",
        "issued_local": f"{local:%d.%m.%Y %H:%M}",
        "ahead": ahead,
        "ahead_text": ahead_count_text(ahead),
        "estimate_text": estimate_text(estimate, local_number),
        "ticket_url": url,
        "qr": qr_svg(url, _("Follow your ticket on your phone")),
    }


def _centre_list(request, centres, title: str, link_name: str, intro: str):
    items = [{"centre": c, "name": translate(c.name) or c.code, "address": translate(c.address),
              "url": reverse(link_name, kwargs={"centre": c.code})} for c in centres]
    return render(request, "queueing/centre_index.html", {"items": items, "title": title, "intro": intro})


# --------------------------------------------------------------------------- kiosk


def kiosk_index(request):
    centres = Centre.objects.filter(country=_country(request), archived_at__isnull=True)
    return _centre_list(request, centres, _("Kiosk"), "queueing:kiosk",
                        _("Choose the centre whose hall this ticket machine stands in."))


def kiosk(request, centre):
    centre = _centre(request, centre)
    country = centre.country
    codes = country.language_codes
    lang = translation.get_language()
    groups = offered_groups(centre)
    by_code = {g.code: g for g in groups}
    all_services = offered_services(centre)
    status = 200
    if request.method == "POST":
        form = KioskTicketForm(request.POST, centre=centre)
        if form.is_valid():
            data = form.cleaned_data
            try:
                ticket = services.ticket_issue(centre=centre, service=data["service"], source=Source.KIOSK,
                                               priority_group=data["priority_group"], phone=data["phone"],
                                               language=lang if lang in codes else "")
            except DomainError as exc:
                _form_error(form, exc)
                status = exc.status_code
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
                status = 403
            else:
                url = reverse("queueing:kiosk_ticket", kwargs={"centre": centre.code, "token": ticket.token})
                return redirect(f"{url}?lang={ticket.language}")
        else:
            status = 422
        service = form.fields["service"].services.get(request.POST.get("service", ""))
        group = service.group if service else None
        screen = "details" if service else "groups"
    else:
        form = None
        group = by_code.get(request.GET.get("group", ""))
        service = next((s for s in all_services if s.code == request.GET.get("service")), None)
        if len(codes) > 1 and request.GET.get("lang") not in codes:
            screen = "language"
        elif service is not None:
            group, screen = service.group, "details"
        elif group is not None:
            in_group = [s for s in all_services if s.group_id == group.pk]
            if len(in_group) == 1:
                service, screen = in_group[0], "details"
            else:
                screen = "services"
        else:
            screen = "groups"
        if screen == "details":
            form = KioskTicketForm(centre=centre, initial={"service": service.code, "priority_group": ""})
    languages = []
    if screen == "language":
        for item in country.languages:
            with translation.override(item["code"]):
                languages.append({"code": item["code"], "name": item["name"], "hint": _("Take a ticket"),
                                  "rtl": translation.get_language_bidi()})
    tiles = []
    if screen == "groups":
        overview = {row["group"].pk: row for row in _overview_rows(centre)}
        for g in groups:
            row = overview.get(g.pk, {})
            waiting = row.get("waiting", 0)
            tiles.append({"group": g, "name": translate(g.name) or g.code, "waiting": waiting,
                          "waiting_text": ngettext("%(counter)s waiting", "%(counter)s waiting", waiting) % {
                              "counter": local_number(waiting)},
                          "estimate_text": row.get("estimate_text", "")})
    priorities = []
    if form is not None:
        for code, group_obj in form.priority_groups.items():
            priorities.append({"code": code, "name": translate(group_obj.name) or code,
                               "proof": translate(group_obj.proof)})
    context = {
        "centre": centre, "centre_name": translate(centre.name) or centre.code, "screen": screen,
        "languages": languages, "tiles": tiles, "group": group,
        "group_name": translate(group.name) if group else "",
        "group_services": [{"service": s, "name": translate(s.name) or s.code} for s in all_services
                           if group is not None and s.group_id == group.pk],
        "service": service, "service_name": translate(service.name) if service else "",
        "form": form, "priorities": priorities, "lang": lang,
        "start_url": reverse("queueing:kiosk", kwargs={"centre": centre.code}),
        "multilingual": len(codes) > 1,
    }
    return render(request, "queueing/kiosk.html", context, status=status)


def kiosk_ticket(request, centre, token):
    centre = _centre(request, centre)
    ticket = get_object_or_404(Ticket.objects.select_related(*TICKET_SELECT), centre=centre, token=token)
    context = _slip_context(request, ticket)
    context.update({"centre": centre, "return_seconds": KIOSK_RETURN_SECONDS,
                    "start_url": reverse("queueing:kiosk", kwargs={"centre": centre.code})})
    return render(request, "queueing/kiosk_ticket.html", context)


# --------------------------------------------------------------------------- display board


def board_index(request):
    centres = list(Centre.objects.filter(country=_country(request), archived_at__isnull=True)
                   .prefetch_related("counters"))
    items = []
    for c in centres:
        zones = sorted({k.zone for k in c.counters.all() if k.zone and k.archived_at is None})
        url = reverse("queueing:board", kwargs={"centre": c.code})
        items.append({"centre": c, "name": translate(c.name) or c.code, "address": translate(c.address), "url": url,
                      "zones": [{"zone": z, "url": f"{url}?zone={z}"} for z in zones]})
    return render(request, "queueing/centre_index.html", {
        "items": items, "title": _("Display board"),
        "intro": _("Open the board of a centre on the hall's screen, or one board per zone.")})


def board(request, centre):
    centre = _centre(request, centre)
    zone = (request.GET.get("zone") or "").strip()[:20]
    counters = list(Counter.objects.filter(centre=centre, archived_at__isnull=True)
                    .prefetch_related("group_links__group"))
    zones = sorted({c.zone for c in counters if c.zone})
    if zone and zone not in zones:
        raise Http404("No such zone.")
    zone_groups = None
    if zone:
        zone_groups = sorted({link.group.code for c in counters if c.zone == zone for link in c.group_links.all()})
    snapshot = board_snapshot(centre, zone=zone or None)
    groups = [g for g in snapshot["groups"] if zone_groups is None or g["group"] in zone_groups]
    for g in groups:
        g["label"] = translate(g["name"]) or g["group"]
        g["estimate_range"] = estimate_range(g["estimate"], local_number)  # minutes in the board's digits
    context = {
        "centre": centre, "centre_name": translate(centre.name) or centre.code, "zone": zone,
        "calls": snapshot["calls"], "groups": groups,
        "counter_zones": {str(c.number): c.zone for c in counters},
        "zone_groups": zone_groups or [],
        "speech": _("Ticket %(number)s, counter %(counter)s"),
        "texts": _js_texts(),
        "ws_path": f"/ws/board/{centre.code}/",
    }
    return render(request, "queueing/board.html", context)


# --------------------------------------------------------------------------- counter console


def _may_operate(user, counter: Counter) -> bool:
    try:
        services.check_operator(user, counter)
    except PermissionDenied:
        return False
    return True


@login_required
def counter_index(request):
    country = _country(request)
    centres = centres_for(request.user).filter(country=country, archived_at__isnull=True)
    counters = (Counter.objects.filter(centre__in=centres, archived_at__isnull=True)
                .select_related("centre__country", "state").order_by("centre__position", "centre__code", "number"))
    own = request.user.counter_id
    by_centre: dict[int, dict] = {}
    for counter in counters:
        if not _may_operate(request.user, counter):
            continue
        state = getattr(counter, "state", None)
        entry = by_centre.setdefault(counter.centre_id, {"name": translate(counter.centre.name), "counters": []})
        entry["counters"].append({"counter": counter, "own": counter.pk == own,
                                  "status": state.status if state else CounterStatus.CLOSED,
                                  "status_label": CounterStatus(state.status if state else "closed").label})
    return render(request, "queueing/counter_index.html", {"centres": list(by_centre.values()),
                                                           "own": request.user.counter})


def _ticket_at(counter: Counter, raw) -> Ticket:
    pk = str(raw or "")
    ticket = None
    if pk.isdigit():
        ticket = Ticket.objects.select_related(*TICKET_SELECT).filter(pk=int(pk), counter=counter).first()
    if ticket is None:
        raise Conflict(_("This ticket is no longer at this counter."), code="not_here")
    return ticket


def _counter_action(request, counter: Counter) -> tuple[str, str]:
    """Run one console action through the services; returns (message level, message)."""
    action = request.POST.get("action", "")
    user = request.user
    if action == "open":
        services.counter_open(counter=counter, operator=user)
        return "success", _("The counter is open.")
    if action == "close":
        services.counter_close(counter=counter, operator=user)
        return "success", _("The counter is closed.")
    if action == "break":
        form = BreakForm(request.POST, prefix="break")
        form.fields["reason"].required = False  # the service words the missing reason
        services.counter_break(counter=counter, operator=user, reason=_require_valid(form)["reason"])
        return "success", _("The counter is on a break.")
    if action == "call_next":
        ticket = services.ticket_call_next(counter=counter, operator=user)
        if ticket is None:
            return "info", _("Nobody is waiting for this counter.")
        return "success", _("Ticket %(number)s is called.") % {"number": ticket.number}
    if action == "walk_in":
        service = _require_valid(WalkInForm(request.POST, counter=counter, prefix="walkin"))["service"]
        if service is None:
            raise DomainError(_("Choose the service."), field="service")
        ticket = services.ticket_walk_in(counter=counter, operator=user, service=service)
        return "success", _("Walk-in ticket %(number)s is being served.") % {"number": ticket.number}
    ticket = _ticket_at(counter, request.POST.get("ticket"))
    simple = {
        "recall": (services.ticket_recall, _("Ticket %(number)s is called again.")),
        "no_show": (services.ticket_no_show, _("Ticket %(number)s did not come.")),
        "requeue": (services.ticket_requeue, _("Ticket %(number)s is back in the queue.")),
        "start": (services.ticket_start, _("Serving ticket %(number)s.")),
        "park": (services.ticket_park, _("Ticket %(number)s stepped aside.")),
        "return": (services.ticket_return, _("Ticket %(number)s is back at the counter.")),
    }
    if action in simple:
        func, text = simple[action]
        func(ticket=ticket, operator=user)
        return "success", text % {"number": ticket.number}
    if action == "finish":
        done = _require_valid(FinishForm(request.POST, counter=counter, ticket=ticket, prefix="finish"))["services"]
        services.ticket_finish(ticket=ticket, operator=user, services=done)
        return "success", _("Ticket %(number)s is done.") % {"number": ticket.number}
    if action == "transfer":
        target = _require_valid(TransferForm(request.POST, counter=counter, prefix="transfer"))["target"]
        services.ticket_transfer(ticket=ticket, operator=user, **target)
        return "success", _("Ticket %(number)s is transferred.") % {"number": ticket.number}
    raise DomainError(_("Unknown action."), field="action", status_code=400)


def _next_up(counter: Counter, limit: int = 10) -> list[Ticket]:
    """The order in which this counter would call the waiting tickets (the routing policy, replayed)."""
    groups = counter_groups(counter)
    if not groups:
        return []
    params = routing_params(counter.centre)
    pool = waiting_for_groups(counter.centre, groups.keys(), counter)
    now = clock.now().timestamp() / 60.0
    order: list[int] = []
    while pool and len(order) < limit:
        choice = choose_next(pool, groups, now, params)
        if choice is None:
            break
        order.append(choice.id)
        bumped = set(overtaken_ids(choice, pool))
        pool = [replace(w, overtaken=w.overtaken + 1) if w.id in bumped else w for w in pool if w.id != choice.id]
    rows = Ticket.objects.select_related("service", "group", "priority_group").in_bulk(order)
    out = []
    for pk in order:
        ticket = rows.get(pk)
        if ticket is None:
            continue
        ticket.waited_minutes = max(0, int((clock.now() - ticket.issued_at).total_seconds() // 60))
        ticket.service_name = translate(ticket.service.name) or ticket.service.code
        out.append(ticket)
    return out


def _queue_context(counter: Counter) -> dict:
    codes = counter_groups(counter)
    rows = _overview_rows(counter.centre, set(codes))
    return {"counter": counter, "queue_rows": rows, "next_up": _next_up(counter),
            "waiting_total": sum(r["waiting"] for r in rows),
            "queue_url": reverse("queueing:counter_queue", kwargs={"pk": counter.pk})}


def _console_context(request, counter: Counter, error: str = "") -> dict:
    state = counter_state(counter)
    current = None
    if state.current_id:
        current = Ticket.objects.select_related(*TICKET_SELECT).filter(
            pk=state.current_id, status__in=[Status.CALLED, Status.SERVING]).first()
    parked = list(Ticket.objects.select_related("service").filter(counter=counter, status=Status.PARKED)
                  .order_by("called_at"))
    for ticket in [current, *parked]:
        if ticket is not None:
            ticket.service_name = translate(ticket.service.name) or ticket.service.code
    timeout = int((counter.centre.country.rules or {}).get("queue", {}).get("recall_timeout_seconds", 120))
    context = {
        "counter": counter, "centre_name": translate(counter.centre.name) or counter.centre.code,
        "state": state, "status_label": CounterStatus(state.status).label, "current": current,
        "priority_name": (translate(cast(PriorityGroup, current.priority_group).name)
                          if current and current.priority_group_id else ""),
        "parked": parked, "error": error, "recall_timeout": timeout,
        "break_form": BreakForm(prefix="break"),
        "walkin_form": WalkInForm(counter=counter, prefix="walkin"),
        "finish_form": FinishForm(counter=counter, ticket=current, prefix="finish") if current else None,
        "transfer_form": TransferForm(counter=counter, prefix="transfer") if current else None,
        "console_url": reverse("queueing:counter", kwargs={"pk": counter.pk}),
        "ws_path": f"/ws/board/{counter.centre.code}/",
        "is_open": state.status == CounterStatus.OPEN,
        "is_htmx": bool(getattr(request, "htmx", False)),
    }
    if current is not None and current.called_at is not None:
        context["called_local"] = f"{current.called_at.astimezone(ZoneInfo(counter.centre.time_zone)):%H:%M:%S}"
    context.update(_queue_context(counter))
    return context


@login_required
def counter(request, pk):
    counter = _counter(request, pk)
    try:
        services.check_operator(request.user, counter)
    except PermissionDenied as exc:
        return _denied(request, exc)
    error, status = "", 200
    if request.method == "POST":
        try:
            level, text = _counter_action(request, counter)
        except PermissionDenied as exc:
            return _denied(request, exc)
        except DomainError as exc:
            error, status = exc.detail, exc.status_code
        else:
            messages.add_message(request, messages.SUCCESS if level == "success" else messages.INFO, text)
            if not request.htmx:
                return redirect("queueing:counter", pk=counter.pk)
    template = "queueing/_console.html" if request.htmx else "queueing/counter.html"
    return render(request, template, _console_context(request, counter, error), status=status)


@login_required
def counter_queue(request, pk):
    counter = _counter(request, pk)
    try:
        services.check_operator(request.user, counter)
    except PermissionDenied as exc:
        return _denied(request, exc)
    return render(request, "queueing/_queue_panel.html", _queue_context(counter))


# --------------------------------------------------------------------------- reception


def _reception_scope(request, centre: Centre):
    if not can_see_centre(request.user, centre):
        return _denied(request, PermissionDenied(_("This centre is outside your scope.")))
    return None


@login_required
def reception_index(request):
    centres = centres_for(request.user).filter(country=_country(request), archived_at__isnull=True)
    return _centre_list(request, centres, _("Reception"), "queueing:reception",
                        _("Issue tickets for citizens at the entrance of a centre."))


@login_required
def reception(request, centre):
    centre = _centre(request, centre)
    refused = _reception_scope(request, centre)
    if refused is not None:
        return refused
    country = centre.country
    status = 200
    initial = {"language": translation.get_language() if translation.get_language() in country.language_codes
               else country.default_language}
    form = ReceptionTicketForm(request.POST or None, centre=centre, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                ticket = services.ticket_issue(centre=centre, service=data["service"], source=Source.RECEPTION,
                                               priority_group=data["priority_group"], phone=data["phone"],
                                               language=data["language"] or country.default_language,
                                               actor=request.user)
            except PermissionDenied as exc:
                return _denied(request, exc)
            except DomainError as exc:
                _form_error(form, exc)
                status = exc.status_code
            else:
                messages.success(request, _("Ticket %(number)s is issued.") % {"number": ticket.number})
                url = reverse("queueing:reception", kwargs={"centre": centre.code})
                return redirect(f"{url}?issued={ticket.token}")
        else:
            status = 422
    slip = None
    issued = request.GET.get("issued", "")
    if issued:
        ticket = Ticket.objects.select_related(*TICKET_SELECT).filter(centre=centre, token=issued).first()
        if ticket is not None:
            slip = _slip_context(request, ticket)
    priorities = [{"name": translate(p.name), "proof": translate(p.proof)} for p in form.priority_groups.values()]
    context = {"centre": centre, "centre_name": translate(centre.name) or centre.code, "form": form, "slip": slip,
               "priorities": priorities, "rows": _overview_rows(centre),
               "overview_url": reverse("queueing:reception_overview", kwargs={"centre": centre.code}),
               "ws_path": f"/ws/board/{centre.code}/"}
    return render(request, "queueing/reception.html", context, status=status)


@login_required
def reception_overview(request, centre):
    centre = _centre(request, centre)
    refused = _reception_scope(request, centre)
    if refused is not None:
        return refused
    return render(request, "queueing/_overview.html", {
        "rows": _overview_rows(centre),
        "overview_url": reverse("queueing:reception_overview", kwargs={"centre": centre.code}),
        "ws_path": f"/ws/board/{centre.code}/"})


# --------------------------------------------------------------------------- ticket phone page


def ticket_page(request, token):
    ticket = get_object_or_404(Ticket.objects.select_related(*TICKET_SELECT), token=token)
    if request.method == "POST":
        if request.POST.get("action") == "cancel":
            try:
                services.ticket_cancel(ticket=ticket, actor=None)
            except DomainError as exc:
                messages.error(request, exc.detail)
            except PermissionDenied as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, _("Your ticket is cancelled."))
        return redirect(request.get_full_path())
    state = ticket_state(ticket)
    context = {
        "ticket": ticket, "state": state, "estimate_text": estimate_text(state["estimate"], local_number),
        "ahead_text": "" if state["position"] is None else (
            _("You are next.") if state["position"] == 0
            else _("People ahead of you: %(count)s") % {"count": local_number(state["position"])}),
        "texts": _js_texts(), "labels": _status_labels(), "ws_path": f"/ws/ticket/{ticket.token}/",
    }
    return render(request, "queueing/ticket.html", context)


# --------------------------------------------------------------------------- remote join


def remote_join(request):
    from onestop.accounts.otp import otp_request

    country = _country(request)
    centres = list(Centre.objects.filter(country=country, archived_at__isnull=True, remote_join=True))
    lang = translation.get_language()
    lang = lang if lang in country.language_codes else country.default_language
    step, status, sent = "details", 200, False
    if request.method == "POST":
        form = RemoteJoinForm(request.POST, centres=centres)
        action = request.POST.get("action", "send")
        if not form.is_valid():
            status = 422  # the details themselves are wrong: back to the first step
        elif action == "join":
            data = form.cleaned_data
            step = "code"
            if not data["code"]:
                form.add_error("code", _("Enter the code from the SMS."))
                status = 422
            else:
                try:
                    phone = services.check_remote_join(centre=data["centre"], phone=data["phone"], code=data["code"])
                    ticket = services.ticket_issue(centre=data["centre"], service=data["service"],
                                                   source=Source.REMOTE, phone=phone, language=lang)
                except DomainError as exc:
                    _form_error(form, exc)
                    status = exc.status_code
                else:
                    url = reverse("queueing:ticket_page", kwargs={"token": ticket.token})
                    return redirect(f"{url}?lang={ticket.language}")
        else:
            data = form.cleaned_data
            try:
                otp_request(phone=data["phone"], region=country.phone_region, language=lang, purpose="remote_join")
            except DomainError as exc:
                _form_error(form, exc)
                status = exc.status_code
            else:
                step, sent = "code", True
    else:
        form = RemoteJoinForm(centres=centres, initial={"centre": request.GET.get("centre", "")})
    return render(request, "queueing/remote_join.html",
                  {"form": form, "step": step, "sent": sent, "centres": centres}, status=status)
