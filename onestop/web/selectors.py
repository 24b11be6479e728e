"""Reads for the public pages."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Q, QuerySet

from onestop.catalogue.models import Service
from onestop.core import localcache
from onestop.packs.models import Country

COUNTRY_CACHE_SECONDS = 30


def _load_country() -> Country | None:
    return Country.objects.filter(code=settings.ONESTOP_PACK).first() or Country.objects.order_by("id").first()


def current_country() -> Country | None:
    """The country this deployment serves: ``ONESTOP_PACK``, else the first loaded.

    Read on every request, so each process keeps it for up to 30 seconds
    (:mod:`onestop.core.localcache`); loading a pack or saving the country clears it.
    """
    return localcache.get_or_set(("country", settings.ONESTOP_PACK), COUNTRY_CACHE_SECONDS, _load_country)


def service_search(country: Country, query: str = "", group: str = "") -> QuerySet[Service]:
    qs = (Service.objects.filter(country=country, archived_at__isnull=True)
          .select_related("agency", "group").prefetch_related("tiers"))
    if group:
        qs = qs.filter(group__code=group)
    if query:
        words = [w for w in query.split() if w]
        for word in words:
            # JSON text fields: match the word in any language (case-insensitive on the serialised text).
            qs = qs.filter(Q(name__icontains=word) | Q(description__icontains=word) | Q(code__icontains=word)
                           | Q(agency__name__icontains=word))
    return qs
