"""The transactional outbox: a message is a row first, and is sent after the row commits."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from onestop.core import clock


class Channel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")


class Status(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class OutboxMessage(models.Model):
    """One SMS or e-mail waiting to be sent, sent, or given up on.

    ``claimed_until`` is set while one worker is sending the message: no other worker
    picks it up until the claim expires (a worker that died mid-send is retried then).
    """

    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    to = models.CharField(_("to"), max_length=254)
    subject = models.CharField(_("subject"), max_length=200, blank=True, default="")
    text = models.TextField(_("text"))
    language = models.CharField(_("language"), max_length=16, blank=True, default="")
    template = models.CharField(_("template"), max_length=64, blank=True, default="")
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=clock.now)
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True, default="")
    provider_id = models.CharField(_("provider message id"), max_length=200, blank=True, default="")
    created_at = models.DateTimeField(_("created at"), default=clock.now, editable=False)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # NULL, not "", for "no key": a unique column may hold many NULLs but only one "".
    dedupe_key = models.CharField(  # noqa: DJ001
        _("dedupe key"), max_length=200, unique=True, null=True, blank=True
    )

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="notif_outbox_due")]
        permissions = [("retry_outboxmessage", _("Can retry outbox messages"))]

    def __str__(self) -> str:
        return f"{self.channel} to {self.to} ({self.status})"
