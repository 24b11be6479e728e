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
    counter = models.ForeignKey("centres.Counter", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="operators", help_text="an operator's own counter")

    def __str__(self) -> str:
        return self.username

    @property
    def is_national(self) -> bool:
        return self.is_superuser or self.role in {Role.NATIONAL_ADMIN, Role.AUDITOR}

    @property
    def needs_two_factor(self) -> bool:
        return self.is_superuser or self.role in ADMIN_ROLES


class PhoneCode(models.Model):
    """A one-time code sent to a citizen's phone. Only a salted hash of the code is stored."""

    phone = models.CharField(max_length=20, db_index=True)
    purpose = models.CharField(max_length=20, default="identity")
    code_hash = models.CharField(max_length=128)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["phone", "purpose", "created_at"], name="phonecode_lookup_idx")]

    def __str__(self) -> str:
        return f"code for {self.phone[:-4]}**** ({self.purpose})"
