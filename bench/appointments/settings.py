"""Server settings for the booking benchmark: the project's settings, plus two bench options.

* ``BENCH_DB_POOL=N`` gives each server process a PostgreSQL connection pool of N
  connections (Django's native pool, needs the ``psycopg-pool`` package).
* ``BENCH_IP_LIMITS=off`` (the default of ``run.sh``): the per-address limits
  (``booking_per_ip``, ``otp_per_ip``) are lifted because the load generator is a single
  address, while the per-phone and per-ID-number limits stay on and are counted on every
  request, as in production. This works with ``DEBUG=0``; switching every limit off
  still needs ``ONESTOP_RATE_LIMITS=off`` with ``DEBUG=1`` (the project's own rule).

Without these variables the project's settings apply unchanged.
"""

import os

from config.settings.base import *  # noqa: F403
from config.settings.base import DATABASES, ONESTOP_RATE_LIMITS

_pool = int(os.environ.get("BENCH_DB_POOL", "0") or 0)
if _pool and DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps the connections
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {"min_size": _pool, "max_size": _pool}

if os.environ.get("BENCH_IP_LIMITS", "").strip().lower() == "off" and isinstance(
    ONESTOP_RATE_LIMITS, dict
):
    ONESTOP_RATE_LIMITS = {**ONESTOP_RATE_LIMITS, "booking_per_ip": "off", "otp_per_ip": "off"}
