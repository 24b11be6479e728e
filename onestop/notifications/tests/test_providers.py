"""Providers: the registry, the file provider's locking and the HTTP gateway's error mapping."""

from __future__ import annotations

import json
import multiprocessing
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ImproperlyConfigured

from onestop.notifications.base import ProviderError, SmsProvider
from onestop.notifications.contrib.file import FileEmailProvider, FileSmsProvider, append_line
from onestop.notifications.contrib.http import HttpSmsProvider
from onestop.notifications.registry import (
    email_provider_names,
    get_email_provider,
    get_sms_provider,
    register,
    sms_provider_names,
    unregister,
)

from .conftest import read_lines


def test_defaults_are_the_file_providers():
    assert isinstance(get_sms_provider(), FileSmsProvider)
    assert isinstance(get_email_provider(), FileEmailProvider)
    assert {"file", "http"} <= set(sms_provider_names())
    assert {"file", "django"} <= set(email_provider_names())


def test_unknown_provider_is_a_configuration_error(settings):
    settings.ONESTOP_SMS_PROVIDER = "carrier-pigeon"
    with pytest.raises(ImproperlyConfigured, match="carrier-pigeon"):
        get_sms_provider()


def test_register_checks_its_argument(settings):
    class Nameless(SmsProvider):
        def send(self, to: str, text: str) -> str:
            return "x"

    with pytest.raises(TypeError):
        register(Nameless)  # type: ignore[arg-type]

    class Custom(SmsProvider):
        name = "test-custom"

        def send(self, to: str, text: str) -> str:
            return "custom-1"

    register(Custom)
    settings.ONESTOP_SMS_PROVIDER = "test-custom"
    try:
        assert get_sms_provider().send("+994501234567", "x") == "custom-1"
    finally:
        unregister(Custom)
    assert "test-custom" not in sms_provider_names()


def test_outbox_dir_is_read_at_call_time(settings, tmp_path):
    settings.ONESTOP_OUTBOX_DIR = tmp_path / "a"
    FileSmsProvider().send("+1", "one")
    settings.ONESTOP_OUTBOX_DIR = tmp_path / "b" / "deeper"
    FileSmsProvider().send("+1", "two")
    assert [r["text"] for r in read_lines(tmp_path / "a" / "sms.jsonl")] == ["one"]
    assert [r["text"] for r in read_lines(tmp_path / "b" / "deeper" / "sms.jsonl")] == ["two"]


def test_outbox_dir_defaults_to_var_dir(settings, tmp_path):
    del settings.ONESTOP_OUTBOX_DIR
    settings.VAR_DIR = tmp_path
    FileSmsProvider().send("+1", "x")
    assert len(read_lines(tmp_path / "outbox" / "sms.jsonl")) == 1


def test_unwritable_outbox_is_a_retryable_error(settings, tmp_path):
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("")
    settings.ONESTOP_OUTBOX_DIR = blocker / "outbox"
    with pytest.raises(ProviderError) as info:
        FileSmsProvider().send("+1", "x")
    assert info.value.retryable


def _append_many(folder: str, tag: str, count: int) -> None:
    from django.conf import settings as dj_settings

    dj_settings.ONESTOP_OUTBOX_DIR = folder  # a forked child: Django is set up already
    text = tag * 5000  # long lines: unlocked appends of this size could interleave
    for i in range(count):
        append_line("sms.jsonl", {"to": "+1", "text": f"{i}:{text}"})


def test_processes_appending_at_once_keep_lines_whole(outbox):
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_append_many, args=(str(outbox), tag, 50)) for tag in "abcd"]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    lines = read_lines(outbox / "sms.jsonl")
    assert len(lines) == 200
    for line in lines:
        body = line["text"].split(":", 1)[1]
        assert len(body) == 5000 and len(set(body)) == 1


# --- the HTTP gateway ---------------------------------------------------------------------


class Gateway:
    """A local HTTP server standing in for an SMS gateway."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.answer: tuple[int, bytes, dict[str, str]] = (200, b'{"id": "gw-1"}', {})
        self.delay = 0.0
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", "0"))
                gateway.requests.append({
                    "path": self.path, "body": json.loads(self.rfile.read(length)),
                    "auth": self.headers.get("Authorization"), "type": self.headers.get("Content-Type"),
                })
                time.sleep(gateway.delay)
                status, body, headers = gateway.answer
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/send"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway(settings):
    gw = Gateway()
    settings.ONESTOP_SMS_HTTP_URL = gw.url
    settings.ONESTOP_SMS_HTTP_TOKEN = "secret-token"
    settings.ONESTOP_SMS_HTTP_TIMEOUT = 2
    settings.ONESTOP_SMS_PROVIDER = "http"
    yield gw
    gw.close()


def test_http_gateway_posts_json_with_the_token(gateway):
    assert get_sms_provider().send("+994501234567", "Növbə A012") == "gw-1"
    (request,) = gateway.requests
    assert request["body"] == {"to": "+994501234567", "text": "Növbə A012"}
    assert request["auth"] == "Bearer secret-token"
    assert request["type"].startswith("application/json")


def test_http_message_id_from_header_or_status(gateway):
    gateway.answer = (202, b"queued", {"X-Message-Id": "hdr-9"})
    assert HttpSmsProvider().send("+1", "x") == "hdr-9"
    gateway.answer = (200, b"", {})
    assert HttpSmsProvider().send("+1", "x") == "http:200"


@pytest.mark.parametrize(("status", "retryable"), [
    (500, True), (502, True), (503, True), (429, True), (408, True),
    (400, False), (401, False), (403, False), (404, False), (422, False),
])
def test_http_errors_map_to_retryable_or_permanent(gateway, status, retryable):
    gateway.answer = (status, b'{"error": "nope"}', {})
    with pytest.raises(ProviderError) as info:
        HttpSmsProvider().send("+1", "x")
    assert info.value.retryable is retryable
    assert str(status) in str(info.value)


def test_http_timeout_is_retryable(gateway, settings):
    settings.ONESTOP_SMS_HTTP_TIMEOUT = 0.2
    gateway.delay = 1.0
    with pytest.raises(ProviderError, match="timed out") as info:
        HttpSmsProvider().send("+1", "x")
    assert info.value.retryable


def test_http_unreachable_or_unconfigured_is_retryable(settings):
    gw = Gateway()
    url = gw.url
    gw.close()  # nothing listens there any more
    settings.ONESTOP_SMS_HTTP_URL = url
    with pytest.raises(ProviderError) as info:
        HttpSmsProvider().send("+1", "x")
    assert info.value.retryable
    for bad in ("", "file:///etc/passwd", "ftp://example.org/"):
        settings.ONESTOP_SMS_HTTP_URL = bad
        with pytest.raises(ProviderError, match="http"):
            HttpSmsProvider().send("+1", "x")
