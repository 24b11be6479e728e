"""Rate limits on one-time code requests and booking attempts, counted in Django's cache.

``ONESTOP_RATE_LIMITS`` maps a limit's name to ``"<count>/<period>"`` where the period is
``s``, ``m``, ``h`` or ``d``, optionally with a number (``"10/15m"``)::

    ONESTOP_RATE_LIMITS = {"otp_per_phone": "5/h", "otp_per_ip": "30/h",
                           "booking_per_national_id": "10/h", "booking_per_ip": "60/h"}

Missing names take the defaults below; a name set to ``"off"`` is not limited. The
environment variable ``ONESTOP_RATE_LIMITS=off`` switches every limit off for load tests;
the application refuses to start that way unless ``DEBUG`` is on.

Counting: a fixed window per limit and identifier. The first request of a window creates
the counter with ``cache.add`` (atomic: only one creator wins), every request increments
it with ``cache.incr`` (atomic in Redis and in the local-memory cache); with Redis both are
one server-side script (``SET … NX EX`` then ``INCR``), one command. A request that
takes the count past the limit is refused with 429 and ``Retry-After`` (seconds until
the window ends). Identifiers are hashed before they become cache keys, so phone and ID
numbers are not written to the cache in clear. With the local-memory cache each process
counts on its own; deployments with several processes set ``REDIS_URL`` so all of them
share the counters.

The client address is ``REMOTE_ADDR``: behind a reverse proxy, the proxy must set it
(uvicorn ``--proxy-headers`` with ``--forwarded-allow-ips``).
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _
from rest_framework.exceptions import Throttled

from onestop.core import clock

DEFAULT_LIMITS: dict[str, str] = {
    "otp_per_phone": "5/h",
    "otp_per_ip": "30/h",
    "booking_per_national_id": "10/h",
    "booking_per_ip": "60/h",
}
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
RATE_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int


def parse_rate(text: str) -> Rate:
    match = RATE_RE.match(text or "")
    if not match:
        raise ImproperlyConfigured(
            f"rate limit {text!r} is not of the form '<count>/<period>', e.g. '5/h'"
        )
    count, multiplier, unit = match.groups()
    return Rate(count=int(count), seconds=int(multiplier or 1) * UNITS[unit])


def limits_off() -> bool:
    value = getattr(settings, "ONESTOP_RATE_LIMITS", DEFAULT_LIMITS)
    return isinstance(value, str) and value.strip().lower() == "off"


def configured_limits() -> dict[str, Rate | None]:
    """Every limit by name (``None``: not limited); empty when limits are off."""
    if limits_off():
        return {}
    value = getattr(settings, "ONESTOP_RATE_LIMITS", DEFAULT_LIMITS)
    if not isinstance(value, dict):
        raise ImproperlyConfigured(
            "ONESTOP_RATE_LIMITS must be a mapping of name to rate, or 'off'"
        )
    merged = {**DEFAULT_LIMITS, **value}
    return dict(_parsed(tuple(sorted((str(name), str(rate)) for name, rate in merged.items()))))


@functools.lru_cache(maxsize=16)
def _parsed(items: tuple[tuple[str, str], ...]) -> tuple[tuple[str, Rate | None], ...]:
    """The rates of the setting's items, parsed once per distinct setting (every request
    reads them; parsing them was a seventh of a rate-limit hit)."""
    return tuple(
        (name, None if rate.strip().lower() == "off" else parse_rate(rate)) for name, rate in items
    )


def refuse_unsafe_settings() -> None:
    """Raise at start-up when limits are off outside DEBUG, or a rate is malformed."""
    if limits_off() and not settings.DEBUG:
        raise ImproperlyConfigured(
            "ONESTOP_RATE_LIMITS=off switches off the protection of one-time codes and bookings; "
            "it is allowed for load tests only, with DEBUG=1. Unset ONESTOP_RATE_LIMITS in "
            "production."
        )
    configured_limits()


class RateLimited(Throttled):
    """429 problem+json with Retry-After (through the project's exception handler)."""

    def __init__(self, name: str, wait: int):
        minutes = max(1, math.ceil(wait / 60))
        detail = _("Too many attempts. Please try again in %(minutes)s min.") % {"minutes": minutes}
        super().__init__(wait=wait, detail=detail)
        self.limit_name = name


def _key(name: str, identifier: str, window: int) -> str:
    digest = hashlib.sha256(f"{name}\x00{identifier}".encode()).hexdigest()[:32]
    return f"onestop:ratelimit:{name}:{digest}:{window}"


def hit(name: str, identifier: str) -> None:
    """Count one attempt of ``identifier`` under limit ``name``; RateLimited past the limit."""
    if not identifier:
        return
    rate = configured_limits().get(name)
    if rate is None:
        return
    now = clock.now().timestamp()
    window = int(now // rate.seconds)
    count = _count(_key(name, identifier, window), rate.seconds + 5)
    if count > rate.count:
        wait = max(1, math.ceil((window + 1) * rate.seconds - now))
        raise RateLimited(name, wait)


# Create the counter with its time to live unless it exists, then count: atomic in Redis.
_COUNT_SCRIPT = "redis.call('SET', KEYS[1], 0, 'EX', ARGV[1], 'NX') return redis.call('INCR', KEYS[1])"


@functools.lru_cache(maxsize=64)
def _counter_script(backend_client: Any) -> Any:
    """The counting script on a Redis client kept for ``backend_client`` (a Django Redis
    cache's client; one per cache backend object, so per thread). Django builds a new Redis
    client on every cache call, which cost more than the count itself."""
    return backend_client.get_client(write=True).register_script(_COUNT_SCRIPT)


def _count(key: str, ttl: int) -> int:
    """Add one to the counter ``key`` (created with a time to live of ``ttl`` seconds); the new count.

    With Django's Redis cache: one script (``SET key 0 EX ttl NX``, ``INCR key``), one
    command. Otherwise ``cache.add`` then ``cache.incr``.
    """
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        # make_key, not make_and_validate_key: the keys above are short ASCII, and the
        # validation (a check of every character, for memcached) cost a tenth of the count
        full_key = backend.make_key(key)
        return int(_counter_script(backend._cache)(keys=[full_key], args=[ttl]))
    cache.add(key, 0, timeout=ttl)
    try:
        return int(cache.incr(key))
    except ValueError:  # the counter expired between add and incr: this is the first attempt
        cache.add(key, 1, timeout=ttl)
        return 1


def client_address(request) -> str:
    return str(request.META.get("REMOTE_ADDR", "") or "")
