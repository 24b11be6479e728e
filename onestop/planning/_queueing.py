"""The queueing interface used by planning: ``onestop.queueing`` when present.

``USING_REFERENCE`` is true while ``onestop.queueing.routing`` / ``.estimate`` cannot be
imported and :mod:`onestop.planning._reference_queueing` stands in for them.
"""

from __future__ import annotations

try:
    from onestop.queueing.estimate import WaitEstimate, estimate_wait, estimate_wait_roster
    from onestop.queueing.routing import (
        RoutingParams,
        WaitingTicket,
        choose_next,
        overtaken_ids,
    )

    USING_REFERENCE = False
except ImportError:  # pragma: no cover - depends on the tree
    from onestop.planning._reference_queueing import (
        RoutingParams,
        WaitEstimate,
        WaitingTicket,
        choose_next,
        estimate_wait,
        estimate_wait_roster,
        overtaken_ids,
    )

    USING_REFERENCE = True

__all__ = [
    "USING_REFERENCE",
    "RoutingParams",
    "WaitEstimate",
    "WaitingTicket",
    "choose_next",
    "estimate_wait",
    "estimate_wait_roster",
    "overtaken_ids",
]
