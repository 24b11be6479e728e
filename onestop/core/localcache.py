"""A small process-local cache for reference data read on every request.

The country, its centres, services and which groups a centre's counters serve change
only when a pack is loaded or an administrator edits them, yet the kiosk and API read
them on every request. A round trip to the shared cache (Redis beyond one machine) for
each of them costs more than the rest of the request, so each server process keeps its
own copy for a short time.

Coherence:
* inside one process, saving or deleting any model listed in :data:`WATCHED_MODELS`
  (signals) and loading a pack clear the cache at once;
* other processes see such a change after at most the entry's time to live (30 seconds
  for reference data), the same bound the shared cache had before.

Only immutable snapshots (plain tuples, frozen dataclasses or model instances that
callers do not modify) belong here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import TypeVar

T = TypeVar("T")

_entries: dict[Hashable, tuple[float, object]] = {}
_lock = threading.Lock()
_refreshing: set[Hashable] = set()  # expired keys one thread is computing again
_generation = [0]  # advanced by clear()
_MISSING = object()

#: Models whose changes clear the cache of this process (``app_label.ModelName``).
WATCHED_MODELS = {
    "packs.Country",
    "centres.Centre",
    "centres.Counter",
    "centres.CounterGroup",
    "centres.Closure",
    "centres.RouteStop",
    "catalogue.Service",
    "catalogue.ServiceGroup",
    "catalogue.PriorityGroup",
}


def get_or_set(key: Hashable, seconds: float, compute: Callable[[], T]) -> T:
    """The cached value of ``key``, computed by ``compute()`` when absent or older than ``seconds``.

    ``None`` results are not cached (a missing row may appear a moment later). When an
    entry has expired, one thread computes it again while the process's other threads go on
    with the expired value for the moment that takes, instead of all computing it at once.
    """
    now = time.monotonic()
    generation = _generation[0]
    entry = _entries.get(key)
    if entry is not None:
        if entry[0] > now:
            return entry[1]  # type: ignore[return-value]
        with _lock:
            if key in _refreshing:
                return entry[1]  # type: ignore[return-value]
            _refreshing.add(key)
        try:
            value = compute()
        finally:
            with _lock:
                _refreshing.discard(key)
    else:
        value = compute()
    if value is not None:
        with _lock:
            if _generation[0] == generation:  # not computed from data cleared meanwhile
                _entries[key] = (now + seconds, value)
    return value


def clear() -> None:
    with _lock:
        _entries.clear()
        _generation[0] += 1


def connect_signals() -> None:
    """Clear this process's cache whenever a watched model is saved or deleted."""
    from django.apps import apps
    from django.db.models.signals import m2m_changed, post_delete, post_save

    def _clear(**_kwargs) -> None:
        clear()

    for label in WATCHED_MODELS:
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        post_save.connect(_clear, sender=model, weak=False, dispatch_uid=f"localcache-save-{label}")
        post_delete.connect(_clear, sender=model, weak=False, dispatch_uid=f"localcache-delete-{label}")
    m2m_changed.connect(_clear, weak=False, dispatch_uid="localcache-m2m")
