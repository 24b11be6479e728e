"""Pages: the citizen portal, "my booking", the kiosk check-in and the reception desk."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any, cast
from zoneinfo import ZoneInfo

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from onestop.accounts.scope import can_see_centre, centres_for, is_staff_member
from onestop.catalogue.models import Service
from onestop.centres.models import Centre
from onestop.core import clock
from onestop.core.models import translate
from onestop.core.problems import DomainError

from . import ics, links, ratelimit, selectors, services
from .forms import CheckInForm, IdentityForm, LookupForm, ReceptionBookingForm
from .models import Booking, BookingSource, BookingStatus, normalise_code

SESSION_PHONE = "appointments.phone_token"

# --------------------------------------------------------------------------- helpers


def _country(request: HttpRequest):
    country = getattr(request, "country", None)
    if country is None:
        raise Http404(_("No country pack is loaded."))
    return country


def _service(country, code: str) -> Service:
    service = (
        Service.objects.select_related("group", "agency")
        .filter(country=country, code=code, archived_at__isnull=True)
        .first()
    )
    if service is None:
        raise Http404(_("Unknown service."))
    return service


def _centre(country, code: str) -> Centre:
    return get_object_or_404(
        Centre.objects.select_related("country").prefetch_related("route"),
        country=country,
        code=code,
        archived_at__isnull=True,
    )


def _day(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise Http404(_("Unknown date.")) from None


def _start(centre: Centre, day: date, hhmm: str) -> datetime:
    try:
        clock_time = time(int(hhmm[:2]), int(hhmm[2:4]))
    except (ValueError, IndexError):
        raise Http404(_("Unknown time.")) from None
    return datetime.combine(day, clock_time, tzinfo=ZoneInfo(centre.time_zone)).astimezone(
        ZoneInfo("UTC")
    )


def _render(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    centre: Centre | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render with times shown in the centre's time zone."""
    tz = (
        centre.time_zone
        if centre is not None
        else ((country := getattr(request, "country", None)) and country.time_zone) or "UTC"
    )
    if "step" in context:
        context["step_labels"] = _step_labels()
    with timezone.override(tz):
        return render(request, template, context, status=status)


def _apply_error(form, exc: DomainError) -> None:
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.detail)


def _rate_limited(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    exc: ratelimit.RateLimited,
    centre: Centre | None = None,
) -> HttpResponse:
    messages.error(request, str(exc.detail))
    response = _render(request, template, context, centre=centre, status=429)
    response["Retry-After"] = str(exc.wait and int(exc.wait))
    return response


def qr_svg(text: str) -> SafeString:
    """The booking code as an inline SVG QR code (kiosk scanners type it into the code field)."""
    svg = segno.make(text, error="m").svg_inline(
        scale=5, border=2, dark="#14213d", light="#ffffff", title=text
    )
    return mark_safe(svg)  # noqa: S308 - segno's own SVG output for a code from our alphabet


def _manage_link(booking: Booking) -> str:
    return reverse("appointments:manage", kwargs={"token": links.manage_token(booking.code)})


def _label_id_field(form, country) -> None:
    """The ID field is labelled with the pack's name for it ("FIN code", "e-Tazkira number")."""
    label = translate((country.national_id or {}).get("label"))
    if label:
        form.fields["national_id"].label = label


def _id_hint(country) -> str:
    example = (country.national_id or {}).get("example", "")
    return _("Example: %(example)s") % {"example": example} if example else ""


def _step_labels() -> list[str]:
    return [_("Service"), _("Centre"), _("Day"), _("Time"), _("Confirm")]


def _verified_phone(request: HttpRequest) -> str:
    return links.read_phone_token(request.session.get(SESSION_PHONE, "")) or ""


# --------------------------------------------------------------------------- portal


def portal(request: HttpRequest) -> HttpResponse:
    """Step 1: choose a service."""
    country = _country(request)
    groups: dict[int, dict[str, Any]] = {}
    for service in selectors.bookable_services(country):
        entry = groups.setdefault(service.group_id, {"group": service.group, "services": []})
        entry["services"].append(service)
    ordered = sorted(groups.values(), key=lambda g: (g["group"].position, g["group"].code))
    return _render(request, "appointments/portal.html", {"groups": ordered, "step": 1})


def centres(request: HttpRequest, service: str) -> HttpResponse:
    """Step 2: choose a centre, with the next free date of each."""
    country = _country(request)
    item = _service(country, service)
    rows = []
    for centre in selectors.centres_offering(item):
        rows.append({"centre": centre, "next": selectors.next_free_date(centre, item.group)})
    rows.sort(key=lambda r: (r["next"] is None, r["next"] or date.max, r["centre"].position))
    return _render(request, "appointments/centres.html", {"service": item, "rows": rows, "step": 2})


def days(request: HttpRequest, service: str, centre: str) -> HttpResponse:
    """Step 3: choose a day."""
    country = _country(request)
    item = _service(country, service)
    place = _centre(country, centre)
    if not selectors.service_offered_at(item, place):
        raise Http404(_("This service cannot be booked at this centre."))
    free = selectors.free_days(place, item.group)
    return _render(
        request,
        "appointments/days.html",
        {
            "service": item,
            "centre": place,
            "days": free,
            "step": 3,
            "horizon": selectors.rules_for(place).horizon_days,
        },
        centre=place,
    )


def slots(request: HttpRequest, service: str, centre: str, day: str) -> HttpResponse:
    """Step 4: choose a time."""
    country = _country(request)
    item = _service(country, service)
    place = _centre(country, centre)
    the_day = _day(day)
    if not selectors.service_offered_at(item, place):
        raise Http404(_("This service cannot be booked at this centre."))
    first, last = selectors.booking_window(place)
    rows = selectors.slots_on(place, item.group, the_day) if first <= the_day <= last else []
    return _render(
        request,
        "appointments/slots.html",
        {
            "service": item,
            "centre": place,
            "day": the_day,
            "slots": rows,
            "step": 4,
        },
        centre=place,
    )


@require_http_methods(["GET", "POST"])
def identity(request: HttpRequest, service: str, centre: str, day: str, hhmm: str) -> HttpResponse:
    """Step 5: ID number, phone and the one-time code; then the booking is made."""
    country = _country(request)
    item = _service(country, service)
    place = _centre(country, centre)
    start = _start(place, _day(day), hhmm)
    verified = _verified_phone(request)
    form = IdentityForm(request.POST or None, initial={"phone": verified})
    _label_id_field(form, country)
    context: dict[str, Any] = {
        "service": item,
        "centre": place,
        "start": start,
        "form": form,
        "step": 5,
        "verified": verified,
        "code_sent": False,
        "id_hint": _id_hint(country),
        "phone_ok": bool(verified) and not request.POST.get("phone"),
    }
    try:
        services.check_target(centre=place, service=item, start=start)
        if request.method == "GET" and selectors.slot_is_full(place, item.group, start):
            raise DomainError(
                _("This time is fully booked. Please choose another time."), field="start"
            )
    except DomainError as exc:
        messages.error(request, exc.detail)
        return redirect("appointments:slots", service=item.code, centre=place.code, day=day)
    if request.method != "POST" or not form.is_valid():
        return _render(request, "appointments/identity.html", context, centre=place)
    action = request.POST.get("action", "send")
    data = form.cleaned_data
    try:
        national_id = services.normalise_national_id(country, data["national_id"])
        phone = services.normalise_phone_number(country, data["phone"])
        context["phone_ok"] = bool(verified) and phone == verified
        if action == "send" and phone != verified:
            from onestop.accounts.otp import otp_request

            ratelimit.hit("otp_per_ip", ratelimit.client_address(request))
            ratelimit.hit("otp_per_phone", phone)
            otp_request(
                phone=phone,
                region=country.phone_region,
                language=translation.get_language() or "",
                purpose="booking",
            )
            context["code_sent"] = True
            context["phone"] = phone
            return _render(request, "appointments/identity.html", context, centre=place)
        ratelimit.hit("booking_per_ip", ratelimit.client_address(request))
        ratelimit.hit("booking_per_national_id", national_id)
        if phone != verified:
            from onestop.accounts.otp import otp_verify

            context["code_sent"] = True
            context["phone"] = phone
            if not data.get("otp"):
                raise DomainError(_("Enter the code we sent to your phone."), field="otp")
            otp_verify(
                phone=phone, region=country.phone_region, code=data["otp"], purpose="booking"
            )
            request.session[SESSION_PHONE] = links.phone_token(phone)
            context["verified"] = phone
            context["phone_ok"] = True
        result = services.booking_create(
            centre=place,
            service=item,
            start=start,
            national_id=national_id,
            phone=phone,
            language=translation.get_language() or "",
            source=BookingSource.PORTAL,
            base_url=request.build_absolute_uri("/"),
        )
    except ratelimit.RateLimited as exc:
        return _rate_limited(request, "appointments/identity.html", context, exc, place)
    except DomainError as exc:
        if exc.field == "start" or exc.code in {"slot_full", "duplicate"}:
            messages.error(request, exc.detail)
            return redirect("appointments:slots", service=item.code, centre=place.code, day=day)
        _apply_error(form, exc)
        return _render(
            request,
            "appointments/identity.html",
            context,
            centre=place,
            status=exc.status_code if exc.status_code >= 400 else 422,
        )
    return HttpResponseRedirect(_manage_link(result.booking) + "?new=1")


# --------------------------------------------------------------------------- my booking


@require_http_methods(["GET", "POST"])
def my_booking(request: HttpRequest) -> HttpResponse:
    """Find a booking by its code and ID number."""
    country = _country(request)
    form = LookupForm(request.POST or None)
    _label_id_field(form, country)
    if request.method == "POST" and form.is_valid():
        try:
            national_id = services.normalise_national_id(country, form.cleaned_data["national_id"])
            ratelimit.hit("booking_per_ip", ratelimit.client_address(request))
            booking = selectors.find_booking(
                country, normalise_code(form.cleaned_data["code"]), national_id
            )
            if booking is None:
                raise DomainError(_("No booking with this code and ID number."), field="code")
        except ratelimit.RateLimited as exc:
            return _rate_limited(request, "appointments/my_booking.html", {"form": form}, exc)
        except DomainError as exc:
            _apply_error(form, exc)
        else:
            return HttpResponseRedirect(_manage_link(booking))
    return _render(request, "appointments/my_booking.html", {"form": form})


def _booking_from_token(request: HttpRequest, token: str) -> Booking:
    code = links.read_manage_token(token)
    booking = selectors.find_booking(_country(request), code) if code else None
    if booking is None:
        raise Http404(
            _(
                "This link is not valid or has expired. "
                "Find your booking with its code and ID number."
            )
        )
    return booking


def manage(request: HttpRequest, token: str) -> HttpResponse:
    """A booking: code, QR code, calendar file, and the buttons to move or cancel it."""
    booking = _booking_from_token(request, token)
    rules = selectors.rules_for(booking.centre)
    opens, closes = services.check_in_window(booking, rules)
    changeable = booking.status == BookingStatus.BOOKED and booking.start > clock.now()
    return _render(
        request,
        "appointments/manage.html",
        {
            "booking": booking,
            "token": token,
            "qr": qr_svg(booking.code),
            "new": request.GET.get("new") == "1",
            "calendar_url": reverse(
                "appointments:calendar", kwargs={"token": links.calendar_token(booking.code)}
            ),
            "changeable": changeable,
            "opens": opens,
            "closes": closes,
            "rules": rules,
        },
        centre=booking.centre,
    )


@require_POST
def cancel(request: HttpRequest, token: str) -> HttpResponse:
    booking = _booking_from_token(request, token)
    try:
        services.booking_cancel(booking=booking)
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, _("Your booking is cancelled."))
    return redirect("appointments:manage", token=token)


@require_http_methods(["GET", "POST"])
def move(request: HttpRequest, token: str) -> HttpResponse:
    """Choose another day and time of the same service at the same centre."""
    booking = _booking_from_token(request, token)
    centre = booking.centre
    if request.method == "POST":
        try:
            ratelimit.hit("booking_per_ip", ratelimit.client_address(request))
            ratelimit.hit("booking_per_national_id", booking.national_id)
            start = services.parse_start(request.POST.get("start", ""), centre)
            services.booking_move(
                booking=booking, start=start, base_url=request.build_absolute_uri("/")
            )
        except ratelimit.RateLimited as exc:
            messages.error(request, str(exc.detail))
        except DomainError as exc:
            messages.error(request, exc.detail)
        else:
            messages.success(request, _("Your booking is moved. We sent the new time by SMS."))
            return redirect("appointments:manage", token=token)
    raw_day = request.GET.get("date") or request.POST.get("date") or ""
    the_day = _day(raw_day) if raw_day else None
    free = selectors.free_days(centre, booking.group)
    rows = selectors.slots_on(centre, booking.group, the_day) if the_day else []
    return _render(
        request,
        "appointments/move.html",
        {
            "booking": booking,
            "token": token,
            "days": free,
            "day": the_day,
            "slots": rows,
        },
        centre=centre,
    )


def calendar(request: HttpRequest, token: str) -> HttpResponse:
    """The booking as an iCalendar (RFC 5545) file."""
    code = links.read_calendar_token(token)
    booking = selectors.find_booking(_country(request), code) if code else None
    if booking is None:
        raise Http404(_("This link is not valid or has expired."))
    language = translation.get_language() or ""
    service = translate(booking.service.name, language) or booking.service.code
    centre = translate(booking.centre.name, language) or booking.centre.code
    body = ics.calendar_event(
        uid=f"{booking.code}@onestop",
        start=booking.start,
        end=booking.end,
        stamp=booking.updated_at,
        summary=_("Appointment: %(service)s") % {"service": service},
        location=", ".join(x for x in [centre, translate(booking.centre.address, language)] if x),
        description=_("Booking code %(code)s. Please bring your ID document.")
        % {"code": booking.display_code},
        url=request.build_absolute_uri(_manage_link(booking)),
        cancelled=booking.status == BookingStatus.CANCELLED,
        sequence=booking.moves,
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="booking-{booking.code}.ics"'
    return response


# --------------------------------------------------------------------------- kiosk


def _ticket_url(ticket) -> str:
    try:
        return reverse("queueing:ticket_page", kwargs={"token": ticket.token})
    except NoReverseMatch:
        return ""


@require_http_methods(["GET", "POST"])
def kiosk_checkin(request: HttpRequest, centre: str) -> HttpResponse:
    """The hall's check-in screen: type (or scan) the booking code, get a ticket."""
    country = _country(request)
    place = _centre(country, centre)
    form = CheckInForm(request.POST or None)
    context: dict[str, Any] = {"centre": place, "form": form}
    if request.method == "POST" and form.is_valid():
        context.update(_check_in(request, place, form, actor=None))
        if context.get("result"):
            form = CheckInForm()  # a fresh field for the next citizen
            context["form"] = form
    return _render(
        request, "appointments/kiosk.html", context, centre=place, status=context.pop("status", 200)
    )


def _check_in(request: HttpRequest, centre: Centre, form: CheckInForm, actor) -> dict[str, Any]:
    walk_in = request.POST.get("walk_in") == "1"
    try:
        result = services.booking_check_in(
            centre=centre, code=form.cleaned_data["code"], actor=actor, walk_in=walk_in
        )
    except services.CheckInRefused as exc:
        out: dict[str, Any] = {"refused": exc, "status": 409}
        if exc.code == "too_late" and exc.late_policy == "walk_in":
            out["offer_walk_in"] = normalise_code(form.cleaned_data["code"])
        return out
    except DomainError as exc:
        form.add_error("code", exc.detail)
        return {"status": exc.status_code}
    return {"result": result, "ticket_url": _ticket_url(result.ticket)}


# --------------------------------------------------------------------------- reception


def _staff_centre(request: HttpRequest, centre: str) -> Centre:
    place = _centre(_country(request), centre)
    if not is_staff_member(request.user) or not can_see_centre(request.user, place):
        raise PermissionDenied(_("This centre is outside your scope."))
    return place


@login_required
def reception_index(request: HttpRequest) -> HttpResponse:
    if not is_staff_member(request.user):
        raise PermissionDenied(_("Staff only."))
    rows = centres_for(request.user).filter(archived_at__isnull=True)
    if rows.count() == 1:
        return redirect("appointments:reception", centre=cast(Centre, rows.first()).code)
    return _render(request, "appointments/reception_index.html", {"centres": rows})


@login_required
@require_http_methods(["GET", "POST"])
def reception(request: HttpRequest, centre: str) -> HttpResponse:
    """Today's bookings per slot with their check-in state, and check-in by code."""
    place = _staff_centre(request, centre)
    form = CheckInForm(request.POST or None)
    context: dict[str, Any] = {"centre": place, "form": form}
    if request.method == "POST" and form.is_valid():
        context.update(_check_in(request, place, form, actor=request.user))
        if context.get("result"):
            context["form"] = CheckInForm()
    today = clock.local_today(place.time_zone)
    rows: dict[datetime, list[Booking]] = {}
    for booking in selectors.bookings_of_day(place, today):
        rows.setdefault(booking.start, []).append(booking)
    context.update({"today": today, "slots": sorted(rows.items()), "now": clock.now()})
    return _render(
        request,
        "appointments/reception.html",
        context,
        centre=place,
        status=context.pop("status", 200),
    )


@login_required
@require_http_methods(["GET", "POST"])
def reception_book(request: HttpRequest, centre: str) -> HttpResponse:
    """Book on a citizen's behalf (the citizen stands at the desk: no one-time code)."""
    place = _staff_centre(request, centre)
    offered = [
        s
        for s in selectors.bookable_services(place.country)
        if selectors.service_offered_at(s, place)
    ]
    code = request.GET.get("service") or request.POST.get("service") or ""
    item = next((s for s in offered if s.code == code), None)
    first, last = selectors.booking_window(place)
    raw_day = request.GET.get("date") or request.POST.get("date") or first.isoformat()
    the_day = _day(raw_day)
    form = ReceptionBookingForm(request.POST or None)
    _label_id_field(form, place.country)
    if request.method == "POST" and item is not None and form.is_valid():
        try:
            start = services.parse_start(form.cleaned_data["start"], place)
            result = services.booking_create(
                centre=place,
                service=item,
                start=start,
                national_id=form.cleaned_data["national_id"],
                phone=form.cleaned_data.get("phone", ""),
                source=BookingSource.RECEPTION,
                actor=request.user,
                base_url=request.build_absolute_uri("/"),
            )
        except DomainError as exc:
            _apply_error(form, exc)
        else:
            booking = result.booking
            with timezone.override(place.time_zone):
                messages.success(
                    request,
                    format_html(
                        _("Booked {code} for {time}."),
                        code=booking.display_code,
                        time=timezone.localtime(booking.start).strftime("%d.%m %H:%M"),
                    ),
                )
            return redirect("appointments:reception", centre=place.code)
    rows = (
        selectors.slots_on(place, item.group, the_day) if item and first <= the_day <= last else []
    )
    return _render(
        request,
        "appointments/reception_book.html",
        {
            "centre": place,
            "services": offered,
            "service": item,
            "day": the_day,
            "slots": rows,
            "form": form,
            "first": first,
            "last": last,
        },
        centre=place,
    )
