"""An SMS gateway reached over HTTP(S): one JSON POST per message.

Settings (read on every send):

``ONESTOP_SMS_HTTP_URL``
    The gateway endpoint, ``http://`` or ``https://``. Required.
``ONESTOP_SMS_HTTP_TOKEN``
    Sent as ``Authorization: Bearer <token>`` when set.
``ONESTOP_SMS_HTTP_TIMEOUT``
    Seconds to wait for the gateway (default 10).

The body is ``{"to": "+994...", "text": "..."}``. A 2xx answer is success; the message id
is taken from a JSON body's ``id`` or ``message_id``, else from an ``X-Message-Id`` header,
else the status line is recorded. 5xx, 408, 429, timeouts and network errors are
retryable; every other 4xx (and a 3xx) is permanent.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from django.conf import settings

from ..base import ProviderError, SmsProvider
from ..registry import register

RETRYABLE_STATUS = {408, 425, 429}


def _message_id(body: bytes, headers: Any, status: int) -> str:
    try:
        data = json.loads(body.decode("utf-8")) if body else None
    except (UnicodeDecodeError, ValueError):
        data = None
    if isinstance(data, dict):
        for key in ("id", "message_id", "messageId"):
            if data.get(key) not in (None, ""):
                return str(data[key])[:200]
    header = headers.get("X-Message-Id") if headers is not None else None
    return str(header)[:200] if header else f"http:{status}"


@register
class HttpSmsProvider(SmsProvider):
    name = "http"

    def send(self, to: str, text: str) -> str:
        url = str(getattr(settings, "ONESTOP_SMS_HTTP_URL", "") or "")
        if not url.lower().startswith(("http://", "https://")):
            # A configuration mistake: keep the message pending so it goes out once fixed.
            raise ProviderError("ONESTOP_SMS_HTTP_URL must be an http(s) URL", retryable=True)
        token = str(getattr(settings, "ONESTOP_SMS_HTTP_TOKEN", "") or "")
        timeout = float(getattr(settings, "ONESTOP_SMS_HTTP_TIMEOUT", 10))
        headers = {"Content-Type": "application/json; charset=utf-8", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        body = json.dumps({"to": to, "text": text}, ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                status = response.status
                payload = response.read(65536)
                if not 200 <= status < 300:
                    raise ProviderError(f"gateway answered HTTP {status}", retryable=False)
                return _message_id(payload, response.headers, status)
        except urllib.error.HTTPError as exc:
            retryable = exc.code >= 500 or exc.code in RETRYABLE_STATUS
            detail = _error_detail(exc)
            raise ProviderError(f"gateway answered HTTP {exc.code}{detail}", retryable=retryable) from exc
        except TimeoutError as exc:
            raise ProviderError(f"gateway timed out after {timeout:g}s", retryable=True) from exc
        except urllib.error.URLError as exc:
            raise ProviderError(f"gateway unreachable: {exc.reason}", retryable=True) from exc
        except (ConnectionError, OSError) as exc:
            raise ProviderError(f"gateway connection failed: {exc}", retryable=True) from exc


def _error_detail(exc: urllib.error.HTTPError) -> str:
    try:
        text = exc.read(500).decode("utf-8", "replace").strip()
    except OSError:
        return ""
    return f": {text}" if text else ""
