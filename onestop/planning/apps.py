from django.apps import AppConfig


class PlanningConfig(AppConfig):
    name = "onestop.planning"
    label = "planning"
    verbose_name = "Capacity planning"
    default_auto_field = "django.db.models.BigAutoField"
