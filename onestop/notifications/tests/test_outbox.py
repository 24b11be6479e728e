"""The transactional outbox against a real database: commit, rollback, dedupe, retry, races."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connections, transaction

from onestop.core.sweeps import get_sweep
from onestop.notifications import services
from onestop.notifications.base import ProviderError, SmsProvider
from onestop.notifications.contrib.file import FileSmsProvider
from onestop.notifications.models import OutboxMessage, Status
from onestop.notifications.registry import register, unregister
from onestop.notifications.services import message_enqueue, message_retry, outbox_deliver

from .conftest import read_lines

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = "+994501234567"


def _sms(outbox):
    return read_lines(outbox / "sms.jsonl")


def _pending(n: int = 1) -> list[int]:
    """Committed pending rows whose after-commit delivery never ran (a crash, a lost task)."""
    return [OutboxMessage.objects.create(channel="sms", to=PHONE, text=f"message {i}").pk for i in range(n)]


@pytest.fixture
def provider(settings):
    """Register a test SMS provider; ``provider.script`` says what each call does."""

    class ScriptedSms(SmsProvider):
        name = "test-scripted"
        calls: list[str] = []
        script: list[str] = []  # "retry", "permanent", "crash"; when empty: succeed

        def send(self, to: str, text: str) -> str:
            cls = type(self)
            cls.calls.append(text)
            step = cls.script.pop(0) if cls.script else "ok"
            if step == "retry":
                raise ProviderError("gateway busy", retryable=True)
            if step == "permanent":
                raise ProviderError("number refused", retryable=False)
            if step == "crash":
                raise RuntimeError("provider bug")
            return f"test-{len(cls.calls)}"

    register(ScriptedSms)
    settings.ONESTOP_SMS_PROVIDER = ScriptedSms.name
    yield ScriptedSms
    unregister(ScriptedSms)


def test_rolled_back_transaction_sends_nothing(outbox):
    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        message_enqueue(channel="sms", to=PHONE, text="never")
        raise Boom
    assert OutboxMessage.objects.count() == 0
    assert _sms(outbox) == []
    assert get_sweep("notifications.retry").func() == 0
    assert _sms(outbox) == []


def test_commit_sends_exactly_one_json_line(outbox):
    with transaction.atomic():
        message = message_enqueue(channel="sms", to=PHONE, text="Ticket A012: hello", language="en",
                                  template="ticket_called")
        assert _sms(outbox) == []  # nothing leaves before the commit
    lines = _sms(outbox)
    assert len(lines) == 1
    assert set(lines[0]) == {"to", "text", "created_at"}
    assert lines[0]["to"] == PHONE and lines[0]["text"] == "Ticket A012: hello"
    created = datetime.fromisoformat(lines[0]["created_at"])
    assert created.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - created) < timedelta(minutes=1)
    message.refresh_from_db()
    assert message.status == Status.SENT and message.attempts == 1
    assert message.sent_at is not None and message.provider_id == "file:sms.jsonl:0"
    assert get_sweep("notifications.retry").func() == 0
    assert len(_sms(outbox)) == 1


def test_email_goes_to_its_own_file(outbox):
    with transaction.atomic():
        message_enqueue(channel="email", to="citizen@example.org", subject="Booked", text="See you")
    (line,) = read_lines(outbox / "email.jsonl")
    assert {k: line[k] for k in ("to", "subject", "text")} == {
        "to": "citizen@example.org", "subject": "Booked", "text": "See you"}
    assert "created_at" in line
    assert _sms(outbox) == []


def test_non_ascii_text_is_kept_readable(outbox):
    with transaction.atomic():
        message_enqueue(channel="sms", to=PHONE, text="Növbəniz: A012 — د نوبت شمېره")
    assert "Növbəniz" in (outbox / "sms.jsonl").read_text(encoding="utf-8")
    assert _sms(outbox)[0]["text"] == "Növbəniz: A012 — د نوبت شمېره"


def test_dedupe_key_gives_one_message(outbox):
    with transaction.atomic():
        first = message_enqueue(channel="sms", to=PHONE, text="reminder", dedupe_key="booking:7:reminder")
        again = message_enqueue(channel="sms", to=PHONE, text="reminder", dedupe_key="booking:7:reminder")
    with transaction.atomic():
        later = message_enqueue(channel="sms", to=PHONE, text="reminder", dedupe_key="booking:7:reminder")
    assert first.pk == again.pk == later.pk
    assert OutboxMessage.objects.count() == 1
    assert len(_sms(outbox)) == 1


def test_concurrent_enqueue_with_one_dedupe_key_queues_one_message(outbox):
    barrier = threading.Barrier(4)
    ids: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            with transaction.atomic():
                ids.append(message_enqueue(channel="sms", to=PHONE, text="once", dedupe_key="otp:42").pk)
                time.sleep(0.05)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(ids)) == 1 and len(ids) == 4
    assert OutboxMessage.objects.count() == 1
    assert len(_sms(outbox)) == 1


def test_enqueue_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError, match="inside the transaction"):
        message_enqueue(channel="sms", to=PHONE, text="x")


@pytest.mark.parametrize(("channel", "to", "text"), [
    ("sms", "050 123 45 67", "x"),
    ("email", "not-an-address", "x"),
    ("fax", PHONE, "x"),
    ("sms", PHONE, "  "),
])
def test_bad_messages_are_refused(channel, to, text):
    with pytest.raises(ValueError), transaction.atomic():
        message_enqueue(channel=channel, to=to, text=text)
    assert OutboxMessage.objects.count() == 0


def test_retryable_errors_back_off_exponentially_then_fail(outbox, provider):
    provider.script[:] = ["retry"] * 10
    start = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        with transaction.atomic():
            message = message_enqueue(channel="sms", to=PHONE, text="hello")
        expected_delays = [30, 60, 120, 240, 480]
        for attempt, delay in enumerate(expected_delays, start=1):
            message.refresh_from_db()
            assert (message.status, message.attempts) == (Status.PENDING, attempt)
            now = datetime.now(UTC)
            assert message.next_attempt_at == now + timedelta(seconds=delay)
            assert message.last_error == "gateway busy"
            # Not due yet: neither the sweep nor a direct delivery touches it.
            clock.shift(delay - 1)
            assert get_sweep("notifications.retry").func() == 0
            assert outbox_deliver(message.pk) is False
            clock.shift(1)
            assert get_sweep("notifications.retry").func() == 1
        message.refresh_from_db()
        assert (message.status, message.attempts) == (Status.FAILED, 6)
        assert len(provider.calls) == 6
        clock.shift(timedelta(days=1))
        assert get_sweep("notifications.retry").func() == 0
        assert len(provider.calls) == 6


def test_max_attempts_comes_from_settings(provider, settings):
    settings.ONESTOP_NOTIFICATIONS_MAX_ATTEMPTS = 2
    provider.script[:] = ["retry"] * 5
    with time_machine.travel(datetime(2030, 1, 1, tzinfo=UTC), tick=False) as clock:
        with transaction.atomic():
            message = message_enqueue(channel="sms", to=PHONE, text="hello")
        clock.shift(30)
        get_sweep("notifications.retry").func()
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.FAILED, 2)


def test_permanent_error_fails_at_once(provider):
    provider.script[:] = ["permanent"]
    with transaction.atomic():
        message = message_enqueue(channel="sms", to=PHONE, text="hello")
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (Status.FAILED, 1, "number refused")


def test_unexpected_provider_exception_is_retried_not_raised(provider):
    provider.script[:] = ["crash"]
    with transaction.atomic():
        message = message_enqueue(channel="sms", to=PHONE, text="hello")
    message.refresh_from_db()
    assert message.status == Status.PENDING and "provider bug" in message.last_error
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=31)):
        assert outbox_deliver(message.pk) is True
    message.refresh_from_db()
    assert message.status == Status.SENT and message.attempts == 2


def test_retry_now_gives_a_failed_message_one_more_attempt(provider):
    provider.script[:] = ["permanent", "permanent"]
    with transaction.atomic():
        message = message_enqueue(channel="sms", to=PHONE, text="hello")
    assert message_retry([message.pk]) == 1  # fails again: still failed, attempts 2
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.FAILED, 2)
    assert message_retry([message.pk]) == 1  # the gateway is fixed now
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.SENT, 3)
    assert message_retry([message.pk]) == 0  # a sent message is never sent again
    assert len(provider.calls) == 3


def test_sweep_is_idempotent(outbox):
    _pending(3)
    sweep = get_sweep("notifications.retry")
    assert sweep.every_seconds == 30
    assert sweep.func() == 3
    assert sweep.func() == 0
    assert len(_sms(outbox)) == 3
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {Status.SENT}


def test_scheduler_runs_the_sweep(outbox):
    from django.core.management import call_command

    _pending(1)
    call_command("scheduler", "--once")
    call_command("scheduler", "--once")
    assert len(_sms(outbox)) == 1


def test_sent_message_is_never_sent_again(outbox):
    (pk,) = _pending(1)
    assert outbox_deliver(pk) is True
    OutboxMessage.objects.filter(pk=pk).update(next_attempt_at=datetime(2000, 1, 1, tzinfo=UTC))
    assert outbox_deliver(pk) is False
    assert get_sweep("notifications.retry").func() == 0
    assert len(_sms(outbox)) == 1


def test_claimed_message_is_left_to_its_sender(outbox):
    (pk,) = _pending(1)
    OutboxMessage.objects.filter(pk=pk).update(claimed_until=datetime.now(UTC) + timedelta(minutes=5))
    assert outbox_deliver(pk) is False
    assert get_sweep("notifications.retry").func() == 0
    # A worker that died mid-send: once its claim expires the message goes out.
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=6)):
        assert get_sweep("notifications.retry").func() == 1
    assert len(_sms(outbox)) == 1


class SlowFileSms(FileSmsProvider):
    """The file provider, slowed so that racing workers overlap with the send."""

    name = "test-slow-file"

    def send(self, to: str, text: str) -> str:
        time.sleep(0.2)
        return super().send(to, text)


def test_concurrent_delivery_sends_exactly_once(outbox, settings):
    register(SlowFileSms)
    settings.ONESTOP_SMS_PROVIDER = SlowFileSms.name
    try:
        ids = _pending(3)
        barrier = threading.Barrier(4)
        results: list[tuple[int, bool]] = []
        errors: list[BaseException] = []

        def worker() -> None:
            try:
                barrier.wait()
                for pk in ids:
                    results.append((pk, outbox_deliver(pk)))
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        unregister(SlowFileSms)
    assert errors == []
    assert len(results) == 12
    for pk in ids:
        assert sum(sent for mid, sent in results if mid == pk) == 1
    lines = _sms(outbox)
    assert sorted(line["text"] for line in lines) == ["message 0", "message 1", "message 2"]
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {(Status.SENT, 1)}


def test_concurrent_sweeps_send_each_message_once(outbox):
    _pending(20)
    sweep = get_sweep("notifications.retry")
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            sweep.func()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    texts = [line["text"] for line in _sms(outbox)]
    assert sorted(texts) == sorted(f"message {i}" for i in range(20))


def test_beyond_one_machine_messages_committed_together_go_as_one_task(outbox, settings):
    """Through Celery (its memory broker here): the messages one process commits within the
    hand-off window are published as one task, which sends each once."""
    from celery.signals import after_task_publish

    from config.celery import app
    from onestop.notifications.tasks import deliver, deliver_many

    assert app.tasks["onestop.notifications.deliver_many"].name == deliver_many.name
    assert app.tasks["onestop.notifications.deliver"].name == deliver.name  # tasks queued by earlier versions
    published: list[tuple[str, object]] = []

    def record(sender=None, body=None, **kwargs):
        published.append((sender, body))

    after_task_publish.connect(record, weak=False)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        with transaction.atomic():
            messages = [message_enqueue(channel="sms", to=PHONE, text=f"via celery {i}") for i in range(3)]
        deadline = time.monotonic() + 10
        while not published and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(3 * services.HANDOFF_SECONDS)  # nothing else follows
    finally:
        app.conf.task_always_eager = eager
        after_task_publish.disconnect(record)
    ids = [m.pk for m in messages]
    assert [(sender, list(body[0])) for sender, body in published] == [("onestop.notifications.deliver_many", [ids])]
    assert {m.status for m in OutboxMessage.objects.filter(pk__in=ids)} == {Status.PENDING}  # no worker here
    assert deliver_many.apply(args=(ids,)).get() == 3
    assert deliver_many.apply(args=(ids,)).get() == 0  # a duplicate delivery sends nothing
    assert deliver.apply(args=(ids[0],)).get() is False
    assert sorted(line["text"] for line in _sms(outbox)) == [f"via celery {i}" for i in range(3)]
