"""Booking API under /api/v1/: slots, one-time codes, bookings, check-in.

Errors are problem+json (the project's exception handler).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from onestop.catalogue.models import Service
from onestop.centres.models import Centre
from onestop.core.problems import DomainError, exception_handler
from onestop.core.validation import validated_data
from onestop.queueing.api import TicketSerializer
from onestop.web.selectors import current_country

from . import links, ratelimit, selectors, services
from .models import Booking, BookingSource, normalise_code

# --------------------------------------------------------------------------- serializers


class BookingProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details (``application/problem+json``)."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField(required=False)
    code = serializers.CharField(required=False)
    field = serializers.CharField(required=False)


def iso_datetime(value: datetime | None) -> str | None:
    """A date-time as DRF's ``DateTimeField`` writes it: in the active time zone, ISO 8601."""
    if value is None:
        return None
    text = timezone.localtime(value).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class SlotSerializer(serializers.Serializer):
    start = serializers.DateTimeField(help_text="local time at the centre, with its UTC offset")
    end = serializers.DateTimeField()
    capacity = serializers.IntegerField(help_text="places for bookings in this slot")
    available = serializers.IntegerField(help_text="places still free")

    def to_representation(self, instance) -> dict[str, Any]:
        """The declared fields, written directly (a slot listing writes dozens of them);
        ``test_direct_representations_equal_drf`` keeps it equal to DRF's generic output."""
        return {
            "start": iso_datetime(instance["start"]),
            "end": iso_datetime(instance["end"]),
            "capacity": int(instance["capacity"]),
            "available": int(instance["available"]),
        }


class OtpRequestSerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=32)
    language = serializers.CharField(max_length=8, required=False, allow_blank=True)


class OtpVerifySerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=32)
    otp = serializers.CharField(max_length=12)


class PhoneTokenSerializer(serializers.Serializer):
    phone = serializers.CharField(help_text="the verified number, E.164")
    phone_token = serializers.CharField(help_text="use instead of 'otp' when booking or retrying")
    expires_in = serializers.IntegerField(help_text="seconds")


class BookingRequestSerializer(serializers.Serializer):
    service = serializers.CharField(max_length=40)
    centre = serializers.CharField(max_length=40)
    start = serializers.CharField(
        max_length=40, help_text="ISO 8601; without an offset: the centre's local time"
    )
    national_id = serializers.CharField(max_length=40)
    phone = serializers.CharField(max_length=32)
    otp = serializers.CharField(
        max_length=12,
        required=False,
        allow_blank=True,
        help_text="the one-time code sent to the phone (purpose: booking)",
    )
    phone_token = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="from POST /otp/verify/, instead of 'otp'",
    )
    language = serializers.CharField(max_length=8, required=False, allow_blank=True)


class BookingSerializer(serializers.ModelSerializer):
    centre = serializers.CharField(source="centre.code")
    service = serializers.CharField(source="service.code")
    manage_url = serializers.SerializerMethodField()
    calendar_url = serializers.SerializerMethodField()

    class Meta:
        model = Booking
        fields = [
            "code",
            "centre",
            "service",
            "start",
            "end",
            "status",
            "manage_url",
            "calendar_url",
        ]

    def _absolute(self, path: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    def get_manage_url(self, obj: Booking) -> str:
        return self._absolute(links.manage_path(obj.code))

    def get_calendar_url(self, obj: Booking) -> str:
        return self._absolute(links.calendar_path(obj.code))

    def to_representation(self, instance: Booking) -> dict[str, Any]:
        """The declared fields, written directly (DRF builds the model fields on every call);
        ``test_direct_representations_equal_drf`` keeps it equal to DRF's generic output."""
        return {
            "code": instance.code,
            "centre": instance.centre.code,
            "service": instance.service.code,
            "start": iso_datetime(instance.start),
            "end": iso_datetime(instance.end),
            "status": str(instance.status),
            "manage_url": self.get_manage_url(instance),
            "calendar_url": self.get_calendar_url(instance),
        }


class NationalIdSerializer(serializers.Serializer):
    national_id = serializers.CharField(max_length=40)


class MoveSerializer(serializers.Serializer):
    start = serializers.CharField(max_length=40)
    national_id = serializers.CharField(max_length=40)


class CheckInSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=32)
    walk_in = serializers.BooleanField(
        required=False,
        default=False,
        help_text="when late and the pack allows it: take a walk-in ticket",
    )


PROBLEM_TYPE = "application/problem+json"
PROBLEMS = {
    404: OpenApiResponse(BookingProblemSerializer, description="not found"),
    409: OpenApiResponse(
        BookingProblemSerializer, description="conflict (slot full, wrong state, too early/late)"
    ),
    422: OpenApiResponse(BookingProblemSerializer, description="invalid field (named in 'field')"),
    429: OpenApiResponse(
        BookingProblemSerializer, description="rate-limited; see the Retry-After header"
    ),
}

# --------------------------------------------------------------------------- lookups


def _country(request: Request | None = None):
    country = getattr(request, "country", None) if request is not None else None
    country = country or current_country()
    if country is None:
        raise DomainError("no country pack is loaded", code="no_pack", status_code=503)
    return country


def centre_or_404(request: Request, code: str) -> Centre:
    centre = selectors.centre_by_code(_country(request), code)
    if centre is None:
        raise DomainError(
            _("Unknown centre."), field="centre", code="unknown_centre", status_code=404
        )
    return centre


def centre_or_422(country, code: str) -> Centre:
    centre = selectors.centre_by_code(country, code)
    if centre is None:
        raise DomainError(_("Unknown centre."), field="centre", code="unknown_centre")
    return centre


def service_or_422(country, code: str) -> Service:
    service = selectors.service_by_code(country, code or "")
    if service is None:
        raise DomainError(_("Unknown service."), field="service", code="unknown_service")
    return service


def _language(request: Request, raw: str, country) -> str:
    if raw:
        if raw not in country.language_codes:
            raise DomainError(
                _("This language is not offered here."), field="language", code="invalid_language"
            )
        return raw
    active = translation.get_language() or ""
    return active if active in country.language_codes else country.default_language


def _problem_with(exc: DomainError, context: dict, **extra: Any) -> Response:
    response = exception_handler(exc, context)
    assert response is not None
    response.data.update({k: v for k, v in extra.items() if v not in (None, "")})
    return response


def _booking_or_404(request: Request, code: str, national_id: str) -> Booking:
    country = _country(request)
    national_id = services.normalise_national_id(country, national_id)
    booking = selectors.find_booking(country, normalise_code(code), national_id)
    if booking is None:
        raise DomainError(
            _("No booking with this code and ID number."),
            field="code",
            code="unknown_booking",
            status_code=404,
        )
    return booking


def _booking_response(
    booking: Booking, request: Request, code: int = status.HTTP_200_OK, headers: dict | None = None
) -> Response:
    with timezone.override(booking.centre.time_zone):
        data = BookingSerializer(booking, context={"request": request}).data
    return Response(data, status=code, headers=headers)


# --------------------------------------------------------------------------- views


class SlotList(APIView):
    @extend_schema(
        summary="Bookable slots of a service at a centre on a date",
        parameters=[
            OpenApiParameter(
                "service", OpenApiTypes.STR, required=True, description="service code"
            ),
            OpenApiParameter(
                "date", OpenApiTypes.DATE, required=True, description="local date, YYYY-MM-DD"
            ),
        ],
        responses={
            200: SlotSerializer(many=True),
            (404, PROBLEM_TYPE): PROBLEMS[404],
            (422, PROBLEM_TYPE): PROBLEMS[422],
        },
    )
    def get(self, request: Request, centre: str) -> Response:
        c = centre_or_404(request, centre)
        service = service_or_422(c.country, request.query_params.get("service", ""))
        raw_date = request.query_params.get("date", "")
        try:
            day = date.fromisoformat(raw_date)
        except ValueError:
            raise DomainError(
                _("Give the date as YYYY-MM-DD."), field="date", code="invalid_date"
            ) from None
        if not selectors.service_offered_at(service, c):
            raise DomainError(
                _("This service cannot be booked at this centre."),
                field="service",
                code="not_offered",
            )
        rules = selectors.rules_for(c)
        first, last = selectors.booking_window(c, rules)
        if day > last:
            raise DomainError(
                _("Bookings open %(days)s days ahead: choose a day up to %(last)s.")
                % {"days": rules.horizon_days, "last": last.isoformat()},
                field="date",
                code="beyond_horizon",
            )
        slots = [] if day < first else selectors.slots_on(c, service.group, day, rules=rules)
        with timezone.override(c.time_zone):
            data = SlotSerializer(
                [
                    {
                        "start": s.start,
                        "end": s.end,
                        "capacity": s.capacity,
                        "available": s.available,
                    }
                    for s in slots
                ],
                many=True,
            ).data
        return Response(data)


class OtpRequest(APIView):
    authentication_classes: list = []

    @extend_schema(
        summary="Send a one-time code to a phone (purpose: booking)",
        request=OtpRequestSerializer,
        responses={
            202: OpenApiResponse(description="the code is on its way by SMS"),
            (422, PROBLEM_TYPE): PROBLEMS[422],
            (429, PROBLEM_TYPE): PROBLEMS[429],
        },
    )
    def post(self, request: Request) -> Response:
        from onestop.accounts.otp import otp_request

        body = OtpRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        country = _country(request)
        phone = services.normalise_phone_number(country, body.validated_data["phone"])
        language = _language(request, body.validated_data.get("language", ""), country)
        ratelimit.hit("otp_per_ip", ratelimit.client_address(request))
        ratelimit.hit("otp_per_phone", phone)
        otp_request(phone=phone, region=country.phone_region, language=language, purpose="booking")
        return Response(
            {"detail": _("A code was sent by SMS."), "phone": phone},
            status=status.HTTP_202_ACCEPTED,
        )


class OtpVerify(APIView):
    authentication_classes: list = []

    @extend_schema(
        summary="Check a one-time code and get a phone token for booking",
        request=OtpVerifySerializer,
        responses={
            200: PhoneTokenSerializer,
            (422, PROBLEM_TYPE): PROBLEMS[422],
            (429, PROBLEM_TYPE): PROBLEMS[429],
        },
    )
    def post(self, request: Request) -> Response:
        from onestop.accounts.otp import otp_verify

        body = OtpVerifySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        country = _country(request)
        phone = services.normalise_phone_number(country, body.validated_data["phone"])
        ratelimit.hit("otp_per_ip", ratelimit.client_address(request))
        phone = otp_verify(
            phone=phone,
            region=country.phone_region,
            code=body.validated_data["otp"],
            purpose="booking",
        )
        return Response(
            {
                "phone": phone,
                "phone_token": links.phone_token(phone),
                "expires_in": links.phone_token_max_age(),
            }
        )


class BookingCreate(APIView):
    authentication_classes: list = []

    @extend_schema(
        summary="Book a place in a slot",
        description=(
            "The phone is verified by the one-time code sent with POST /otp/ (field `otp`), "
            "or by a `phone_token` from POST /otp/verify/. An `Idempotency-Key` header makes "
            "the request safe to repeat: the same key returns the same booking (201, header "
            "`Idempotent-Replayed: true`). When "
            "the code was accepted but the booking refused (slot full), the problem carries a "
            "`phone_token` to retry with without a new code."
        ),
        request=BookingRequestSerializer,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=False,
                description="a unique key per booking attempt",
            )
        ],
        responses={
            201: BookingSerializer,
            (409, PROBLEM_TYPE): PROBLEMS[409],
            (422, PROBLEM_TYPE): PROBLEMS[422],
            (429, PROBLEM_TYPE): PROBLEMS[429],
        },
    )
    def post(self, request: Request) -> Response:
        from onestop.accounts.otp import otp_verify

        v = validated_data(BookingRequestSerializer, request.data)
        country = _country(request)
        centre = centre_or_422(country, v["centre"])
        service = service_or_422(country, v["service"])
        start = services.parse_start(v["start"], centre)
        national_id = services.normalise_national_id(country, v["national_id"])
        phone = services.normalise_phone_number(country, v["phone"])
        language = _language(request, v.get("language", ""), country)
        key = (request.headers.get("Idempotency-Key") or "").strip()
        if len(key) > 200:
            raise DomainError(
                _("The Idempotency-Key is too long (200 characters at most)."),
                field="Idempotency-Key",
                code="invalid",
            )
        ratelimit.hit("booking_per_ip", ratelimit.client_address(request))
        ratelimit.hit("booking_per_national_id", national_id)
        if key:
            fingerprint = services.request_fingerprint(
                centre=centre.code,
                service=service.code,
                start=start.isoformat(),
                national_id=national_id,
                phone=phone,
            )
            replayed = services.replay(key, fingerprint)
            if replayed is not None:
                return _booking_response(
                    replayed, request, status.HTTP_201_CREATED, {"Idempotent-Replayed": "true"}
                )
        planned = services.check_target(centre=centre, service=service, start=start, on_grid=True)
        token = ""
        if v.get("phone_token"):
            if links.read_phone_token(v["phone_token"]) != phone:
                raise DomainError(
                    _("This phone token is not valid for this phone (or has expired)."),
                    field="phone_token",
                    code="invalid_phone_token",
                )
        elif v.get("otp"):
            otp_verify(phone=phone, region=country.phone_region, code=v["otp"], purpose="booking")
            token = links.phone_token(phone)
        else:
            raise DomainError(
                _("Enter the code we sent to your phone."), field="otp", code="required"
            )
        try:
            result = services.booking_create(
                centre=centre,
                service=service,
                start=start,
                national_id=national_id,
                phone=phone,
                language=language,
                source=BookingSource.API,
                idempotency_key=key,
                base_url=request.build_absolute_uri("/"),
                planned=planned,
            )
        except DomainError as exc:
            return _problem_with(exc, self.get_exception_handler_context(), phone_token=token)
        headers = None if result.created else {"Idempotent-Replayed": "true"}
        return _booking_response(result.booking, request, status.HTTP_201_CREATED, headers)


class BookingDetail(APIView):
    authentication_classes: list = []

    @extend_schema(
        summary="A booking, by its code and the citizen's ID number",
        parameters=[OpenApiParameter("national_id", OpenApiTypes.STR, required=True)],
        responses={
            200: BookingSerializer,
            (404, PROBLEM_TYPE): PROBLEMS[404],
            (422, PROBLEM_TYPE): PROBLEMS[422],
        },
    )
    def get(self, request: Request, code: str) -> Response:
        return _booking_response(
            _booking_or_404(request, code, request.query_params.get("national_id", "")), request
        )


class BookingCancel(APIView):
    authentication_classes: list = []

    @extend_schema(
        summary="Cancel a booking",
        request=NationalIdSerializer,
        responses={
            200: BookingSerializer,
            (404, PROBLEM_TYPE): PROBLEMS[404],
            (409, PROBLEM_TYPE): PROBLEMS[409],
            (422, PROBLEM_TYPE): PROBLEMS[422],
        },
    )
    def post(self, request: Request, code: str) -> Response:
        body = NationalIdSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        booking = _booking_or_404(request, code, body.validated_data["national_id"])
        booking = services.booking_cancel(booking=booking)
        return _booking_response(booking, request)


class BookingMove(APIView):
    authentication_classes: list = []

    @extend_schema(
        summary="Move a booking to another time (same service and centre)",
        description=(
            "One transaction: when the new slot is full the original booking stays as it was (409)."
        ),
        request=MoveSerializer,
        responses={
            200: BookingSerializer,
            (404, PROBLEM_TYPE): PROBLEMS[404],
            (409, PROBLEM_TYPE): PROBLEMS[409],
            (422, PROBLEM_TYPE): PROBLEMS[422],
            (429, PROBLEM_TYPE): PROBLEMS[429],
        },
    )
    def post(self, request: Request, code: str) -> Response:
        body = MoveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        booking = _booking_or_404(request, code, body.validated_data["national_id"])
        ratelimit.hit("booking_per_ip", ratelimit.client_address(request))
        ratelimit.hit("booking_per_national_id", booking.national_id)
        start = services.parse_start(body.validated_data["start"], booking.centre)
        booking = services.booking_move(
            booking=booking, start=start, base_url=request.build_absolute_uri("/")
        )
        return _booking_response(booking, request)


class CheckInView(APIView):
    @extend_schema(
        summary="Check in with a booking code (kiosk or reception)",
        description=(
            "Inside the window (from the arrival window before the slot to the late cut-off "
            "after it) a ticket is issued that the queue serves first. Too early: 409 "
            "`too_early` with `opens_at`. Too late: 409 `too_late` with the pack's "
            "`late_policy`; with `walk_in` and policy `walk_in` a "
            "walk-in ticket is issued instead. A repeated check-in returns the same ticket (200)."
        ),
        request=CheckInSerializer,
        responses={
            201: TicketSerializer,
            200: TicketSerializer,
            (404, PROBLEM_TYPE): PROBLEMS[404],
            (409, PROBLEM_TYPE): PROBLEMS[409],
            (422, PROBLEM_TYPE): PROBLEMS[422],
        },
    )
    def post(self, request: Request, centre: str) -> Response:
        c = centre_or_404(request, centre)
        body = CheckInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        actor = request.user if request.user.is_authenticated else None
        try:
            result = services.booking_check_in(
                centre=c,
                code=body.validated_data["code"],
                actor=actor,
                walk_in=body.validated_data["walk_in"],
            )
        except services.CheckInRefused as exc:
            return _problem_with(
                exc,
                self.get_exception_handler_context(),
                opens_at=exc.opens_at.isoformat() if exc.opens_at else None,
                late_policy=exc.late_policy,
            )
        data = dict(TicketSerializer(result.ticket, context={"request": request}).data)
        data["booking"] = result.booking.code
        data["walk_in"] = result.walk_in
        return Response(
            data, status=status.HTTP_200_OK if result.repeated else status.HTTP_201_CREATED
        )
