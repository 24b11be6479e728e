"""Every public page renders in every language of both packs; fa and ps pages are right-to-left."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from conftest import PACKS
from onestop.catalogue.models import Service
from onestop.packs.services import pack_load

pytestmark = pytest.mark.django_db

PACK_LANGUAGES = {"az": ["az", "ru", "en"], "af": ["fa", "ps", "en"]}
RTL = {"fa", "ps"}


def public_urls(code: str) -> list[str]:
    service = Service.objects.filter(country__code=code, archived_at__isnull=True).order_by("position").first()
    assert service is not None
    return ["/", "/services/", "/services/?q=" + service.code, f"/services/{service.code}/"]


@pytest.mark.parametrize("code", ["az", "af"])
def test_public_pages_render_in_every_pack_language(code, settings):
    settings.ONESTOP_PACK = code
    pack_load(PACKS / code)
    client = Client()
    for lang in PACK_LANGUAGES[code]:
        for url in public_urls(code):
            sep = "&" if "?" in url else "?"
            response = client.get(f"{url}{sep}lang={lang}")
            assert response.status_code == 200, (url, lang)
            html = response.content.decode()
            direction = "rtl" if lang in RTL else "ltr"
            assert f'<html lang="{lang}" dir="{direction}">' in html, (url, lang)


def test_service_card_shows_tiers_documents_and_centre_hours(loaded_mini):
    client = Client()
    html = client.get("/services/id-card/?lang=en").content.decode()
    assert "Identity card" in html
    assert re.search(r"5\.00 AZN.*?10 working days", html, re.S)
    assert re.search(r"50\.00 AZN.*?3 working days", html, re.S)
    assert re.search(r"70\.00 AZN.*?1 working day\b", html, re.S)
    assert "Birth certificate" in html
    assert "Central hall" in html and "09:00-18:00" in html
    fa = client.get("/services/id-card/?lang=fa").content.decode()
    assert "کارت هویت" in fa and "تصدیق تولد" in fa


def test_language_choice_is_remembered(loaded_mini):
    client = Client()
    client.get("/?lang=fa")
    assert '<html lang="fa" dir="rtl">' in client.get("/services/").content.decode()


def test_search_filters_services(loaded_mini):
    html = Client().get("/services/?q=birth&lang=en").content.decode()
    assert 'href="/services/birth/"' in html and 'href="/services/id-card/"' not in html


def test_unknown_service_is_404(loaded_mini):
    assert Client().get("/services/nope/").status_code == 404


def test_archived_service_is_not_listed(loaded_mini):
    from onestop.core import clock

    Service.objects.filter(code="birth").update(archived_at=clock.now())
    assert "Birth registration" not in Client().get("/services/?lang=en").content.decode()


def test_healthz_reports_database(db):
    response = Client().get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["database"]["status"] == "ok"


def test_landing_links_every_existing_part(loaded_mini):
    html = Client().get("/?lang=en").content.decode()
    for href in ['href="/services/"', 'href="/admin/"', 'href="/api/v1/docs/"', 'href="/healthz"']:
        assert href in html


def test_api_services_and_problem_json(loaded_mini):
    client = Client()
    data = client.get("/api/v1/services/id-card/").json()
    assert [(t["code"], t["fee"], t["term_days"]) for t in data["tiers"]] == [
        ("standard", "5.00", 10), ("urgent", "50.00", 3), ("express", "70.00", 1)]
    missing = client.get("/api/v1/services/nope/")
    assert missing.status_code == 404
    assert missing["Content-Type"] == "application/problem+json"
    bad = client.post("/api/v1/auth/token/", {"username": "x"}, content_type="application/json")
    assert bad.status_code == 422
    assert bad.json()["errors"] == [{"field": "password", "message": "This field is required."}]
