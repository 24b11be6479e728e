"""Rate-limit counters in a real Redis: one round trip per attempt, same limits as elsewhere.

CI starts Redis; without one at 127.0.0.1:6379 the tests are skipped.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import time_machine

from onestop.appointments import ratelimit


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.ONESTOP_RATE_LIMITS = {"booking_per_national_id": "3/h"}


def test_the_limit_holds_and_the_counter_expires_with_its_window(redis_cache):
    with time_machine.travel("2026-06-08 10:15:00+00:00", tick=False):
        for _ in range(3):
            ratelimit.hit("booking_per_national_id", "AZE1234567")
        with pytest.raises(ratelimit.RateLimited) as refused:
            ratelimit.hit("booking_per_national_id", "AZE1234567")
        assert refused.value.wait == 45 * 60  # seconds to the end of the hour's window
        ratelimit.hit("booking_per_national_id", "another")  # other identifiers count apart
        key = redis_cache.make_and_validate_key(
            ratelimit._key("booking_per_national_id", "AZE1234567", int(time.time() // 3600)))
        client = redis_cache._cache.get_client(key)
        assert int(client.get(key)) == 4
        assert 0 < client.ttl(key) <= 3600 + 5  # the counter never outlives its window
    with time_machine.travel("2026-06-08 11:00:01+00:00", tick=False):
        ratelimit.hit("booking_per_national_id", "AZE1234567")  # a new window


def test_parallel_attempts_are_each_counted_once(redis_cache, settings):
    settings.ONESTOP_RATE_LIMITS = {"booking_per_national_id": "25/h"}

    def attempt(_):
        try:
            ratelimit.hit("booking_per_national_id", "AZE7654321")
            return "ok"
        except ratelimit.RateLimited:
            return "refused"

    with ThreadPoolExecutor(16) as pool:
        outcomes = list(pool.map(attempt, range(40)))
    assert outcomes.count("ok") == 25
    assert outcomes.count("refused") == 15
