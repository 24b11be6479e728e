"""The process-local cache: expiry, one thread recomputing an expired entry, clearing."""

from __future__ import annotations

import threading

import pytest

from onestop.core import localcache


@pytest.fixture(autouse=True)
def _empty():
    localcache.clear()
    yield
    localcache.clear()


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def shift(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    fake = _Clock()
    monkeypatch.setattr(localcache.time, "monotonic", fake.monotonic)
    return fake


def test_a_value_is_kept_until_it_expires_and_none_is_not_kept(clock):
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    assert localcache.get_or_set("k", 30, compute) == 1
    assert localcache.get_or_set("k", 30, compute) == 1
    clock.shift(31)
    assert localcache.get_or_set("k", 30, compute) == 2
    assert localcache.get_or_set("missing", 30, lambda: None) is None
    assert localcache.get_or_set("missing", 30, lambda: "now") == "now"


def test_while_one_thread_recomputes_an_expired_entry_the_others_use_the_old_value(clock):
    started, release = threading.Event(), threading.Event()

    def slow():
        started.set()
        assert release.wait(10)
        return "new"

    localcache.get_or_set("k", 30, lambda: "old")
    clock.shift(31)
    results: list[str] = []
    worker = threading.Thread(target=lambda: results.append(localcache.get_or_set("k", 30, slow)))
    worker.start()
    assert started.wait(10)
    # the entry is being recomputed: another caller does not compute it a second time
    assert localcache.get_or_set("k", 30, lambda: pytest.fail("computed twice")) == "old"
    release.set()
    worker.join(10)
    assert results == ["new"]
    assert localcache.get_or_set("k", 30, lambda: "again") == "new"


def test_a_value_computed_while_the_cache_was_cleared_is_not_kept():
    def compute_then_clear():
        localcache.clear()  # a watched model saved while the value was being computed
        return "stale"

    assert localcache.get_or_set("k", 30, compute_then_clear) == "stale"
    assert localcache.get_or_set("k", 30, lambda: "fresh") == "fresh"


def test_a_failed_recomputation_lets_the_next_caller_try_again(clock):
    localcache.get_or_set("k", 30, lambda: "old")
    clock.shift(31)

    def broken():
        raise RuntimeError("database away")

    with pytest.raises(RuntimeError):
        localcache.get_or_set("k", 30, broken)
    assert localcache.get_or_set("k", 30, lambda: "new") == "new"
