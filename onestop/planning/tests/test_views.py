"""The planning page: access, charts, the what-if form; screenshots in Chromium."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.urls import reverse

from conftest import PACKS, ROOT, make_staff
from onestop.accounts.models import Role
from onestop.centres.models import Centre
from onestop.planning import charts

from .test_centre import NOW, TOMORROW, make_history

URL = "/planning/hq/"


@pytest.fixture
def hq(loaded_mini):
    return Centre.objects.get(country=loaded_mini, code="hq")


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def manager(hq):
    return make_staff("manager.hq", Role.CENTRE_MANAGER, centres=[hq])


def form_values(html: str) -> dict[str, str]:
    return dict(re.findall(r'name="(c-[a-z]+-\d+)"[^>]*value="(\d+)"', html))


def test_urls():
    assert reverse("planning:index") == "/planning/"
    assert reverse("planning:centre", kwargs={"centre": "hq"}) == URL


@pytest.mark.parametrize(("lang", "direction"), [("en", "ltr"), ("fa", "rtl")])
def test_page_for_the_centre_manager(client, hq, manager, frozen, lang, direction):
    make_history(hq, holiday_rush=False)
    client.force_login(manager)
    response = client.get(f"{URL}?lang={lang}")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'dir="{direction}"' in html and f'lang="{lang}"' in html
    assert html.count("<svg") == 2  # forecast and plan
    assert 'id="forecast-chart-title"' in html and 'class="ref-line"' in html
    assert "planning/planning.css" in html
    assert response.context["day"] == TOMORROW  # default: tomorrow at the centre
    assert response.context["forecast"].source == "history"
    assert "default profile" not in html
    name = "کارت هویت" if lang == "fa" else "Identity cards"
    assert name in html  # group names in the page's language, also inside the chart
    assert re.search(r"<rect class=\"bar s0\"[^>]*><title>" + name, html)
    values = form_values(html)
    # The what-if form starts from the recommended plan.
    assert len(values) == 2 * 9
    assert values["c-idcard-11"] == str(response.context["plan_rows"][0]["cells"][2])
    assert int(values["c-idcard-11"]) >= 1


def test_page_says_when_it_uses_the_default_profile(client, manager, frozen):
    client.force_login(manager)
    html = client.get(f"{URL}?date=2026-11-30").content.decode()
    assert "default profile" in html and "80% busy in the busiest hour" in html
    closed = client.get(f"{URL}?date=2026-12-30")
    assert closed.status_code == 200 and b"closed on this day" in closed.content
    assert b"<svg" not in closed.content and b"whatif-form" not in closed.content
    bad = client.get(f"{URL}?date=someday")
    assert bad.status_code == 200 and b"is not a date; showing tomorrow" in bad.content
    assert bad.context["day"] == TOMORROW
    far = client.get(f"{URL}?date=0001-01-01")
    assert far.status_code == 200 and b"within five years of today" in far.content


def test_what_if_runs_and_compares_with_the_recommended_plan(client, hq, manager, frozen):
    client.force_login(manager)
    page = client.get(URL)
    values = form_values(page.content.decode())
    values = {
        k: "0" if k.startswith("c-civil-") else v for k, v in values.items()
    }  # no civil staff
    response = client.post(f"{URL}?date={TOMORROW.isoformat()}", values)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="whatif-results"' in html
    results = response.context["results"]
    labels = [str(row["label"]) for row in results["rows"]]
    assert labels[:3] == [
        "Mean wait (served citizens)",
        "90th percentile of the wait",
        "Walk-aways (share of arrivals)",
    ]
    assert results["yours_hours"] < results["recommended_hours"]
    unserved = next(r for r in results["rows"] if str(r["label"]) == "Not served by closing")
    assert float(unserved["yours"]["value"]) > 0 and unserved["recommended"]["value"] == "0.0"
    mean = results["rows"][0]
    assert mean["yours"]["value"].endswith(" min") and mean["yours"]["low"].endswith(" min")
    assert "<bdi>" + mean["yours"]["low"] + "</bdi> – <bdi>" + mean["yours"]["high"] in html
    # The form keeps the posted plan.
    assert form_values(html)["c-civil-11"] == "0"


def test_what_if_rejects_bad_numbers(client, manager, frozen):
    client.force_login(manager)
    values = form_values(client.get(URL).content.decode())
    values["c-idcard-10"] = "-1"
    values["c-civil-12"] = "many"
    response = client.post(URL, values)
    assert response.status_code == 422
    assert response.context["results"] is None
    assert b"Counters must be whole numbers from 0 to 99." in response.content
    assert response.content.count(b'class="invalid"') == 2


def test_scope_and_roles(client, loaded_mini, hq, manager, frozen, monkeypatch, settings):
    north = Centre.objects.get(country=loaded_mini, code="north")
    other = make_staff("manager.north", Role.CENTRE_MANAGER, centres=[north])
    operator = make_staff("op.hq", Role.OPERATOR, centres=[hq])
    national = make_staff("national", Role.NATIONAL_ADMIN)
    # Anonymous: to the sign-in page.
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    # Nothing runs for those who may not see the page.
    from onestop.planning import centre as planning

    def boom(*args, **kwargs):
        raise AssertionError("the forecast ran for a user without access")

    monkeypatch.setattr(planning, "forecast_for", boom)
    for user in (other, operator):
        client.force_login(user)
        assert client.get(URL).status_code == 403
        assert client.post(URL, {"c-idcard-9": "1"}).status_code == 403
    client.force_login(operator)
    assert client.get("/planning/").status_code == 403
    client.force_login(other)
    index = client.get("/planning/")
    assert index.status_code == 200
    assert [item["url"] for item in index.context["items"]] == ["/planning/north/"]
    monkeypatch.undo()
    # National administrators see every centre (second factor off for this check).
    settings.ONESTOP_DEMO = True
    client.force_login(national)
    assert client.get(URL).status_code == 200
    urls = [item["url"] for item in client.get("/planning/").context["items"]]
    assert urls == ["/planning/hq/", "/planning/north/", "/planning/bus/"]
    assert client.get("/planning/nowhere/").status_code == 404


def test_landing_page_links_the_planning_page(client, loaded_mini):
    assert b'href="/planning/"' in client.get("/").content


def test_chart_helper_escapes_and_scales():
    assert charts.nice_ticks(37, integer=True) == [0, 10, 20, 30, 40]
    assert charts.nice_ticks(0.9) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert charts.nice_ticks(0) == [0.0, 1.0]
    chart = charts.bar_chart(
        ["09:00", "10:00"],
        [charts.Series("<b>A</b>", [1, 2]), charts.Series("B & C", [0, 3])],
        chart_id="t",
        title="T<",
        description="D",
        y_label="Y",
        x_label="X",
        line=charts.Series("have", [4, 4]),
        integer=True,
    )
    svg = str(chart.svg)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "<b>" not in svg and "&lt;b&gt;A&lt;/b&gt;" in svg and "B &amp; C" in svg
    assert svg.count('<rect class="bar') == 3  # the zero is not drawn
    assert 'aria-labelledby="t-title t-desc"' in svg and '<title id="t-title">T&lt;</title>' in svg
    assert [item["css"] for item in chart.legend] == ["s0", "s1", "ref"]


# --------------------------------------------------------------------------- browser


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("code", "lang", "centre_code", "rtl"),
    [("az", "az", "baku-1", False), ("af", "fa", "kabul-1", True)],
)
def test_planning_page_in_the_browser(page, live_server, settings, code, lang, centre_code, rtl):
    # A fixed "today" (the clock ticks on from it) so the screenshots show the same day.
    with time_machine.travel(NOW, tick=True):
        _planning_page(page, live_server, settings, code, lang, centre_code, rtl)


def _planning_page(page, live_server, settings, code, lang, centre_code, rtl):
    from onestop.packs.services import pack_load

    settings.ONESTOP_PACK = code
    pack_load(PACKS / code)
    centre = Centre.objects.get(country__code=code, code=centre_code)
    make_staff(f"manager.{centre_code}", Role.CENTRE_MANAGER, centres=[centre])
    shots = ROOT / "docs" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    page.goto(f"{live_server.url}/accounts/login/?lang={lang}")
    page.fill("input[name=username]", f"manager.{centre_code}")
    page.fill("input[name=password]", "pw-test-1")
    page.click("form button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    page.goto(f"{live_server.url}/planning/?lang={lang}")
    page.click(f"a[href='/planning/{centre_code}/']")
    page.wait_for_selector("figure.chart svg")
    assert page.locator("html").get_attribute("dir") == ("rtl" if rtl else "ltr")
    assert page.locator("figure.chart svg").count() == 2
    # The plot area runs left to right in both directions; the page around it mirrors.
    assert page.locator(".chart-plot").first.evaluate("e => getComputedStyle(e).direction") == "ltr"
    heading = page.locator("h1").bounding_box()
    width = page.viewport_size["width"]
    assert (heading["x"] + heading["width"] > width * 0.6) if rtl else (heading["x"] < width * 0.4)
    # What-if: one counter fewer at the first hour of the first group, then simulate.
    first = page.locator(".whatif-grid input").first
    first.fill(str(max(int(first.input_value()) - 1, 0)))
    page.click(".whatif-form button[type=submit]")
    page.wait_for_selector(".whatif-results", timeout=60_000)
    assert page.locator(".whatif-results tbody tr").count() == 7
    page.screenshot(path=str(shots / f"planning-{lang}.png"), full_page=True)
    assert (shots / f"planning-{lang}.png").stat().st_size > 20_000
