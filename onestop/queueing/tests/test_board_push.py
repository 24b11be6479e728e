"""Board snapshots across server processes: one per centre and second, and no change lost.

Two processes are played by one: the module's own coalescing state is what a process
keeps, so clearing it between the two is what a second process would see. The shared
cache is a real Redis (CI starts one); without one the test is skipped.
"""

from __future__ import annotations

import time

import pytest

from onestop.catalogue.models import Service
from onestop.queueing import events
from onestop.queueing import services as q

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shared_cache(redis_cache):
    events._cache_is_shared.cache_clear()
    yield redis_cache
    events._cache_is_shared.cache_clear()


@pytest.fixture
def sent(monkeypatch):
    messages: list[tuple[int, dict]] = []
    monkeypatch.setattr(events, "_send", lambda centre_id, message: messages.append((centre_id, message)))
    yield messages
    for timer in list(events._pending.values()):
        timer.cancel()
    events._pending.clear()
    events._last_push.clear()


def _waiting(message: dict, group_code: str) -> int:
    return next(g["waiting"] for g in message["snapshot"]["groups"] if g["group"] == group_code)


def test_a_second_process_skips_the_window_then_pushes_what_changed(loaded_mini, shared_cache, sent):
    hq = loaded_mini.centres.get(code="hq")
    service = Service.objects.select_related("group").get(code="id-card")
    events._last_push.clear()

    events.push_coalesced(hq.pk)  # process A: claims this second, pushes
    assert len(sent) == 1
    before = _waiting(sent[0][1], service.group.code)

    q.ticket_issue(centre=hq, service=service, source="kiosk")  # a change in process B
    events._last_push.clear()  # process B has pushed nothing yet
    events.push_coalesced(hq.pk)
    assert len(sent) == 1, "B must not push inside A's second"
    assert hq.pk in events._pending, "B must try again after A's second"

    deadline = time.monotonic() + 5
    while len(sent) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(sent) == 2
    assert _waiting(sent[1][1], service.group.code) == before + 1


def test_without_a_shared_cache_every_process_pushes(loaded_mini, sent, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    events._cache_is_shared.cache_clear()
    hq = loaded_mini.centres.get(code="hq")
    events._last_push.clear()
    events.push_coalesced(hq.pk)
    events._last_push.clear()
    events.push_coalesced(hq.pk)
    assert len(sent) == 2
