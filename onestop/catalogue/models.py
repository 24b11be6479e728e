from django.db import models
from django.utils.translation import gettext_lazy as _

from onestop.core.models import PackSourced, translate


class Channel(models.TextChoices):
    HALL = "hall", _("In the hall")
    ONLINE = "online", _("Online")
    MOBILE = "mobile", _("Mobile unit")


class Agency(PackSourced):
    country = models.ForeignKey("packs.Country", on_delete=models.PROTECT, related_name="agencies")
    code = models.CharField(max_length=40)
    name = models.JSONField(default=dict)
    website = models.URLField(blank=True, default="")
    auxiliary = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "code"]
        verbose_name_plural = "agencies"
        constraints = [models.UniqueConstraint(fields=["country", "code"], name="agency_code_unique_per_country")]

    def __str__(self) -> str:
        return translate(self.name) or self.code


class ServiceGroup(PackSourced):
    country = models.ForeignKey("packs.Country", on_delete=models.PROTECT, related_name="service_groups")
    code = models.CharField(max_length=40)
    prefix = models.CharField(max_length=1)
    name = models.JSONField(default=dict)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["country", "code"], name="group_code_unique_per_country"),
            models.UniqueConstraint(
                fields=["country", "prefix"], condition=models.Q(archived_at__isnull=True),
                name="group_prefix_unique_per_country",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.prefix} · {translate(self.name) or self.code}"


class Service(PackSourced):
    country = models.ForeignKey("packs.Country", on_delete=models.PROTECT, related_name="services")
    code = models.CharField(max_length=40)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="services")
    group = models.ForeignKey(ServiceGroup, on_delete=models.PROTECT, related_name="services")
    name = models.JSONField(default=dict)
    description = models.JSONField(default=dict)
    documents = models.JSONField(default=list, help_text="list of per-language texts")
    channels = models.JSONField(default=list)
    handling_minutes = models.DecimalField(max_digits=6, decimal_places=2)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "code"]
        constraints = [models.UniqueConstraint(fields=["country", "code"], name="service_code_unique_per_country")]

    def __str__(self) -> str:
        return translate(self.name) or self.code


class Tier(models.Model):
    """A speed tier of a service: fixed fee and legal term (working days, or same day)."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="tiers")
    code = models.CharField(max_length=40)
    name = models.JSONField(default=dict)
    fee = models.DecimalField(max_digits=12, decimal_places=2)
    term_days = models.PositiveIntegerField(null=True, blank=True)
    same_day = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["service", "code"], name="tier_code_unique_per_service"),
            models.CheckConstraint(condition=models.Q(fee__gte=0), name="tier_fee_non_negative"),
            models.CheckConstraint(
                condition=models.Q(same_day=True, term_days__isnull=True)
                | models.Q(same_day=False, term_days__gte=1),
                name="tier_has_one_term",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service.code}/{self.code}"


class PriorityGroup(PackSourced):
    country = models.ForeignKey("packs.Country", on_delete=models.PROTECT, related_name="priority_groups")
    code = models.CharField(max_length=40)
    name = models.JSONField(default=dict)
    proof = models.JSONField(default=dict)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "code"]
        constraints = [models.UniqueConstraint(fields=["country", "code"], name="priority_code_unique_per_country")]

    def __str__(self) -> str:
        return translate(self.name) or self.code
