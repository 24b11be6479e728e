from django.apps import AppConfig


class CentresConfig(AppConfig):
    name = "onestop.centres"
    label = "centres"
    default_auto_field = "django.db.models.BigAutoField"
