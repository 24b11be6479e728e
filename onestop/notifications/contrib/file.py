"""The embedded provider: messages become JSON lines in files, nothing leaves the machine.

Each SMS is appended to ``<ONESTOP_OUTBOX_DIR>/sms.jsonl`` as
``{"to": ..., "text": ..., "created_at": ...}`` and each e-mail to ``email.jsonl`` as
``{"to": ..., "subject": ..., "text": ..., "created_at": ...}``; ``created_at`` is ISO-8601
in UTC. ``ONESTOP_OUTBOX_DIR`` defaults to ``<VAR_DIR>/outbox`` and is read on every send.
An exclusive ``flock`` around each append keeps lines whole when several processes
(web workers, the scheduler) write at once. The returned message id names the file and
the byte offset where the line starts.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Any

from django.conf import settings

from onestop.core import clock

from ..base import EmailProvider, ProviderError, SmsProvider
from ..registry import register


def outbox_dir() -> Path:
    configured = getattr(settings, "ONESTOP_OUTBOX_DIR", None)
    return Path(configured) if configured else Path(settings.VAR_DIR) / "outbox"


def append_line(filename: str, record: dict[str, Any]) -> str:
    """Append ``record`` as one JSON line to ``filename`` in the outbox folder; return its id."""
    record = {**record, "created_at": clock.now().isoformat()}
    line = (json.dumps(record, ensure_ascii=False, separators=(", ", ": ")) + "\n").encode("utf-8")
    folder = outbox_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / filename, "ab") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                offset = handle.seek(0, os.SEEK_END)
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    except OSError as exc:
        raise ProviderError(f"cannot write {folder / filename}: {exc}", retryable=True) from exc
    return f"file:{filename}:{offset}"


@register
class FileSmsProvider(SmsProvider):
    name = "file"

    def send(self, to: str, text: str) -> str:
        return append_line("sms.jsonl", {"to": to, "text": text})


@register
class FileEmailProvider(EmailProvider):
    name = "file"

    def send(self, to: str, subject: str, text: str) -> str:
        return append_line("email.jsonl", {"to": to, "subject": subject, "text": text})
