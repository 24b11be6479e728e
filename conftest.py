"""Shared fixtures: packs, loaded countries, staff users, a live server and a browser."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

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

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _outbox_dir(tmp_path, settings):
    settings.ONESTOP_OUTBOX_DIR = tmp_path / "outbox"
