"""Shared fixtures: packs, loaded countries, staff users, a live server and a browser."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest

# Playwright's sync API runs an event loop in the test thread; Django's ORM is still used
# synchronously there, which is safe in tests.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parent
MINI_PACK = ROOT / "onestop" / "packs" / "tests" / "fixtures" / "mini"
PACKS = ROOT / "packs"


@pytest.fixture
def mini_pack(tmp_path) -> Path:
    """A writable copy of the small test pack."""
    target = tmp_path / "zz"
    shutil.copytree(MINI_PACK, target)
    return target


@pytest.fixture
def loaded_mini(db, settings):
    from onestop.packs.models import Country
    from onestop.packs.services import pack_load

    settings.ONESTOP_PACK = "zz"
    pack_load(MINI_PACK)
    return Country.objects.get(code="zz")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = "/usr/bin/chromium"
    if not os.path.exists(path):
        if os.environ.get("ONESTOP_REQUIRE_BROWSER"):
            pytest.fail("Chromium is required (ONESTOP_REQUIRE_BROWSER is set) but /usr/bin/chromium is missing")
        pytest.skip("Debian's chromium is not installed; .ci/run installs it")
    return path


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(
            executable_path=chromium_path, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
                  "--no-first-run", "--disable-component-update", "--disable-sync"],
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    yield pg
    context.close()


# --- a real ASGI server (uvicorn) on the test database ------------------------------
# pytest-django's live server is a small threaded WSGI server: no WebSockets, and a listen
# backlog too short for dozens of simultaneous clients. Tests of pushes and of parallel
# requests use uvicorn instead.

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url() -> str:
    """The URL of the database this test writes to (pytest-django's test database)."""
    from django.db import connection

    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(s['NAME']).resolve()}"
    if connection.vendor == "postgresql":
        auth = quote(s.get("USER") or "", safe="")
        if s.get("PASSWORD"):
            auth += ":" + quote(s["PASSWORD"], safe="")
        host = s.get("HOST") or "127.0.0.1"
        port = f":{s['PORT']}" if s.get("PORT") else ""
        return f"postgres://{auth}@{host}{port}/{s['NAME']}"
    pytest.skip(f"no ASGI test server for {connection.vendor}")


@pytest.fixture
def asgi_server():
    """Start uvicorn on the test database for one pack; yields a function returning the base URL."""
    procs: list[tuple[subprocess.Popen, Path]] = []

    def start(pack: str, workers: int = 1) -> str:
        port = _free_port()
        env = {**os.environ,
               "DATABASE_URL": _database_url(),
               "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings.test"),
               "ONESTOP_PACK": pack, "REDIS_URL": "", "LOG_LEVEL": "WARNING"}
        log = Path(tempfile.mkstemp(prefix="hall-asgi-", suffix=".log")[1])
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1",
             "--port", str(port), "--log-level", "warning", "--ws", "websockets",
             "--workers", str(workers), "--backlog", "2048"],
            cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
        procs.append((proc, log))
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"the ASGI server stopped:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:  # noqa: S310 - local URL
                    if response.status == 200:
                        return base
            except OSError:
                time.sleep(0.2)
        pytest.fail(f"the ASGI server did not answer /healthz:\n{log.read_text()}")

    yield start
    for proc, log in procs:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.unlink(missing_ok=True)



def make_staff(username: str, role: str, *, centres=(), agencies=(), password: str = "pw-test-1"):  # noqa: S107
    from onestop.accounts.models import User

    user = User.objects.create_user(username=username, password=password, role=role, is_staff=True)
    if centres:
        user.centres.set(centres)
    if agencies:
        user.agencies.set(agencies)
    return user


@pytest.fixture(autouse=True)
def _clear_cache():
    """Caches (learned rates, rate limits) must not leak between tests."""
    from django.core.cache import cache

    from onestop.appointments import services as appointments
    from onestop.core import localcache

    cache.clear()
    localcache.clear()
    appointments._KNOWN_SLOTS.clear()  # slot rows of earlier tests are rolled back
    yield
    cache.clear()
    localcache.clear()


@pytest.fixture(autouse=True)
def _outbox_dir(tmp_path, settings):
    settings.ONESTOP_OUTBOX_DIR = tmp_path / "outbox"


@pytest.fixture
def redis_cache(settings):
    """Django's cache on a real Redis (127.0.0.1:6379, database 12, a prefix of its own);
    skipped when no Redis runs there (CI starts one)."""
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            pass
    except OSError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    from django.core.cache import caches

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:6379/12", "KEY_PREFIX": f"t{time.time_ns()}"}}
    return caches["default"]
