"""Test overlay: fast hashing, isolated var directory; database from DATABASE_URL."""

from .base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ONESTOP_DEMO = False
