from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import User
from .scope import centres_for


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "role", "is_active", "last_login")
    list_filter = ("role", "is_active")
    # django-stubs types every ModelAdmin.fieldsets as optional; auth's UserAdmin always sets a tuple.
    fieldsets = (*BaseUserAdmin.fieldsets, ("onestop", {"fields": ("role", "centres", "agencies", "language")}))  # type: ignore[misc]
    filter_horizontal = ("centres", "agencies", "groups", "user_permissions")

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser or request.user.is_national:
            return qs
        # A centre manager sees the staff of their own centres only.
        return qs.filter(centres__in=centres_for(request.user)).distinct()

    def has_view_permission(self, request, obj=None):
        ok = super().has_view_permission(request, obj)
        return ok and (obj is None or self.get_queryset(request).filter(pk=obj.pk).exists())

    def has_change_permission(self, request, obj=None):
        ok = super().has_change_permission(request, obj)
        return ok and (obj is None or self.get_queryset(request).filter(pk=obj.pk).exists())
