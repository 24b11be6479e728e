from django.contrib import admin

from onestop.core.admin_scope import PackSourceFilter, ScopedAdmin
from onestop.core.models import translate

from .models import Centre, Closure, Counter, CounterGroup, RouteStop


class CounterInline(admin.TabularInline):
    model = Counter
    extra = 0
    fields = ("number", "zone", "archived_at")
    show_change_link = True


class RouteInline(admin.TabularInline):
    model = RouteStop
    extra = 0


class CounterGroupInline(admin.TabularInline):
    model = CounterGroup
    extra = 0


@admin.register(Centre)
class CentreAdmin(ScopedAdmin):
    scope_centre = ""
    list_display = ("code", "display_name", "kind", "time_zone", "remote_join", "source")
    list_filter = (PackSourceFilter, "kind")
    search_fields = ("code", "name")
    inlines = [CounterInline, RouteInline]

    @admin.display(description="name")
    def display_name(self, obj):
        return translate(obj.name)


@admin.register(Counter)
class CounterAdmin(ScopedAdmin):
    scope_centre = "centre"
    list_display = ("centre", "number", "zone", "archived_at")
    list_filter = ("centre",)
    inlines = [CounterGroupInline]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "centre":
            from onestop.accounts.scope import centres_for

            kwargs["queryset"] = centres_for(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Closure)
class ClosureAdmin(ScopedAdmin):
    list_display = ("date", "country")
