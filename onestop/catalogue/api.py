from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView, RetrieveAPIView

from onestop.web.selectors import current_country

from .models import Service, Tier


class TierSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tier
        fields = ["code", "name", "fee", "term_days", "same_day"]


class ServiceSerializer(serializers.ModelSerializer):
    agency = serializers.CharField(source="agency.code")
    group = serializers.CharField(source="group.code")
    prefix = serializers.CharField(source="group.prefix")
    tiers = serializers.SerializerMethodField()
    currency = serializers.SerializerMethodField()

    class Meta:
        model = Service
        fields = ["code", "agency", "group", "prefix", "name", "description", "documents", "channels",
                  "handling_minutes", "currency", "tiers"]

    def get_tiers(self, obj) -> list[dict]:
        return TierSerializer([t for t in obj.tiers.all() if t.archived_at is None], many=True).data

    def get_currency(self, obj) -> str:
        return obj.country.currency


def _services():
    country = current_country()
    if country is None:
        return Service.objects.none()
    return (Service.objects.filter(country=country, archived_at__isnull=True)
            .select_related("agency", "group", "country").prefetch_related("tiers"))


@extend_schema(summary="The public service catalogue")
class ServiceList(ListAPIView):
    serializer_class = ServiceSerializer

    def get_queryset(self):
        return _services()


@extend_schema(summary="One service card")
class ServiceDetail(RetrieveAPIView):
    serializer_class = ServiceSerializer
    lookup_field = "code"

    def get_queryset(self):
        return _services()

    def get_object(self):
        obj = self.get_queryset().filter(code=self.kwargs["code"]).first()
        if obj is None:
            raise Http404(f"No service '{self.kwargs['code']}'.")
        return obj
