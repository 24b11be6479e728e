import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Source(models.TextChoices):
    KIOSK = "kiosk", _("Kiosk")
    RECEPTION = "reception", _("Reception")
    REMOTE = "remote", _("Remote join")
    APPOINTMENT = "appointment", _("Appointment")
    COUNTER = "counter", _("Walk-in at the counter")


class Status(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    CALLED = "called", _("Called")
    SERVING = "serving", _("Being served")
    DONE = "done", _("Done")
    NO_SHOW = "no_show", _("Did not come")
    CANCELLED = "cancelled", _("Cancelled")
    PARKED = "parked", _("Stepped aside")


OPEN_STATUSES = (Status.WAITING, Status.CALLED, Status.SERVING, Status.PARKED)


def new_token() -> str:
    return secrets.token_urlsafe(12)


class TicketSequence(models.Model):
    """The last number given per centre, local day and prefix. Locked to number a ticket."""

    centre = models.ForeignKey("centres.Centre", on_delete=models.CASCADE)
    day = models.DateField()
    prefix = models.CharField(max_length=1)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["centre", "day", "prefix"], name="sequence_unique")]

    def __str__(self) -> str:
        return f"{self.centre_id} {self.day} {self.prefix}: {self.last}"


class Ticket(models.Model):
    centre = models.ForeignKey("centres.Centre", on_delete=models.PROTECT, related_name="tickets")
    day = models.DateField(help_text="local date at the centre")
    prefix = models.CharField(max_length=1)
    sequence = models.PositiveIntegerField()
    number = models.CharField(max_length=8)
    service = models.ForeignKey("catalogue.Service", on_delete=models.PROTECT, related_name="tickets")
    group = models.ForeignKey("catalogue.ServiceGroup", on_delete=models.PROTECT, related_name="tickets",
                              help_text="the group whose queue the ticket waits in (changes on transfer)")
    source = models.CharField(max_length=12, choices=Source.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    priority_group = models.ForeignKey("catalogue.PriorityGroup", null=True, blank=True, on_delete=models.PROTECT)
    phone = models.CharField(max_length=20, blank=True, default="")
    language = models.CharField(max_length=8, blank=True, default="")
    token = models.CharField(max_length=24, unique=True, default=new_token, help_text="secret of the phone page")
    issued_at = models.DateTimeField()
    fairness_at = models.DateTimeField(help_text="original issue time; kept on transfer")
    booked_start = models.DateTimeField(null=True, blank=True)
    called_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    counter = models.ForeignKey("centres.Counter", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="tickets")
    target_counter = models.ForeignKey("centres.Counter", null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="transferred_tickets")
    operator = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="served_tickets")
    overtaken = models.PositiveIntegerField(default=0)
    recalls = models.PositiveIntegerField(default=0)
    estimate_mean = models.FloatField(null=True, blank=True)
    estimate_p95 = models.FloatField(null=True, blank=True)
    services_done = models.ManyToManyField("catalogue.Service", blank=True, related_name="+")
    notified_ahead = models.BooleanField(default=False)

    # Not stored: the counter console views set these on the tickets they show.
    waited_minutes: int
    service_name: str

    class Meta:
        ordering = ["centre", "day", "fairness_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["centre", "day", "prefix", "sequence"], name="ticket_number_unique"),
        ]
        indexes = [
            models.Index(fields=["centre", "status", "group"], name="ticket_queue_idx"),
            models.Index(fields=["centre", "day", "status"], name="ticket_day_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number} ({self.centre.code} {self.day})"


class QueueLength(models.Model):
    """Citizens waiting per centre and service group, kept by database triggers.

    Triggers on the ticket table (migration 0002) add and subtract on every insert,
    update and delete that moves a ticket into or out of ``waiting``, whatever made the
    change (services, the admin, a bulk update), so ``waiting`` always equals the count
    of waiting tickets of the group (all days, as the queue itself) without counting
    them. ``waiting_priority`` counts those of them with a priority group. The kiosk
    reads it for each new ticket's estimate and the board for its waiting counts.
    """

    centre = models.ForeignKey("centres.Centre", on_delete=models.CASCADE, related_name="+")
    group = models.ForeignKey("catalogue.ServiceGroup", on_delete=models.CASCADE, related_name="+")
    waiting = models.IntegerField(default=0)
    waiting_priority = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["centre", "group"], name="queue_length_unique")]

    def __str__(self) -> str:
        return f"{self.centre_id} {self.group_id}: {self.waiting} ({self.waiting_priority} priority)"


class CounterStatus(models.TextChoices):
    CLOSED = "closed", _("Closed")
    OPEN = "open", _("Open")
    BREAK = "break", _("On a break")


class CounterState(models.Model):
    """The live state of a counter; its row is locked while the counter calls."""

    counter = models.OneToOneField("centres.Counter", on_delete=models.CASCADE, related_name="state")
    status = models.CharField(max_length=8, choices=CounterStatus.choices, default=CounterStatus.CLOSED)
    break_reason = models.CharField(max_length=120, blank=True, default="")
    operator = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    current = models.ForeignKey(Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    changed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.counter} {self.status}"
