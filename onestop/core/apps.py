from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "onestop.core"
    label = "core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import localcache

        localcache.connect_signals()
        from .sql import cache_long_statements

        cache_long_statements()
