"""Queue API under /api/v1/: centres, tickets, counters, board. Errors are problem+json."""

from __future__ import annotations

import functools
from urllib.parse import quote

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import get_script_prefix, reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from onestop.catalogue.models import PriorityGroup, Service, ServiceGroup
from onestop.centres.models import Centre, Counter
from onestop.core.problems import DomainError
from onestop.core.validation import validated_data
from onestop.web.selectors import current_country

from . import services
from .models import Source, Ticket
from .selectors import board_snapshot, centre_by_code, service_by_code, ticket_position


def _centre(code: str) -> Centre:
    country = current_country()
    centre = centre_by_code(country, code) if country is not None else None
    if centre is None:
        raise Http404("no such centre")
    return centre


class CentreSerializer(serializers.ModelSerializer):
    class Meta:
        model = Centre
        fields = ["code", "kind", "name", "address", "time_zone", "hours", "remote_join"]


class CounterSerializer(serializers.ModelSerializer):
    # declared, so the schema does not depend on the database's integer range
    number = serializers.IntegerField(min_value=1, max_value=9999, read_only=True)
    groups = serializers.SerializerMethodField()
    status = serializers.SerializerMethodField()

    class Meta:
        model = Counter
        fields = ["id", "number", "zone", "groups", "status"]

    def get_groups(self, obj) -> list[dict]:
        return [{"group": link.group.code, "priority": link.priority} for link in obj.group_links.all()]

    def get_status(self, obj) -> str:
        state = getattr(obj, "state", None)
        return state.status if state else "closed"


class EstimateSerializer(serializers.Serializer):
    mean_minutes = serializers.FloatField()
    p95_minutes = serializers.FloatField()


_DATETIME = serializers.DateTimeField()


class TicketSerializer(serializers.ModelSerializer):
    service = serializers.CharField(source="service.code")
    group = serializers.CharField(source="group.code")
    centre = serializers.CharField(source="centre.code")
    counter = serializers.SerializerMethodField()
    position = serializers.SerializerMethodField()
    estimated_wait = serializers.SerializerMethodField()
    status_url = serializers.SerializerMethodField()
    priority_group = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Ticket
        fields = ["id", "number", "centre", "service", "group", "status", "source", "priority_group", "position",
                  "estimated_wait", "counter", "issued_at", "called_at", "started_at", "finished_at", "status_url"]

    def to_representation(self, obj):
        # The busiest response of the hall, written out directly (DRF builds a model
        # serializer's fields for every instance); the declared fields above keep
        # describing it in the OpenAPI document, and a test compares both outputs.
        when = _DATETIME.to_representation
        return {
            "id": obj.pk,
            "number": obj.number,
            "centre": obj.centre.code,
            "service": obj.service.code,
            "group": obj.group.code,
            "status": obj.status,
            "source": obj.source,
            "priority_group": obj.priority_group.code if obj.priority_group_id else None,
            "position": self.get_position(obj),
            "estimated_wait": self.get_estimated_wait(obj),
            "counter": self.get_counter(obj),
            "issued_at": when(obj.issued_at) if obj.issued_at else None,
            "called_at": when(obj.called_at) if obj.called_at else None,
            "started_at": when(obj.started_at) if obj.started_at else None,
            "finished_at": when(obj.finished_at) if obj.finished_at else None,
            "status_url": self.get_status_url(obj),
        }

    def get_counter(self, obj) -> int | None:
        return obj.counter.number if obj.counter_id else None

    def get_position(self, obj) -> int:
        # A ticket just issued carries the count its estimate was made from (read a moment
        # before its number was taken); any later read counts again.
        at_issue = getattr(obj, "position_at_issue", None)
        return at_issue if at_issue is not None else ticket_position(obj)

    @extend_schema_field(EstimateSerializer(allow_null=True))
    def get_estimated_wait(self, obj) -> dict | None:
        if obj.estimate_mean is None:
            return None
        return {"mean_minutes": round(obj.estimate_mean, 1), "p95_minutes": round(obj.estimate_p95, 1)}

    def get_status_url(self, obj) -> str:
        request = self.context.get("request")
        path = _ticket_page_prefix(get_script_prefix()) + quote(obj.token, safe="") + "/"
        return request.build_absolute_uri(path) if request else path


@functools.lru_cache(maxsize=16)
def _ticket_page_prefix(script_prefix: str) -> str:
    """The phone page's path up to its token, reversed once per script prefix."""
    path = reverse("queueing:ticket_page", kwargs={"token": "T"})
    return path[: -len("T/")]


class TicketRequest(serializers.Serializer):
    service = serializers.CharField(max_length=40)
    priority_group = serializers.CharField(max_length=40, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    language = serializers.CharField(max_length=8, required=False, allow_blank=True)
    source = serializers.ChoiceField(choices=[Source.KIOSK, Source.RECEPTION, Source.REMOTE], required=False,
                                     default=Source.KIOSK)
    otp = serializers.CharField(max_length=12, required=False, allow_blank=True)


class CentreList(APIView):
    @extend_schema(responses=CentreSerializer(many=True), summary="Centres of the network")
    def get(self, request):
        qs = Centre.objects.filter(country=current_country(), archived_at__isnull=True)
        return Response(CentreSerializer(qs, many=True).data)


from onestop.catalogue.api import ServiceSerializer  # noqa: E402


class BoardCallSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    counter = serializers.IntegerField(allow_null=True)
    status = serializers.CharField()
    called_at = serializers.DateTimeField()
    recalls = serializers.IntegerField()


class BoardGroupSerializer(serializers.Serializer):
    group = serializers.CharField()
    prefix = serializers.CharField()
    name = serializers.DictField(child=serializers.CharField())
    waiting = serializers.IntegerField()
    open_counters = serializers.IntegerField()
    estimate = EstimateSerializer(allow_null=True)


class BoardSerializer(serializers.Serializer):
    centre = serializers.CharField()
    zone = serializers.CharField()
    calls = BoardCallSerializer(many=True)
    groups = BoardGroupSerializer(many=True)
    generated_at = serializers.DateTimeField()


class CentreServices(APIView):
    @extend_schema(responses=ServiceSerializer(many=True), summary="Services offered in the hall of a centre")
    def get(self, request, centre):
        c = _centre(centre)
        qs = (Service.objects.filter(country=c.country, archived_at__isnull=True,
                                     group__counter_links__counter__centre=c).distinct()
              .select_related("agency", "group", "country").prefetch_related("tiers"))
        return Response(ServiceSerializer(qs, many=True).data)


class CentreCounters(APIView):
    @extend_schema(responses=CounterSerializer(many=True), summary="Counters of a centre and their state")
    def get(self, request, centre):
        c = _centre(centre)
        qs = c.counters.filter(archived_at__isnull=True).prefetch_related("group_links__group").select_related("state")
        return Response(CounterSerializer(qs, many=True).data)


class TicketIssue(APIView):
    """Kiosks need no token; reception needs a staff token of the centre; remote joins a phone code."""

    @extend_schema(request=TicketRequest, responses={201: TicketSerializer}, summary="Issue a ticket")
    def post(self, request, centre):
        c = _centre(centre)
        v = validated_data(TicketRequest, request.data)
        service = service_by_code(c.country, v["service"])
        if service is None:
            raise DomainError(f"unknown service '{v['service']}'", field="service")
        priority = None
        if v.get("priority_group"):
            priority = PriorityGroup.objects.filter(country=c.country, code=v["priority_group"]).first()
            if priority is None:
                raise DomainError(f"unknown priority group '{v['priority_group']}'", field="priority_group")
        source = v["source"]
        if source == Source.REMOTE:
            services.check_remote_join(centre=c, phone=v.get("phone", ""), code=v.get("otp", ""))
        ticket = services.ticket_issue(centre=c, service=service, source=source, priority_group=priority,
                                       phone=v.get("phone", ""), language=v.get("language", ""),
                                       actor=request.user if request.user.is_authenticated else None)
        return Response(TicketSerializer(ticket, context={"request": request}).data, status=status.HTTP_201_CREATED)


def _ticket(pk) -> Ticket:
    return get_object_or_404(Ticket.objects.select_related("centre__country", "group", "service", "counter"), pk=pk)


class TicketDetail(APIView):
    @extend_schema(responses=TicketSerializer, summary="A ticket's status, position and estimate")
    def get(self, request, pk):
        return Response(TicketSerializer(_ticket(pk), context={"request": request}).data)


class TicketCancel(APIView):
    @extend_schema(request=None, responses=TicketSerializer, summary="Cancel a waiting ticket")
    def post(self, request, pk):
        ticket = _ticket(pk)
        token = request.data.get("token") if hasattr(request, "data") else None
        if not request.user.is_authenticated and token != ticket.token:
            # Citizens cancel with the secret of their ticket page; staff with their token.
            raise DomainError("give the ticket's token to cancel it", field="token", status_code=403)
        if request.user.is_authenticated:
            services.check_issuer(request.user, ticket.centre, Source.RECEPTION)
        ticket = services.ticket_cancel(ticket=ticket, actor=request.user if request.user.is_authenticated else None)
        return Response(TicketSerializer(ticket, context={"request": request}).data)


class CounterAction(APIView):
    permission_classes = [IsAuthenticated]
    action = ""

    class BreakRequest(serializers.Serializer):
        reason = serializers.CharField(max_length=120, required=False, allow_blank=True)

    @extend_schema(request=BreakRequest, responses={200: OpenApiResponse(description="counter state")},
                   summary="Open, close or pause a counter")
    def post(self, request, pk):
        counter = get_object_or_404(Counter.objects.select_related("centre__country"), pk=pk)
        services.check_operator(request.user, counter)
        if self.action == "open":
            state = services.counter_open(counter=counter, operator=request.user)
        elif self.action == "close":
            state = services.counter_close(counter=counter, operator=request.user)
        else:
            state = services.counter_break(counter=counter, operator=request.user,
                                           reason=str(request.data.get("reason", "")))
        return Response({"counter": counter.number, "status": state.status, "reason": state.break_reason})


class CallNext(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={200: TicketSerializer, 204: OpenApiResponse(description="nobody waits")},
                   summary="Call the next citizen to this counter")
    def post(self, request, pk):
        counter = get_object_or_404(Counter.objects.select_related("centre__country"), pk=pk)
        ticket = services.ticket_call_next(counter=counter, operator=request.user)
        if ticket is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(TicketSerializer(ticket, context={"request": request}).data)


class TransferRequest(serializers.Serializer):
    group = serializers.CharField(max_length=40, required=False)
    service = serializers.CharField(max_length=40, required=False)
    counter = serializers.IntegerField(required=False, help_text="counter number in the same centre")


class FinishRequest(serializers.Serializer):
    services = serializers.ListField(child=serializers.CharField(max_length=40), required=False)


class TicketAction(APIView):
    permission_classes = [IsAuthenticated]
    action = ""

    @extend_schema(request=TransferRequest, responses=TicketSerializer,
                   summary="recall | no-show | start | finish | transfer | park | return | requeue")
    def post(self, request, pk):
        ticket = _ticket(pk)
        user = request.user
        if self.action in {"recall", "no-show", "start", "finish", "transfer", "park", "requeue"} and ticket.counter:
            services.check_operator(user, ticket.counter)
        func = {
            "recall": services.ticket_recall, "no-show": services.ticket_no_show, "start": services.ticket_start,
            "park": services.ticket_park, "return": services.ticket_return, "requeue": services.ticket_requeue,
        }.get(self.action)
        if func is not None:
            ticket = func(ticket=ticket, operator=user)
        elif self.action == "finish":
            body = FinishRequest(data=request.data)
            body.is_valid(raise_exception=True)
            codes = body.validated_data.get("services") or []
            found = list(Service.objects.filter(country=ticket.centre.country, code__in=codes))
            missing = sorted(set(codes) - {s.code for s in found})
            if missing:
                raise DomainError(f"unknown service '{missing[0]}'", field="services")
            ticket = services.ticket_finish(ticket=ticket, operator=user, services=found)
        elif self.action == "transfer":
            body = TransferRequest(data=request.data)
            body.is_valid(raise_exception=True)
            v = body.validated_data
            country = ticket.centre.country
            group = service = counter = None
            if v.get("group"):
                group = ServiceGroup.objects.filter(country=country, code=v["group"]).first()
                if group is None:
                    raise DomainError(f"unknown service group '{v['group']}'", field="group")
            if v.get("service"):
                service = Service.objects.filter(country=country, code=v["service"]).first()
                if service is None:
                    raise DomainError(f"unknown service '{v['service']}'", field="service")
            if v.get("counter") is not None:
                counter = Counter.objects.filter(centre=ticket.centre, number=v["counter"]).first()
                if counter is None:
                    raise DomainError(f"no counter {v['counter']} in this centre", field="counter")
            ticket = services.ticket_transfer(ticket=ticket, operator=user, group=group, service=service,
                                              counter=counter)
        return Response(TicketSerializer(ticket, context={"request": request}).data)


class Board(APIView):
    @extend_schema(responses=BoardSerializer,
                   summary="The display board's snapshot: last calls, waiting counts and estimates")
    def get(self, request, centre):
        return Response(board_snapshot(_centre(centre), zone=request.query_params.get("zone") or None))
