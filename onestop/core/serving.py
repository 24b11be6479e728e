"""Start-up of a serving process: the garbage collector set for a long-lived server.

Python's cyclic garbage collector runs whenever allocations outnumber deallocations by a
threshold (700 by default), and from time to time walks every object the process holds.
A server process holds a few hundred thousand objects made at start-up (modules, URL
patterns, models, the pack's reference data) that live as long as the process; a booking
request makes a few thousand short-lived ones. Measured in one process over 2,000 bookings
(``bench/README.md``), collections took 0.24-0.27 ms per booking by default, 0.13 ms once
the start-up objects are frozen (``gc.freeze``: moved to a generation the collector never
walks) and 0.07-0.09 ms with the youngest generation collected every 5,000 allocations
instead of 700 (a collection then still walks only the young objects: well under a
millisecond).
"""

from __future__ import annotations

import gc

#: Allocations (less deallocations) between collections of the youngest generation.
YOUNG_THRESHOLD = 5000


def tune_garbage_collector() -> None:
    """Load what the first request would load, freeze it, and collect the young less often."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 -- imports every view module now, not on a request
    gc.collect()
    gc.freeze()
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
