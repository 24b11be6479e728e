"""Side effects of queue transitions, run only after the transaction commits.

Board pushes go through the Channels layer (in-process by default, Redis beyond one
machine) to the group ``board.<centre id>``; every board, counter console and ticket
page of the centre listens there, so nothing polls. Calls are pushed at once; plain
queue-length changes are coalesced to at most one push per second per centre (with a
trailing push so the last state always arrives). SMS go through the notifications
outbox.

Beyond one process (a shared cache such as Redis), the processes also share that second:
the one that claims a centre's window (``cache.add``) computes and sends the snapshot,
the others skip it. A process that finds the window taken tries once more just after it
ends; if that window is taken too, its holder claimed it after this process's change and
its snapshot includes it. So every change still reaches the boards, within about two
seconds, and a centre costs one snapshot per second however many processes serve it.
"""

from __future__ import annotations

import functools
import logging
import random
import threading
import time
from datetime import datetime
from typing import cast

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.db import close_old_connections, transaction

log = logging.getLogger(__name__)
COALESCE_SECONDS = 1.0
_last_push: dict[int, float] = {}
_pending: dict[int, threading.Timer] = {}
_lock = threading.Lock()


def board_group(centre_id: int) -> str:
    return f"board.{centre_id}"


def _send(centre_id: int, message: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(board_group(centre_id), message)
    except Exception:  # a push must never break the request that caused it
        log.exception("board push failed for centre %s", centre_id)


def push_snapshot(centre_id: int, call: dict | None = None) -> None:
    from onestop.centres.models import Centre

    from .selectors import board_snapshot

    centre = Centre.objects.select_related("country").get(pk=centre_id)
    snapshot = board_snapshot(centre)
    with _lock:
        _last_push[centre_id] = time.monotonic()
    _send(centre_id, {"type": "board.update", "snapshot": snapshot, "call": call})


@functools.cache
def _cache_is_shared() -> bool:
    backend = settings.CACHES["default"]["BACKEND"]
    return not backend.endswith(("LocMemCache", "DummyCache"))


def _claim(centre_id: int) -> bool:
    """This process may push the centre's snapshot now (always, without a shared cache)."""
    if not _cache_is_shared():
        return True
    try:
        return bool(cache.add(f"onestop:board-push:{centre_id}", 1, timeout=int(COALESCE_SECONDS)))
    except Exception:  # a cache failure must not cost a push
        log.exception("board push window: the shared cache failed; pushing anyway")
        return True


def _schedule(centre_id: int, delay: float, attempt: int) -> None:
    with _lock:
        if centre_id not in _pending:
            timer = threading.Timer(delay, _trailing, args=(centre_id, attempt))
            timer.daemon = True
            _pending[centre_id] = timer
            timer.start()


def _attempt(centre_id: int, attempt: int) -> None:
    if _claim(centre_id):
        push_snapshot(centre_id)
    elif attempt == 0:
        # Another process holds this second; try again just after it (see the module's text).
        _schedule(centre_id, COALESCE_SECONDS + random.uniform(0.02, 0.1), 1)


def _trailing(centre_id: int, attempt: int = 0) -> None:
    with _lock:
        _pending.pop(centre_id, None)
    close_old_connections()
    try:
        _attempt(centre_id, attempt)
    finally:
        close_old_connections()


def push_coalesced(centre_id: int) -> None:
    with _lock:
        since = time.monotonic() - _last_push.get(centre_id, 0.0)
        leading = since >= COALESCE_SECONDS
        if leading:
            _last_push[centre_id] = time.monotonic()
    if leading:
        _attempt(centre_id, 0)
    else:
        _schedule(centre_id, COALESCE_SECONDS - since, 0)


def after_commit_queue_changed(centre) -> None:
    centre_id = centre.pk
    transaction.on_commit(lambda: push_coalesced(centre_id))


def after_commit_ticket_issued(ticket) -> None:
    centre_id, ticket_id = ticket.centre_id, ticket.pk
    if ticket.phone:
        _enqueue_sms(ticket, "ticket_issued")
    transaction.on_commit(lambda: push_coalesced(centre_id))
    del ticket_id


def push_call(centre_id: int, call: dict) -> None:
    """A call is announced at once with the last calls; queue figures follow coalesced."""
    from .models import Status, Ticket

    calls = (Ticket.objects.filter(centre_id=centre_id, status__in=[Status.CALLED, Status.SERVING, Status.DONE],
                                   called_at__isnull=False)
             .select_related("counter").order_by("-called_at", "-pk")[:8])
    _send(centre_id, {"type": "board.call", "call": call, "calls": [
        {"id": t.pk, "number": t.number, "counter": t.counter.number if t.counter else None, "status": t.status,
         # called_at__isnull=False above: every call has its time
         "called_at": cast(datetime, t.called_at).isoformat(), "recalls": t.recalls} for t in calls]})
    push_coalesced(centre_id)


def after_commit_ticket_called(ticket) -> None:
    call = {"id": ticket.pk, "number": ticket.number, "counter": ticket.counter.number if ticket.counter else None,
            "zone": ticket.counter.zone if ticket.counter else "", "recalls": ticket.recalls}
    if ticket.phone:
        _enqueue_sms(ticket, "ticket_called")
    _notify_ahead(ticket)
    centre_id = ticket.centre_id
    transaction.on_commit(lambda: push_call(centre_id, call))


def after_commit_ticket_finished(ticket) -> None:
    after_commit_queue_changed(ticket.centre)


def public_url(path: str) -> str:
    """An absolute link for SMS: ``ONESTOP_PUBLIC_URL`` (the hall's public address) + path."""
    from django.conf import settings

    base = (getattr(settings, "ONESTOP_PUBLIC_URL", "") or "http://127.0.0.1:8000").rstrip("/")
    return f"{base}{path}"


def _enqueue_sms(ticket, template: str, **extra) -> None:
    """Write the SMS to the outbox in the same transaction; it is sent after commit."""
    try:
        from onestop.notifications.services import message_enqueue
        from onestop.notifications.templates import render_message
    except ImportError:  # notifications app not installed
        return
    from django.urls import reverse

    from onestop.core.models import translate

    params = {
        "number": ticket.number,
        "centre": translate(ticket.centre.name, ticket.language),
        "counter": ticket.counter.number if ticket.counter_id else "",
        "minutes": int(round(ticket.estimate_mean or 0)),
        "url": public_url(reverse("queueing:ticket_page", kwargs={"token": ticket.token})),
        **extra,
    }
    text = render_message(template, ticket.language, **params)
    message_enqueue(channel="sms", to=ticket.phone, text=text, template=template, language=ticket.language,
                    dedupe_key=f"{template}:{ticket.pk}:{ticket.recalls}:{extra.get('ahead', '')}")


def _notify_ahead(called) -> None:
    """SMS "N citizens ahead of you" to the ticket that has just reached position N."""
    from .models import Status, Ticket

    rules = (called.centre.country.rules or {}).get("queue", {})
    n = int(rules.get("notify_ahead", 0) or 0)
    if n <= 0:
        return
    waiting = list(Ticket.objects.filter(centre_id=called.centre_id, group_id=called.group_id,
                                         status=Status.WAITING).order_by("fairness_at", "pk")
                   .values_list("pk", "phone", "notified_ahead")[: n + 1])
    if len(waiting) <= n:
        return
    pk, phone, notified = waiting[n]
    if phone and not notified:
        ticket = Ticket.objects.select_related("centre", "counter").get(pk=pk)
        Ticket.objects.filter(pk=pk).update(notified_ahead=True)
        _enqueue_sms(ticket, "ticket_ahead", ahead=n)
