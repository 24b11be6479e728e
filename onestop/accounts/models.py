from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    NATIONAL_ADMIN = "national_admin", _("National administrator")
    AGENCY_ADMIN = "agency_admin", _("Agency administrator")
    CENTRE_MANAGER = "centre_manager", _("Centre manager")
    OPERATOR = "operator", _("Counter operator")
    OFFICER = "officer", _("Back-office officer")
    GREETER = "greeter", _("Greeter")
    AUDITOR = "auditor", _("Auditor")


ADMIN_ROLES = {Role.NATIONAL_ADMIN, Role.AGENCY_ADMIN}


class User(AbstractUser):
    """A staff member. Citizens are not users: they identify per request (ID + phone code)."""

    role = models.CharField(max_length=20, choices=Role.choices, blank=True, default="")
    centres = models.ManyToManyField("centres.Centre", blank=True, related_name="staff")
    agencies = models.ManyToManyField("catalogue.Agency", blank=True, related_name="staff")
    language = models.CharField(max_length=8, blank=True, default="")

    def __str__(self) -> str:
        return self.username

    @property
    def is_national(self) -> bool:
        return self.is_superuser or self.role in {Role.NATIONAL_ADMIN, Role.AUDITOR}

    @property
    def needs_two_factor(self) -> bool:
        return self.is_superuser or self.role in ADMIN_ROLES
