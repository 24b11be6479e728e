from django.contrib import admin

from onestop.core.admin_scope import PackSourceFilter, ScopedAdmin
from onestop.core.models import translate

from .models import Agency, PriorityGroup, Service, ServiceGroup, Tier


class TierInline(admin.TabularInline):
    model = Tier
    extra = 0
    fields = ("code", "name", "fee", "term_days", "same_day", "archived_at")


@admin.register(Agency)
class AgencyAdmin(ScopedAdmin):
    scope_agency = ""
    list_display = ("code", "display_name", "auxiliary", "source")
    list_filter = (PackSourceFilter, "auxiliary")
    search_fields = ("code", "name")

    @admin.display(description="name")
    def display_name(self, obj):
        return translate(obj.name)


@admin.register(ServiceGroup)
class ServiceGroupAdmin(ScopedAdmin):
    list_display = ("code", "prefix", "display_name", "source")
    list_filter = (PackSourceFilter,)

    @admin.display(description="name")
    def display_name(self, obj):
        return translate(obj.name)


@admin.register(Service)
class ServiceAdmin(ScopedAdmin):
    scope_agency = "agency"
    list_display = ("code", "display_name", "agency", "group", "handling_minutes", "source")
    list_filter = (PackSourceFilter, "group", "agency")
    search_fields = ("code", "name")
    inlines = [TierInline]

    @admin.display(description="name")
    def display_name(self, obj):
        return translate(obj.name)


@admin.register(PriorityGroup)
class PriorityGroupAdmin(ScopedAdmin):
    list_display = ("code", "display_name", "source")
    list_filter = (PackSourceFilter,)

    @admin.display(description="name")
    def display_name(self, obj):
        return translate(obj.name)
