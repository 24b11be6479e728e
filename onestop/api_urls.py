"""Every /api/v1/ route, gathered from the apps.

Each app lists its routes in its own ``api_urls``. Here they are grouped by their first
segment (``centres/``, ``bookings/``, ``tickets/``, …), so a request is matched against
one short group instead of trying every app's routes in turn: Django tries the patterns
in order, and an app's ``include`` that fails raises and records every pattern it tried,
which was a twentieth of a booking's CPU.
"""

from __future__ import annotations

import importlib

from django.urls import URLPattern, include, path

APPS = ("onestop.queueing", "onestop.appointments", "onestop.catalogue", "onestop.accounts")


def grouped(modules: tuple[str, ...]) -> list:
    groups: dict[str, list[URLPattern]] = {}
    for module in modules:
        for pattern in importlib.import_module(f"{module}.api_urls").urlpatterns:
            route = str(pattern.pattern)
            first, _, rest = route.partition("/")
            if not first or "<" in first:
                raise ValueError(f"{module}: an API route needs a fixed first segment: {route!r}")
            groups.setdefault(first, []).append(
                path(rest, pattern.callback, pattern.default_args, name=pattern.name)
            )
    return [path(f"{first}/", include(patterns)) for first, patterns in groups.items()]


urlpatterns = grouped(APPS)
