"""Bookings of a place in a time slot of a centre.

* :class:`Slot` is one interval of one service group at one centre. Its row is created
  the first time somebody books it (the free slots of a day are computed, not stored),
  with the capacity the calculator gives at that moment. ``booked`` never exceeds
  ``capacity``: the booking transaction increments it with a conditional UPDATE, and a
  CHECK constraint stands behind that.
* :class:`Booking` holds one place of one slot. Its code is short and unambiguous.
* :class:`CapacityOverride` sets the places per slot for a centre and date by hand.
* :class:`IdempotencyKey` remembers the booking an ``Idempotency-Key`` header produced.
* :class:`CitizenRecord` is one row per national ID number: its lock serialises one
  citizen's bookings (the per-citizen cap) and it counts the citizen's no-shows.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

#: 32 symbols without 0, O, 1 and I: read aloud or typed, no two look alike.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


def new_booking_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(raw: str) -> str:
    """Upper-case, without spaces or dashes (codes are shown as ``ABCD-EFGH``)."""
    return "".join(ch for ch in (raw or "").upper() if ch.isalnum())[:32]


class BookingStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    CHECKED_IN = "checked_in", _("Checked in")
    LATE = "late", _("Came late, joined the queue")
    CANCELLED = "cancelled", _("Cancelled")
    NO_SHOW = "no_show", _("Did not come")


#: A booking in one of these holds its place (and counts for the unique-per-slot rule).
ACTIVE_STATUSES = (BookingStatus.BOOKED, BookingStatus.CHECKED_IN)


class BookingSource(models.TextChoices):
    PORTAL = "portal", _("Citizen portal")
    API = "api", _("API")
    RECEPTION = "reception", _("Reception")


class Slot(models.Model):
    centre = models.ForeignKey("centres.Centre", on_delete=models.PROTECT, related_name="slots")
    group = models.ForeignKey(
        "catalogue.ServiceGroup", on_delete=models.PROTECT, related_name="slots"
    )
    start = models.DateTimeField(help_text="UTC")
    end = models.DateTimeField(help_text="UTC")
    capacity = models.PositiveIntegerField()
    booked = models.PositiveIntegerField(default=0)
    released = models.PositiveIntegerField(
        default=0, help_text="places given back to walk-ins by no-shows"
    )

    class Meta:
        ordering = ["centre", "group", "start"]
        constraints = [
            models.UniqueConstraint(
                fields=["centre", "group", "start"], name="slot_unique_per_group_start"
            ),
            models.CheckConstraint(
                condition=Q(booked__lte=F("capacity")), name="slot_booked_within_capacity"
            ),
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="slot_ends_after_start"),
        ]

    def __str__(self) -> str:
        when = f"{self.start:%Y-%m-%d %H:%M}"
        return f"{self.centre_id}/{self.group_id} {when} {self.booked}/{self.capacity}"

    @property
    def available(self) -> int:
        return max(0, self.capacity - self.booked)


class Booking(models.Model):
    # unique by a constraint, not unique=True: on PostgreSQL the field option adds a second
    # index for LIKE searches that no query makes and every booking pays to write
    code = models.CharField(max_length=CODE_LENGTH, default=new_booking_code)
    # db_index=False: booking_centre_start_idx begins with the centre
    centre = models.ForeignKey(
        "centres.Centre", on_delete=models.PROTECT, related_name="bookings", db_index=False
    )
    service = models.ForeignKey(
        "catalogue.Service", on_delete=models.PROTECT, related_name="bookings"
    )
    group = models.ForeignKey(
        "catalogue.ServiceGroup", on_delete=models.PROTECT, related_name="bookings"
    )
    slot = models.ForeignKey(Slot, on_delete=models.PROTECT, related_name="bookings")
    start = models.DateTimeField(help_text="the slot's start (UTC), copied for queries")
    end = models.DateTimeField()
    national_id = models.CharField(max_length=40, help_text="normalised with the pack's format")
    phone = models.CharField(max_length=20, blank=True, default="", help_text="E.164")
    language = models.CharField(max_length=8, blank=True, default="")
    status = models.CharField(
        max_length=12, choices=BookingStatus.choices, default=BookingStatus.BOOKED
    )
    source = models.CharField(
        max_length=12, choices=BookingSource.choices, default=BookingSource.PORTAL
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # booking_created_by_idx, for the bookings staff made only
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    checked_in_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    no_show_at = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    moves = models.PositiveSmallIntegerField(default=0)
    ticket = models.OneToOneField(
        "queueing.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="booking"
    )

    class Meta:
        ordering = ["start", "id"]
        constraints = [
            models.UniqueConstraint(fields=["code"], name="booking_code_unique"),
            models.UniqueConstraint(
                fields=["slot", "national_id"],
                condition=Q(status__in=["booked", "checked_in"]),
                name="booking_one_active_per_slot_and_citizen",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "start"], name="booking_status_start_idx"),
            models.Index(fields=["national_id", "group", "status"], name="booking_citizen_idx"),
            models.Index(fields=["centre", "start"], name="booking_centre_start_idx"),
            models.Index(
                fields=["created_by"],
                condition=Q(created_by__isnull=False),
                name="booking_created_by_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.status})"

    @property
    def display_code(self) -> str:
        return f"{self.code[:4]}-{self.code[4:]}"

    @property
    def masked_national_id(self) -> str:
        tail = self.national_id[-3:]
        return "•" * max(0, len(self.national_id) - 3) + tail


class CapacityOverride(models.Model):
    """Places per slot for one centre and date, for one service group or for every group.

    An override replaces the computed capacity of every slot of that day (0 stops online
    booking for the day). It does not open a centre: holidays, closures and opening
    hours still decide which slots exist.
    """

    centre = models.ForeignKey(
        "centres.Centre", on_delete=models.CASCADE, related_name="capacity_overrides"
    )
    date = models.DateField(help_text="local date at the centre")
    group = models.ForeignKey(
        "catalogue.ServiceGroup",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="empty: every service group",
    )
    capacity = models.PositiveIntegerField(help_text="places per slot")
    reason = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "centre"]
        constraints = [
            models.UniqueConstraint(
                fields=["centre", "date", "group"],
                condition=Q(group__isnull=False),
                name="override_one_per_group_and_date",
            ),
            models.UniqueConstraint(
                fields=["centre", "date"],
                condition=Q(group__isnull=True),
                name="override_one_for_all_groups_per_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.centre} {self.date}: {self.capacity}"


class IdempotencyKey(models.Model):
    """An ``Idempotency-Key`` and the booking it made; ``fingerprint`` hashes the request."""

    key = models.CharField(max_length=200, unique=True)
    fingerprint = models.CharField(max_length=64)
    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.key


class CitizenRecord(models.Model):
    # db_index=False: citizen_record_unique begins with the country
    country = models.ForeignKey(
        "packs.Country", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    national_id = models.CharField(max_length=40)
    no_shows = models.PositiveIntegerField(default=0)
    last_no_show_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["country", "national_id"], name="citizen_record_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.country_id}:{self.national_id[-3:]}"
