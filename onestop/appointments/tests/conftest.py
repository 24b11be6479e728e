"""Fixtures for the booking tests: a frozen clock at the Testland pack's centres, known codes."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

BAKU = ZoneInfo("Asia/Baku")
#: Monday 8 June 2026, 07:00 in Baku: hq opens at 09:00; Monday 15 June is a public holiday.
MONDAY = datetime(2026, 6, 8, 7, 0, tzinfo=BAKU)


def baku(year: int, month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=BAKU)


@pytest.fixture(autouse=True)
def _fresh_caches():
    from django.core.cache import cache

    from onestop.appointments.selectors import clear_input_cache

    cache.clear()
    clear_input_cache()
    yield
    cache.clear()
    clear_input_cache()


@pytest.fixture
def outbox(settings, tmp_path) -> Path:
    settings.ONESTOP_OUTBOX_DIR = tmp_path / "outbox"
    return tmp_path / "outbox"


def sms_lines(folder: Path) -> list[dict]:
    path = folder / "sms.jsonl"
    if not path.exists():
        return []
    return [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


@pytest.fixture
def idcard(loaded_mini):
    """The Testland pack's ID-card service, with its group (test_slots.py means the group)."""
    from onestop.catalogue.models import Service

    return Service.objects.select_related("group").get(country=loaded_mini, code="id-card")


@pytest.fixture
def frozen():
    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


def known_code(phone: str, code: str = "123456", purpose: str = "booking") -> str:
    """A fresh one-time code with a known value for ``phone`` (the SMS step done beforehand)."""
    from onestop.accounts.models import PhoneCode
    from onestop.accounts.otp import _digest
    from onestop.core import clock

    now = clock.now()
    PhoneCode.objects.filter(phone=phone, purpose=purpose, used_at__isnull=True).update(used_at=now)
    PhoneCode.objects.create(
        phone=phone,
        purpose=purpose,
        code_hash=_digest(phone, purpose, code),
        created_at=now,
        expires_at=now + timedelta(minutes=5),
    )
    return code


def national_ids(country, count: int, seed: int = 7) -> list[str]:
    from onestop.packs.national_id import NationalIdFormat

    return NationalIdFormat.from_pack(country.national_id).samples(count, seed=seed)


def phone(index: int) -> str:
    return f"+99450{1000000 + index:07d}"
