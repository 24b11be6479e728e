"""Test overlay: fast hashing, isolated var directory; database from DATABASE_URL."""

from .base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ONESTOP_DEMO = False

# SQLite tests use a real file (WAL, several connections) so that parallel-request tests
# exercise the same locking as the embedded deployment; pytest-xdist adds a suffix per worker.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-onestop.sqlite3")}  # noqa: F405
(VAR_DIR / "static").mkdir(parents=True, exist_ok=True)  # noqa: F405
