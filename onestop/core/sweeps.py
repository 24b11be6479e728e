"""Registry of idempotent time-based sweeps.

A sweep is a function with no arguments that brings the database up to date with the
clock (send due reminders, expire bookings, mark overdue work) and returns how many
records it changed. Running it twice in a row changes nothing the second time.
``onestop scheduler`` runs every sweep at its interval on one machine; beyond one
machine Celery beat runs the same functions through ``onestop.core.tasks.run_sweep``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Sweep:
    name: str
    every_seconds: int
    func: Callable[[], int]


_REGISTRY: dict[str, Sweep] = {}


def sweep(name: str, every_seconds: int = 60):
    def register(func: Callable[[], int]) -> Callable[[], int]:
        _REGISTRY[name] = Sweep(name, every_seconds, func)
        return func

    return register


def all_sweeps() -> list[Sweep]:
    from django.apps import apps

    for config in apps.get_app_configs():  # importing <app>.sweeps registers its sweeps
        if config.name.startswith("onestop."):
            try:
                __import__(f"{config.name}.sweeps")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.sweeps":
                    raise
    return sorted(_REGISTRY.values(), key=lambda s: s.name)


def get_sweep(name: str) -> Sweep:
    all_sweeps()
    return _REGISTRY[name]
