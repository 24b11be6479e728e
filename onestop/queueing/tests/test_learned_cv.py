"""The live estimate uses the service-time variability learned from the centre's history."""

from __future__ import annotations

import pytest
import time_machine
from django.core.cache import cache

from onestop.centres.models import Centre
from onestop.planning.tests.test_centre import NOW, make_history
from onestop.queueing.estimate import estimate_wait_roster
from onestop.queueing.selectors import estimate_for, group_rates


@pytest.fixture
def hq(loaded_mini):
    with time_machine.travel(NOW, tick=False):
        yield Centre.objects.get(country=loaded_mini, code="hq")


def test_group_rates_learn_the_cv_and_estimate_for_uses_it(hq, django_assert_num_queries):
    group = hq.counters.first().group_links.first().group
    assert group_rates(hq, group, with_cv=True)[2] == 1.0  # no history: exponential
    make_history(hq)
    cache.clear()
    mu, theta, cv = group_rates(hq, group, with_cv=True)
    assert group_rates(hq, group) == (mu, theta)
    assert 0.2 <= cv < 0.5  # 6 / 10 / 12-minute services: far less variable than exponential
    # Cached with the rates: reading the cv again costs no query.
    with django_assert_num_queries(0):
        assert group_rates(hq, group, with_cv=True) == (mu, theta, cv)
    live = estimate_for(hq, group, 8, open_counters=3)
    expected = estimate_wait_roster(8, [(0.0, 3)], mu, theta, service_cv=cv)
    assert live.mean == pytest.approx(expected.mean)
    exponential = estimate_for(hq, group, 8, open_counters=3, rates=(mu, theta, 1.0))
    assert live.mean == pytest.approx(exponential.mean)
    assert live.p95 < exponential.p95
    # Rates given without a cv (as the ticket page caches them): the learned cv, from cache.
    with django_assert_num_queries(0):
        pair = estimate_for(hq, group, 8, open_counters=3, rates=(mu, theta))
    assert pair.p95 == pytest.approx(live.p95)
