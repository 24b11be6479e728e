from django.contrib import admin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("stream", "seq", "created_at", "actor_name", "action", "object_type", "object_id")
    list_filter = ("action", "object_type")
    search_fields = ("stream", "object_id", "actor_name")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        user = request.user
        if user.is_national:
            return qs
        from onestop.accounts.scope import agencies_for, centres_for
        from onestop.audit.services import stream_for_agency, stream_for_centre

        names = [stream_for_centre(c) for c in centres_for(user).select_related("country")]
        names += [stream_for_agency(a) for a in agencies_for(user).select_related("country")]
        return qs.filter(stream__in=names)
