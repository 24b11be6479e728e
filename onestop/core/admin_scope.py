"""Admin base classes that hold staff to their scope and show where a record came from."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from onestop.accounts.scope import agencies_for, centres_for, is_staff_member


class PackSourceFilter(admin.SimpleListFilter):
    title = _("source")
    parameter_name = "source"

    def lookups(self, request, model_admin):
        return [("pack", _("From the country pack")), ("local", _("Added here")), ("archived", _("Archived"))]

    def queryset(self, request, queryset):
        if self.value() == "pack":
            return queryset.exclude(from_pack="")
        if self.value() == "local":
            return queryset.filter(from_pack="")
        if self.value() == "archived":
            return queryset.filter(archived_at__isnull=False)
        return queryset


class ScopedAdmin(admin.ModelAdmin):
    """``scope_centre`` / ``scope_agency``: the lookup path from the model to a centre or agency."""

    scope_centre: str | None = None
    scope_agency: str | None = None

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        user = request.user
        if user.is_superuser or getattr(user, "is_national", False):
            return qs
        if not is_staff_member(user):
            return qs.none()
        if self.scope_centre is not None:
            lookup = f"{self.scope_centre}__in" if self.scope_centre else "pk__in"
            return qs.filter(**{lookup: centres_for(user)})
        if self.scope_agency is not None:
            lookup = f"{self.scope_agency}__in" if self.scope_agency else "pk__in"
            return qs.filter(**{lookup: agencies_for(user)})
        return qs

    def _in_scope(self, request, obj) -> bool:
        return obj is None or self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and self._in_scope(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._in_scope(request, obj)

    def has_delete_permission(self, request, obj=None):
        # Pack records are archived, never deleted: history keeps its references.
        return False

    @admin.display(description=_("source"))
    def source(self, obj):
        if getattr(obj, "archived_at", None):
            return _("archived")
        return _("pack %(code)s") % {"code": obj.from_pack} if getattr(obj, "from_pack", "") else _("local")
