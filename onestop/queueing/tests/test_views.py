"""Hall screens: every page renders in en and fa, and each form goes through the queue services."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.urls import reverse

from conftest import PACKS, make_staff
from onestop.accounts.models import Role
from onestop.catalogue.models import Service
from onestop.centres.models import Centre
from onestop.packs.services import pack_load
from onestop.queueing import services
from onestop.queueing.models import CounterState, CounterStatus, Source, Status, Ticket
from onestop.queueing.templatetags.hall_numbers import local_number
from onestop.queueing.views import ticket_state

from .conftest import OPEN_TIME

pytestmark = pytest.mark.django_db


@pytest.fixture
def hq(loaded_mini):
    return loaded_mini.centres.get(code="hq")


@pytest.fixture
def counter1(hq):
    return hq.counters.get(number=1)


@pytest.fixture
def id_card(loaded_mini):
    return Service.objects.get(country=loaded_mini, code="id-card")


@pytest.fixture
def operator(hq, counter1):
    user = make_staff("op1", Role.OPERATOR, centres=[hq])
    user.counter = counter1
    user.save()
    return user


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def issue(centre, service, **kwargs) -> Ticket:
    return services.ticket_issue(centre=centre, service=service, source=Source.KIOSK, **kwargs)


def page_urls(hq, counter1, ticket) -> list[str]:
    return [
        reverse("queueing:kiosk_index"),
        reverse("queueing:kiosk", kwargs={"centre": "hq"}),
        reverse("queueing:kiosk", kwargs={"centre": "hq"}) + "?group=idcard",
        reverse("queueing:kiosk", kwargs={"centre": "hq"}) + "?service=id-card",
        reverse("queueing:kiosk_ticket", kwargs={"centre": "hq", "token": ticket.token}),
        reverse("queueing:board_index"),
        reverse("queueing:board", kwargs={"centre": "hq"}),
        reverse("queueing:board", kwargs={"centre": "hq"}) + "?zone=A",
        reverse("queueing:counter_index"),
        reverse("queueing:counter", kwargs={"pk": counter1.pk}),
        reverse("queueing:counter_queue", kwargs={"pk": counter1.pk}),
        reverse("queueing:reception_index"),
        reverse("queueing:reception", kwargs={"centre": "hq"}),
        reverse("queueing:reception_overview", kwargs={"centre": "hq"}),
        reverse("queueing:ticket_page", kwargs={"token": ticket.token}),
        reverse("queueing:remote_join"),
    ]


@pytest.mark.parametrize(("lang", "direction"), [("en", "ltr"), ("fa", "rtl")])
def test_every_page_renders_in_each_pack_language(hq, counter1, id_card, lang, direction):
    ticket = issue(hq, id_card)
    manager = make_staff("manager", Role.CENTRE_MANAGER, centres=[hq])
    client = logged_in(manager)
    for url in page_urls(hq, counter1, ticket):
        sep = "&" if "?" in url else "?"
        response = client.get(f"{url}{sep}lang={lang}")
        assert response.status_code == 200, (url, lang)
        html = response.content.decode()
        if "/queue/" in url or "/overview/" in url:
            continue  # htmx fragments, not pages
        assert f'<html lang="{lang}" dir="{direction}">' in html, (url, lang)
    fa = client.get(reverse("queueing:kiosk", kwargs={"centre": "hq"}) + "?lang=fa").content.decode()
    assert "کارت هویت" in fa  # the group's name in the active language


def test_kiosk_starts_with_the_languages_then_groups_and_services(hq):
    client = Client()
    url = reverse("queueing:kiosk", kwargs={"centre": "hq"})
    start = client.get(url).content.decode()
    assert 'href="?lang=en"' in start and 'href="?lang=fa"' in start and "دری" in start
    groups = client.get(url + "?lang=en").content.decode()
    assert "Identity cards" in groups and "Civil registry" in groups
    # a group with a single service goes straight to the details (priority, phone)
    details = client.get(url + "?lang=en&group=idcard").content.decode()
    assert 'name="service" value="id-card"' in details
    assert "Elderly citizens" in details and "Identity card showing age 70 or more" in details


def test_kiosk_issues_a_ticket_and_shows_number_and_qr(hq):
    client = Client()
    url = reverse("queueing:kiosk", kwargs={"centre": "hq"}) + "?lang=fa"
    response = client.post(url, {"service": "id-card", "priority_group": "elderly", "phone": ""}, follow=True)
    assert response.status_code == 200
    ticket = Ticket.objects.get()
    assert ticket.source == Source.KIOSK and ticket.priority_group.code == "elderly"
    assert ticket.language == "fa" and ticket.number == "A001"
    html = response.content.decode()
    assert '<html lang="fa" dir="rtl">' in html
    assert "A001" in html and "<svg" in html and 'class="qr"' in html
    assert "@page" not in html  # the print rules live in the stylesheet
    assert "data-print" in html


def test_kiosk_refusal_is_shown_and_writes_nothing(hq):
    client = Client()
    url = reverse("queueing:kiosk", kwargs={"centre": "hq"}) + "?lang=en"
    response = client.post(url, {"service": "id-card", "priority_group": "", "phone": "not a phone"})
    assert response.status_code == 422
    assert Ticket.objects.count() == 0
    assert 'role="alert"' in response.content.decode() or "errorlist" in response.content.decode()


def test_print_stylesheet_sets_an_80mm_page():
    from django.contrib.staticfiles import finders

    css = open(finders.find("queueing/hall.css"), encoding="utf-8").read()
    assert "@page { size: 80mm auto; margin: 0 }" in css
    # logical properties only: no physical left/right in the hall stylesheet
    assert not re.search(r"(margin|padding|border)-(left|right)|(?<![-\w])(left|right)\s*:|float\s*:", css)


def test_reception_issues_on_behalf_with_priority(hq, loaded_mini):
    greeter = make_staff("greeter", Role.GREETER, centres=[hq])
    client = logged_in(greeter)
    url = reverse("queueing:reception", kwargs={"centre": "hq"})
    response = client.post(url + "?lang=en", {"service": "birth", "priority_group": "elderly", "phone": "",
                                              "language": "fa"}, follow=True)
    assert response.status_code == 200
    ticket = Ticket.objects.get()
    assert ticket.source == Source.RECEPTION and ticket.priority_group.code == "elderly"
    assert ticket.language == "fa" and ticket.number == "D001"
    html = response.content.decode()
    assert "D001" in html and "<svg" in html
    assert "Civil registry" in html  # the queue overview


def test_reception_refuses_a_greeter_of_another_centre(hq, loaded_mini):
    north = loaded_mini.centres.get(code="north")
    stranger = make_staff("greeter-north", Role.GREETER, centres=[north])
    client = logged_in(stranger)
    url = reverse("queueing:reception", kwargs={"centre": "hq"})
    assert client.get(url).status_code == 403
    response = client.post(url, {"service": "birth", "priority_group": "", "phone": "", "language": "en"})
    assert response.status_code == 403
    assert Ticket.objects.count() == 0
    # and an anonymous visitor is sent to sign in
    anonymous = Client().post(url, {"service": "birth"})
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert Ticket.objects.count() == 0


def test_console_refuses_an_operator_of_another_counter(hq, counter1, id_card, operator):
    counter2 = hq.counters.get(number=2)
    other = make_staff("op2", Role.OPERATOR, centres=[hq])
    other.counter = counter2
    other.save()
    services.counter_open(counter=counter1, operator=operator)
    ticket = issue(hq, id_card)
    client = logged_in(other)
    url = reverse("queueing:counter", kwargs={"pk": counter1.pk})
    assert client.get(url).status_code == 403
    for action in ("call_next", "close", "walk_in"):
        response = client.post(url, {"action": action, "walkin-service": "id-card"})
        assert response.status_code == 403
        assert "outside your scope" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == Status.WAITING and ticket.counter is None
    assert CounterState.objects.get(counter=counter1).status == CounterStatus.OPEN
    assert Ticket.objects.count() == 1
    # the index lists only the counters the operator may use
    index = client.get(reverse("queueing:counter_index")).content.decode()
    assert reverse("queueing:counter", kwargs={"pk": counter2.pk}) in index
    assert reverse("queueing:counter", kwargs={"pk": counter1.pk}) not in index


def test_console_moves_a_ticket_through_its_states(hq, counter1, id_card, operator, loaded_mini):
    ticket = issue(hq, id_card)
    client = logged_in(operator)
    url = reverse("queueing:counter", kwargs={"pk": counter1.pk})

    def post(**data):
        return client.post(url, data, follow=True)

    html = post(action="call_next").content.decode()
    assert "Open the counter before calling." in html
    assert post(action="open").status_code == 200
    html = post(action="call_next").content.decode()
    ticket.refresh_from_db()
    assert ticket.status == Status.CALLED and ticket.counter == counter1
    assert 'data-current="A001"' in html
    # no-show is refused before the recall timeout, with the service's message
    response = client.post(url, {"action": "no_show", "ticket": ticket.pk})
    assert response.status_code == 409
    assert "more seconds for the citizen" in response.content.decode()
    post(action="recall", ticket=ticket.pk)
    ticket.refresh_from_db()
    assert ticket.recalls == 1
    post(action="start", ticket=ticket.pk)
    ticket.refresh_from_db()
    assert ticket.status == Status.SERVING
    birth = Service.objects.get(country=loaded_mini, code="birth")
    post(action="finish", ticket=ticket.pk, **{"finish-services": ["id-card", "birth"]})
    ticket.refresh_from_db()
    assert ticket.status == Status.DONE
    assert set(ticket.services_done.all()) == {id_card, birth}
    assert CounterState.objects.get(counter=counter1).current is None


def test_console_htmx_swaps_the_panel_and_shows_refusals(hq, counter1, id_card, operator):
    client = logged_in(operator)
    url = reverse("queueing:counter", kwargs={"pk": counter1.pk})
    response = client.post(url, {"action": "open"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="console"') and "<html" not in html
    response = client.post(url, {"action": "break", "break-reason": ""}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422 and "Give a reason for the break." in response.content.decode()
    response = client.post(url, {"action": "break", "break-reason": "Lunch"}, HTTP_HX_REQUEST="true")
    assert CounterState.objects.get(counter=counter1).status == CounterStatus.BREAK
    assert "Lunch" in response.content.decode()


def test_console_transfer_park_return_requeue_and_walk_in(hq, counter1, id_card, operator, loaded_mini):
    client = logged_in(operator)
    url = reverse("queueing:counter", kwargs={"pk": counter1.pk})
    client.post(url, {"action": "open"})
    first, _second = issue(hq, id_card), issue(hq, id_card)
    client.post(url, {"action": "call_next"})
    client.post(url, {"action": "requeue", "ticket": first.pk})
    first.refresh_from_db()
    assert first.status == Status.WAITING
    client.post(url, {"action": "call_next"})
    first.refresh_from_db()
    assert first.status == Status.CALLED  # it kept its place
    client.post(url, {"action": "transfer", "ticket": first.pk, "transfer-target": "group:civil"})
    first.refresh_from_db()
    assert first.status == Status.WAITING and first.group.code == "civil"
    client.post(url, {"action": "call_next"})
    called = Ticket.objects.get(status=Status.CALLED)
    client.post(url, {"action": "park", "ticket": called.pk})
    called.refresh_from_db()
    assert called.status == Status.PARKED
    client.post(url, {"action": "return", "ticket": called.pk})
    called.refresh_from_db()
    assert called.status == Status.SERVING
    client.post(url, {"action": "finish", "ticket": called.pk})
    called.refresh_from_db()
    assert called.status == Status.DONE and list(called.services_done.all()) == [called.service]
    client.post(url, {"action": "walk_in", "walkin-service": "birth"})
    walk_in = Ticket.objects.get(source=Source.COUNTER)
    assert walk_in.status == Status.SERVING and walk_in.counter == counter1
    # a ticket that is not at this counter cannot be acted on from here
    waiting = issue(hq, id_card)
    response = client.post(url, {"action": "start", "ticket": waiting.pk})
    assert response.status_code == 409
    assert "no longer at this counter" in response.content.decode()
    waiting.refresh_from_db()
    assert waiting.status == Status.WAITING


def test_ticket_page_shows_state_and_cancels(hq, id_card):
    ticket = issue(hq, id_card)
    client = Client()
    url = reverse("queueing:ticket_page", kwargs={"token": ticket.token})
    html = client.get(url + "?lang=en").content.decode()
    assert "A001" in html and "Waiting" in html and "Cancel my ticket" in html
    response = client.post(url, {"action": "cancel"}, follow=True)
    assert response.status_code == 200
    ticket.refresh_from_db()
    assert ticket.status == Status.CANCELLED
    html = response.content.decode()
    assert "Your ticket is cancelled." in html
    # once cancelled, a second cancel is refused with a message, not an error page
    response = client.post(url, {"action": "cancel"}, follow=True)
    assert response.status_code == 200 and "Cancelled" in response.content.decode()
    assert client.get(reverse("queueing:ticket_page", kwargs={"token": "nope"})).status_code == 404


def test_ticket_state_is_json_ready_and_translated(hq, id_card, counter1, operator):
    import json

    ticket = issue(hq, id_card)
    state = ticket_state(ticket, language="fa")
    json.dumps(state)
    assert state["number"] == "A001" and state["status"] == "waiting" and state["position"] == 0
    assert state["service"] == "کارت هویت" and state["centre"] == "تالار مرکزی"
    assert state["counter"] is None and state["can_cancel"] is True
    assert state["estimate"] is None or set(state["estimate"]) == {"mean_minutes", "p95_minutes"}
    services.counter_open(counter=counter1, operator=operator)
    services.ticket_call_next(counter=counter1, operator=operator)
    ticket.refresh_from_db()
    state = ticket_state(ticket, language="en")
    assert state["status"] == "called" and state["counter"] == 1 and state["position"] is None
    assert state["status_label"] == "Called" and state["can_cancel"] is False


def test_remote_join_with_a_wrong_code_issues_nothing(hq):
    client = Client()
    url = reverse("queueing:remote_join") + "?lang=en"
    response = client.post(url, {"action": "join", "centre": "hq", "service": "id-card",
                                 "phone": "+994501234567", "code": "000000"})
    assert response.status_code in (409, 422)
    assert 'role="alert"' in response.content.decode()
    assert Ticket.objects.count() == 0
    # a centre without remote joins is not offered
    html = client.get(url).content.decode()
    assert 'value="hq"' in html and 'value="north"' not in html


def _outbox_ready() -> bool:
    try:
        from onestop.notifications.models import OutboxMessage
        from onestop.notifications.templates import render_message  # noqa: F401
    except ImportError:
        return False
    return OutboxMessage._meta.db_table in connection.introspection.table_names()


def test_remote_join_with_the_code_from_the_sms(hq):
    if not _outbox_ready():
        pytest.skip("the notifications outbox is not installed yet")
    from onestop.notifications.models import OutboxMessage

    client = Client()
    url = reverse("queueing:remote_join") + "?lang=en"
    details = {"centre": "hq", "service": "id-card", "phone": "+994501234567"}
    response = client.post(url, {**details, "action": "send"})
    assert response.status_code == 200 and 'name="code"' in response.content.decode()
    sms = OutboxMessage.objects.filter(to="+994501234567", template="otp_code").latest("id")
    code = re.search(r"\b(\d{6})\b", sms.text).group(1)
    wrong = "000000" if code != "000000" else "111111"
    response = client.post(url, {**details, "action": "join", "code": wrong})
    assert Ticket.objects.count() == 0 and response.status_code in (409, 422)
    response = client.post(url, {**details, "action": "join", "code": code})
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.source == Source.REMOTE and ticket.phone == "+994501234567"
    assert response["Location"].startswith(reverse("queueing:ticket_page", kwargs={"token": ticket.token}))


def _board_cells(html: str, group: str) -> tuple[str, str]:
    """(people waiting, estimated wait) of ``group``'s row on the board, as rendered."""
    row = re.search(rf'<tr data-group="{group}">(.*?)</tr>', html, re.S)
    assert row, group
    waiting = re.search(r'<td class="num">(.*?)</td>', row.group(1), re.S)
    estimate = re.search(r'<td class="board-estimate"><bdi>(.*?)</bdi></td>', row.group(1), re.S)
    assert waiting and estimate
    return waiting.group(1).strip(), estimate.group(1).strip()


@pytest.mark.parametrize(("lang", "twelve", "digits"), [
    ("fa", "۱۲", "۰۱۲۳۴۵۶۷۸۹"),
    ("az", "12", "0123456789"),
    ("en", "12", "0123456789"),
])
def test_board_counts_follow_the_language_and_ticket_numbers_stay_latin(
        hq, counter1, id_card, operator, lang, twelve, digits):
    for _ in range(13):
        issue(hq, id_card)
    services.counter_open(counter=counter1, operator=operator)
    called = services.ticket_call_next(counter=counter1, operator=operator)
    assert called is not None and called.number == "A001"
    html = Client().get(reverse("queueing:board", kwargs={"centre": "hq"}) + f"?lang={lang}").content.decode()
    # as printed on the slip and on the counter sign, in every language
    assert re.search(r'<tr data-id="\d+" class="newest status-called"><td><bdi dir="ltr">A001</bdi></td><td>1</td>',
                     html)
    waiting, estimate = _board_cells(html, id_card.group.code)
    assert waiting == twelve
    assert re.search(f"[{digits}]", estimate), estimate  # the minutes are shown, in the language's digits
    other = "0123456789" if lang == "fa" else "۰۱۲۳۴۵۶۷۸۹"
    assert not re.search(f"[{other}]", waiting + estimate)


def test_local_number_uses_the_locale_digits_and_falls_back_to_str():
    assert local_number(1234, "fa") == "۱٬۲۳۴"  # as Intl.NumberFormat("fa") in the browser
    assert local_number(7, "ps") == "۷"
    assert local_number(7, "ru") == "7"
    assert local_number(1234, "xx") == "1234"  # a language Babel does not know


# ---- the other hall screens: counts and minutes in the language's digits, codes as printed

PERSIAN, LATIN = "۰۱۲۳۴۵۶۷۸۹", "0123456789"


def _in_digits_of(lang: str, text: str) -> None:
    """``text`` shows digits, all of them the language's own (Persian in fa, Latin otherwise)."""
    own, other = (PERSIAN, LATIN) if lang == "fa" else (LATIN, PERSIAN)
    assert re.search(f"[{own}]", text), (lang, text)
    assert not re.search(f"[{other}]", text), (lang, text)


def _grab(pattern: str, html: str) -> str:
    found = re.search(pattern, html, re.S)
    assert found, pattern
    return found.group(1).strip()


@pytest.fixture
def twelve_waiting(hq, counter1, id_card, operator):
    """Twelve identity-card tickets (A001-A012) issued at 10:00, counter 1 open; the clock then
    moves on twelve minutes (the tickets have waited 12 min)."""
    with time_machine.travel(OPEN_TIME, tick=False) as traveller:
        for _ in range(12):
            issue(hq, id_card)
        services.counter_open(counter=counter1, operator=operator)
        traveller.shift(timedelta(minutes=12))
        yield


@pytest.mark.parametrize(("lang", "twelve", "one"), [("fa", "۱۲", "۱"), ("en", "12", "1")])
def test_console_queue_panel_counts_and_minutes_follow_the_language(
        counter1, operator, twelve_waiting, lang, twelve, one):
    client = logged_in(operator)
    page = client.get(reverse("queueing:counter", kwargs={"pk": counter1.pk}) + f"?lang={lang}").content.decode()
    # the live refresh (htmx, no ?lang=) keeps the language chosen on the page
    panel = client.get(reverse("queueing:counter_queue", kwargs={"pk": counter1.pk})).content.decode()
    assert panel.lstrip().startswith('<section id="queue-panel"')
    for html in (page, panel):
        assert f'<span class="queue-count" data-waiting="12">{twelve}</span>' in html
        row = _grab(r'<table class="queue-groups">.*?<tbody>(.*?)</tbody>', html)
        assert f'<td class="num">{twelve}</td><td class="num">{one}</td>' in row  # waiting, open counters
        _in_digits_of(lang, _grab(r"<bdi>(.*?)</bdi>", row))  # the estimate's minutes
        next_up = _grab(r'<ol class="next-up">(.*?)</ol>', html)
        assert re.search(r'<bdi dir="ltr" class="num">A001</bdi>', next_up)  # ticket numbers as printed
        waited = re.findall(r'<span class="muted">(.*?)</span>', next_up)
        assert waited and all(w.startswith(f"{twelve} ") for w in waited), waited
    assert re.search(r"<h1>[^<۰-۹]*\b1</h1>", page)  # the counter's number, as on its sign


@pytest.mark.parametrize(("lang", "twelve", "one"), [("fa", "۱۲", "۱"), ("en", "12", "1")])
def test_reception_overview_and_slip_follow_the_language(hq, twelve_waiting, lang, twelve, one):
    client = logged_in(make_staff("greeter", Role.GREETER, centres=[hq]))
    url = reverse("queueing:reception", kwargs={"centre": "hq"}) + f"?lang={lang}"
    page = client.get(url).content.decode()
    overview = client.get(reverse("queueing:reception_overview", kwargs={"centre": "hq"})).content.decode()
    for html in (page, overview):
        row = _grab(r'<tr data-group="idcard">(.*?)</tr>', html)
        assert f'<td class="num">{twelve}</td><td class="num">{one}</td>' in row
        _in_digits_of(lang, _grab(r"<bdi>(.*?)</bdi>", row))
    response = client.post(url, {"service": "id-card", "priority_group": "", "phone": "", "language": lang},
                           follow=True)
    html = response.content.decode()
    assert '<p class="slip-number"><bdi>A013</bdi></p>' in html
    wait = _grab(r'<p class="slip-wait">(.*?)</p>', html)
    assert wait.startswith(f"{twelve} ") and "<bdi>" in wait, wait  # 12 ahead, then the estimate
    _in_digits_of(lang, wait)
    assert re.search(r"<time>30\.11\.2026 10:12</time>", html)  # the time as printed, unchanged


@pytest.mark.parametrize(("lang", "twelve"), [("fa", "۱۲"), ("en", "12")])
def test_kiosk_tiles_slip_and_ticket_page_follow_the_language(hq, twelve_waiting, lang, twelve):
    client = Client()
    url = reverse("queueing:kiosk", kwargs={"centre": "hq"}) + f"?lang={lang}"
    groups = client.get(url).content.decode()
    meta = _grab(r'data-group="idcard">.*?<span class="kiosk-tile-meta">(.*?)</span></span>', groups)
    assert meta.startswith(f"{twelve} ") and "<bdi>" in meta, meta  # 12 waiting · the estimate
    _in_digits_of(lang, meta)
    response = client.post(url, {"service": "id-card", "priority_group": "", "phone": ""}, follow=True)
    ticket = Ticket.objects.get(number="A013")
    slip = response.content.decode()
    assert '<p class="slip-number"><bdi>A013</bdi></p>' in slip
    wait = _grab(r'<p class="slip-wait">(.*?)</p>', slip)
    assert wait.startswith(f"{twelve} ") and "<bdi>" in wait, wait
    _in_digits_of(lang, wait)
    assert re.search(r"<time>30\.11\.2026 10:12</time>", slip)
    # the phone page behind the slip's QR code
    page = client.get(reverse("queueing:ticket_page", kwargs={"token": ticket.token}) + f"?lang={lang}")
    html = page.content.decode()
    assert '<p class="ticket-number"><bdi dir="ltr">A013</bdi></p>' in html
    ahead = _grab(r'<p class="ticket-ahead" data-field="ahead">(.*?)</p>', html)
    assert re.search(rf"(?<![{PERSIAN}{LATIN}]){twelve}(?![{PERSIAN}{LATIN}])", ahead), ahead
    _in_digits_of(lang, ahead)
    _in_digits_of(lang, _grab(r'<p class="ticket-estimate" data-field="estimate">(.*?)</p>', html))
    # the state for ticket.js stays numeric: the script writes it in the page's digits
    assert '"number": "A013"' in html and '"position": 12' in html


def test_hall_screens_keep_latin_digits_in_az(settings):
    settings.ONESTOP_PACK = "az"
    pack_load(PACKS / "az")
    centre = Centre.objects.get(country__code="az", code="baku-1")
    counter = centre.counters.get(number=1)
    operator = make_staff("op-az", Role.OPERATOR, centres=[centre])
    operator.counter = counter
    operator.save()
    group = min(counter.group_links.select_related("group"), key=lambda link: link.priority).group
    service = group.services.filter(archived_at__isnull=True).order_by("position", "code").first()
    assert service is not None
    with time_machine.travel(OPEN_TIME, tick=False) as traveller:
        tickets = [issue(centre, service) for _ in range(13)]
        services.counter_open(counter=counter, operator=operator)
        traveller.shift(timedelta(minutes=12))
        staff = logged_in(operator)
        greeter = logged_in(make_staff("greeter-az", Role.GREETER, centres=[centre]))
        pages = {
            "kiosk": Client().get(reverse("queueing:kiosk", kwargs={"centre": centre.code}) + "?lang=az"),
            "console": staff.get(reverse("queueing:counter", kwargs={"pk": counter.pk}) + "?lang=az"),
            "reception": greeter.get(reverse("queueing:reception", kwargs={"centre": centre.code}) + "?lang=az"),
            "ticket": Client().get(reverse("queueing:ticket_page", kwargs={"token": tickets[-1].token}) + "?lang=az"),
        }
    for name, response in pages.items():
        html = response.content.decode()
        assert response.status_code == 200 and '<html lang="az" dir="ltr">' in html, name
        assert not re.search(f"[{PERSIAN}]", html), name
    assert 'data-waiting="13">13</span>' in pages["console"].content.decode()
    row = _grab(rf'<tr data-group="{group.code}">(.*?)</tr>', pages["reception"].content.decode())
    assert '<td class="num">13</td><td class="num">1</td>' in row
    _in_digits_of("az", _grab(r"<bdi>(.*?)</bdi>", row))
    tile = _grab(rf'data-group="{group.code}">.*?<span class="kiosk-tile-meta">(.*?)</span></span>',
                 pages["kiosk"].content.decode())
    assert tile.startswith("13 ") and "<bdi>" in tile, tile
    ahead = _grab(r'<p class="ticket-ahead" data-field="ahead">(.*?)</p>', pages["ticket"].content.decode())
    assert re.search(r"(?<!\d)12(?!\d)", ahead), ahead  # "Sizdən əvvəl: 12 nəfər"
