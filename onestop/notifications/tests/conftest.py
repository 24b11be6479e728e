"""Every notifications test writes its outbox files under its own tmp_path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def outbox(settings, tmp_path) -> Path:
    settings.ONESTOP_OUTBOX_DIR = tmp_path / "outbox"
    settings.ONESTOP_SMS_PROVIDER = "file"
    settings.ONESTOP_EMAIL_PROVIDER = "file"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.ONESTOP_NOTIFICATIONS_MAX_ATTEMPTS = 6
    settings.ONESTOP_NOTIFICATIONS_RETRY_SECONDS = 30
    return tmp_path / "outbox"


def read_lines(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
