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

from django.http import HttpRequest
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request

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


def _request(accept: str) -> Request:
    """A request with nothing but an Accept header, for DRF to negotiate on.

    A real (empty) request rather than a stand-in, so that it offers whatever DRF's version
    reads: DRF 3.18 reads ``headers`` where the versions before it read ``META``.
    """
    django_request = HttpRequest()
    django_request.META["HTTP_ACCEPT"] = accept
    return Request(django_request)


@functools.lru_cache(maxsize=256)
def _chosen(accept: str, renderer_classes: tuple[type, ...]) -> tuple[int, str] | None:
    renderers = [cls() for cls in renderer_classes]
    try:
        renderer, media_type = DefaultContentNegotiation().select_renderer(_request(accept), renderers)
    except NotAcceptable:  # the request raises it itself, with DRF's own answer
        return None
    except Exception:  # noqa: BLE001 -- whatever stops it, DRF decides on the real request
        log.warning("content negotiation: cannot remember the choice for %r", accept, exc_info=True)
        return None
    return renderers.index(renderer), media_type
