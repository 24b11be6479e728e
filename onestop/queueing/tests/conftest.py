"""The mini pack's hall as most queue tests use it."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from conftest import make_staff
from onestop.accounts.models import Role
from onestop.catalogue.models import Service
from onestop.centres.models import Counter

# Monday 30 November 2026, 10:00 in Baku (the mini pack's zone) — the hall is open.
OPEN_TIME = datetime(2026, 11, 30, 6, 0, tzinfo=ZoneInfo("UTC"))


@pytest.fixture
def hall(loaded_mini) -> dict:
    """Centre ``hq``, its counters 1 and 2 with an operator each, and two services."""
    hq = loaded_mini.centres.get(code="hq")
    found = {"hq": hq, "id": Service.objects.get(code="id-card"), "birth": Service.objects.get(code="birth")}
    for n in (1, 2):
        counter = Counter.objects.get(centre=hq, number=n)
        operator = make_staff(f"op.hq.{n}", Role.OPERATOR, centres=[hq])
        operator.counter = counter
        operator.save()
        found[f"c{n}"], found[f"op{n}"] = counter, operator
    return found
