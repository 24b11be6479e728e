from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppointmentsConfig(AppConfig):
    name = "onestop.appointments"
    label = "appointments"
    verbose_name = _("Appointments")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from .ratelimit import refuse_unsafe_settings

        # Rate limits may be switched off for load tests only: refuse to start otherwise.
        refuse_unsafe_settings()
