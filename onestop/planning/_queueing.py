"""The queueing interface used by planning: ``onestop.queueing`` whenever it is importable.

The simulator calls :func:`choose_next` / :func:`overtaken_ids` for every call of a
counter and :func:`estimate_wait_roster` for every wait announced to a citizen, so the
simulated hall follows the real call policy and the real predictor.
``USING_REFERENCE_ESTIMATE`` is true while ``onestop.queueing.estimate`` cannot be
imported and :mod:`onestop.planning._reference_queueing` stands in for it.
"""

from __future__ import annotations

from onestop.queueing.routing import RoutingParams, WaitingTicket, choose_next, overtaken_ids

try:
    from onestop.queueing.estimate import WaitEstimate, estimate_wait, estimate_wait_roster

    USING_REFERENCE_ESTIMATE = False
except ImportError:  # pragma: no cover - depends on the tree
    from onestop.planning._reference_queueing import (  # type: ignore[assignment]
        WaitEstimate,
        estimate_wait,
        estimate_wait_roster,
    )

    USING_REFERENCE_ESTIMATE = True

__all__ = [
    "USING_REFERENCE_ESTIMATE",
    "RoutingParams",
    "WaitEstimate",
    "WaitingTicket",
    "choose_next",
    "estimate_wait",
    "estimate_wait_roster",
    "overtaken_ids",
]
