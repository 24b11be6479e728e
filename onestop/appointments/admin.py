from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from onestop.accounts.scope import centres_for
from onestop.core.admin_scope import ScopedAdmin

from . import services
from .models import Booking, CapacityOverride, CitizenRecord, Slot


@admin.register(CapacityOverride)
class CapacityOverrideAdmin(ScopedAdmin):
    """Places per slot for a centre and date; saving it updates the slots already booked."""

    scope_centre = "centre"
    list_display = ("date", "centre", "group", "capacity", "reason")
    list_filter = ("centre",)
    date_hierarchy = "date"
    fields = ("centre", "date", "group", "capacity", "reason")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "centre":
            kwargs["queryset"] = centres_for(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_delete_permission(self, request, obj=None):
        # Overrides are plans, not history: they may be removed (the audit trail keeps them).
        return admin.ModelAdmin.has_delete_permission(self, request, obj) and self._in_scope(
            request, obj
        )

    def save_model(self, request, obj, form, change):
        services.capacity_override_save(obj, actor=request.user)

    def delete_model(self, request, obj):
        services.capacity_override_delete(obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            services.capacity_override_delete(obj, actor=request.user)


class ReadOnlyScoped(ScopedAdmin):
    """Bookings and slots change only through the booking services (audited)."""

    scope_centre = "centre"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Booking)
class BookingAdmin(ReadOnlyScoped):
    list_display = ("code", "centre", "service", "start", "status", "source", "masked_id", "ticket")
    list_filter = ("status", "source", "centre")
    search_fields = ("code",)
    date_hierarchy = "start"
    list_select_related = ("centre", "service", "ticket")

    @admin.display(description=_("ID number"))
    def masked_id(self, obj):
        return obj.masked_national_id


@admin.register(Slot)
class SlotAdmin(ReadOnlyScoped):
    list_display = ("start", "end", "centre", "group", "capacity", "booked", "released")
    list_filter = ("centre", "group")
    date_hierarchy = "start"
    list_select_related = ("centre", "group")


@admin.register(CitizenRecord)
class CitizenRecordAdmin(admin.ModelAdmin):
    list_display = ("__str__", "country", "no_shows", "last_no_show_at")
    search_fields = ("national_id",)

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        user = request.user
        return qs if user.is_superuser or getattr(user, "is_national", False) else qs.none()

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
