from django.db import models
from django.utils.translation import gettext_lazy as _

from onestop.core.models import PackSourced, translate


class CentreKind(models.TextChoices):
    FIXED = "fixed", _("Centre")
    MOBILE = "mobile", _("Mobile unit")


class Centre(PackSourced):
    country = models.ForeignKey("packs.Country", on_delete=models.PROTECT, related_name="centres")
    code = models.CharField(max_length=40)
    kind = models.CharField(max_length=8, choices=CentreKind.choices, default=CentreKind.FIXED)
    name = models.JSONField(default=dict)
    address = models.JSONField(default=dict)
    time_zone = models.CharField(max_length=64)
    hours = models.JSONField(default=dict, help_text='{"mon": ["09:00-18:00"], ...}')
    remote_join = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "code"]
        constraints = [models.UniqueConstraint(fields=["country", "code"], name="centre_code_unique_per_country")]

    def __str__(self) -> str:
        return translate(self.name) or self.code


class Counter(models.Model):
    centre = models.ForeignKey(Centre, on_delete=models.CASCADE, related_name="counters")
    number = models.PositiveIntegerField()
    zone = models.CharField(max_length=20, blank=True, default="")
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["centre", "number"]
        constraints = [models.UniqueConstraint(fields=["centre", "number"], name="counter_number_unique_per_centre")]

    def __str__(self) -> str:
        return f"{self.centre.code} #{self.number}"


class CounterGroup(models.Model):
    """A service group a counter serves, with its priority level there (1 = primary)."""

    counter = models.ForeignKey(Counter, on_delete=models.CASCADE, related_name="group_links")
    group = models.ForeignKey("catalogue.ServiceGroup", on_delete=models.PROTECT, related_name="counter_links")
    priority = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["counter", "priority", "group"]
        constraints = [
            models.UniqueConstraint(fields=["counter", "group"], name="counter_group_unique"),
            models.CheckConstraint(condition=models.Q(priority__gte=1, priority__lte=9), name="counter_priority_1_9"),
        ]

    def __str__(self) -> str:
        return f"{self.counter} serves {self.group_id} at level {self.priority}"


class RouteStop(models.Model):
    """A dated stop of a mobile unit."""

    centre = models.ForeignKey(Centre, on_delete=models.CASCADE, related_name="route")
    date = models.DateField()
    place = models.JSONField(default=dict)
    opens = models.TimeField()
    closes = models.TimeField()

    class Meta:
        ordering = ["centre", "date"]
        constraints = [models.UniqueConstraint(fields=["centre", "date"], name="route_stop_one_per_day")]

    def __str__(self) -> str:
        return f"{self.centre} {self.date}"


class Closure(models.Model):
    """A pack closure: a date with no working day, network-wide or for some centres."""

    country = models.ForeignKey("packs.Country", on_delete=models.CASCADE, related_name="closures")
    date = models.DateField()
    name = models.JSONField(default=dict)
    centres = models.ManyToManyField(Centre, blank=True, related_name="closures")

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["country", "date"], name="closure_one_per_date")]

    def __str__(self) -> str:
        return f"{self.country} closed {self.date}"
