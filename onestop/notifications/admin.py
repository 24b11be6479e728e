"""The outbox in the admin: read-only, for national staff, with a "retry now" action."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import OutboxMessage, Status
from .services import message_retry
from .templates import is_sensitive

HIDDEN = "••••••"


def _is_national(request: HttpRequest) -> bool:
    return bool(getattr(request.user, "is_national", False))


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ("id", "status", "channel", "to", "template", "language", "created_at",
                    "attempts", "next_attempt_at", "sent_at")
    list_filter = ("status", "channel", "template")
    search_fields = ("to", "dedupe_key", "provider_id")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    actions = ["retry_now"]
    fields = ("channel", "to", "subject", "shown_text", "language", "template", "status", "attempts",
              "next_attempt_at", "claimed_until", "last_error", "provider_id", "created_at", "sent_at",
              "dedupe_key")
    readonly_fields = fields

    @admin.display(description=_("text"))
    def shown_text(self, obj: OutboxMessage) -> str:
        return HIDDEN if is_sensitive(obj.template) else obj.text

    # Messages carry citizens' phone numbers and addresses: national staff only, read-only.
    def has_module_permission(self, request: HttpRequest) -> bool:
        return super().has_module_permission(request) and _is_national(request)

    def has_view_permission(self, request: HttpRequest, obj: OutboxMessage | None = None) -> bool:
        return super().has_view_permission(request, obj) and _is_national(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: OutboxMessage | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: OutboxMessage | None = None) -> bool:
        return False

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return _is_national(request) and request.user.has_perm("notifications.retry_outboxmessage")

    @admin.action(description=_("Retry now"), permissions=["retry"])
    def retry_now(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        ids = list(queryset.exclude(status=Status.SENT).values_list("pk", flat=True))
        count = message_retry(ids)
        self.message_user(
            request,
            ngettext("%(count)d message will be tried again now.",
                     "%(count)d messages will be tried again now.", count) % {"count": count},
            messages.SUCCESS,
        )
