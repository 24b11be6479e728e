"""Server settings for the booking benchmark: the project's settings, plus an optional pool.

``BENCH_DB_POOL=N`` gives each server process a PostgreSQL connection pool of N
connections (Django's native pool, needs the ``psycopg-pool`` package). Without it the
project's own settings apply unchanged.
"""

import os

from config.settings.base import *  # noqa: F403
from config.settings.base import DATABASES

_pool = int(os.environ.get("BENCH_DB_POOL", "0") or 0)
if _pool and DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps the connections
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {"min_size": _pool, "max_size": _pool}
