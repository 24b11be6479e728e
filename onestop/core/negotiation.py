"""DRF's content negotiation, remembered per Accept header.

Every API answer picks its renderer from the request's ``Accept`` header. DRF parses the
header and matches it against each renderer's media type on every request, which cost a
few per cent of a booking's CPU; clients send the same few headers again and again. The
choice depends only on the header and the view's renderers (when no format is asked for
in the URL), so each process remembers it.
"""

from __future__ import annotations

import functools
import logging

from django.http.request import HttpHeaders
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation

log = logging.getLogger(__name__)


class CachedContentNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        format_param = self.settings.URL_FORMAT_OVERRIDE
        accept = request.META.get("HTTP_ACCEPT", "*/*")
        if format_suffix or (format_param and format_param in request.query_params) or len(accept) > 200:
            return super().select_renderer(request, renderers, format_suffix)
        chosen = _chosen(accept, tuple(type(renderer) for renderer in renderers))
        if chosen is None:  # nothing acceptable: DRF raises its 406
            return super().select_renderer(request, renderers, format_suffix)
        index, media_type = chosen
        return renderers[index], media_type


class _Request:
    """The part of a request DRF's negotiation reads, for an Accept header alone.

    DRF up to 3.17 reads the header from ``META``, 3.18 from ``headers``: both are given.
    """

    def __init__(self, accept: str) -> None:
        self.META = {"HTTP_ACCEPT": accept}
        self.headers = HttpHeaders(self.META)
        self.query_params: dict[str, str] = {}


@functools.lru_cache(maxsize=256)
def _chosen(accept: str, renderer_classes: tuple[type, ...]) -> tuple[int, str] | None:
    renderers = [cls() for cls in renderer_classes]
    try:
        renderer, media_type = DefaultContentNegotiation().select_renderer(_Request(accept), renderers)
    except NotAcceptable:  # the request raises it itself, with DRF's own answer
        return None
    except Exception:  # noqa: BLE001 -- e.g. a DRF that reads more of the request: DRF decides
        log.warning("content negotiation: cannot remember the choice for %r", accept, exc_info=True)
        return None
    return renderers.index(renderer), media_type
