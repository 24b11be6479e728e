"""Chromium opens the landing page and a service card in az and in fa; screenshots go to docs/screenshots/."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import PACKS, ROOT
from onestop.packs.services import pack_load

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = ROOT / "docs" / "screenshots"


@pytest.mark.parametrize(("code", "lang", "rtl"), [("az", "az", False), ("af", "fa", True)])
def test_landing_and_service_card_in_browser(page, live_server, settings, code, lang, rtl):
    settings.ONESTOP_PACK = code
    pack_load(PACKS / code)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{live_server.url}/?lang={lang}")
    assert page.locator("html").get_attribute("dir") == ("rtl" if rtl else "ltr")
    assert page.locator("html").get_attribute("lang") == lang
    page.screenshot(path=str(SHOTS / f"landing-{lang}.png"), full_page=True)
    # find a service through the search box, open its card
    page.click("a[href='/services/']")
    first = page.locator(".service-list a").first
    first.click()
    page.wait_for_selector(".service-card h1")
    assert page.locator("table.tiers tbody tr").count() >= 1
    # the layout mirrors: in RTL the heading's right edge is near the page's right edge
    box = page.locator(".service-card h1").bounding_box()
    width = page.viewport_size["width"]
    if rtl:
        assert box["x"] + box["width"] > width * 0.6
    else:
        assert box["x"] < width * 0.4
    page.screenshot(path=str(SHOTS / f"service-card-{lang}.png"), full_page=True)
    assert Path(SHOTS / f"service-card-{lang}.png").stat().st_size > 10_000
