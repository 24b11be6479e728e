"""The remembered content negotiation picks what DRF's own picks, 406 included."""

from __future__ import annotations

import pytest
from django.http import Http404
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer, StaticHTMLRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from onestop.core.negotiation import CachedContentNegotiation

ACCEPTS = [
    None,
    "*/*",
    "application/json",
    "application/problem+json",
    "text/html",
    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "application/json; indent=4",
    "application/*",
    "image/png",
    "text/csv",
]
RENDERER_SETS = [
    (JSONRenderer, BrowsableAPIRenderer),
    (JSONRenderer,),
    (StaticHTMLRenderer,),
]


@pytest.fixture(autouse=True)
def _forget():
    """Each test starts and ends with an empty memory."""
    from onestop.core import negotiation

    negotiation._chosen.cache_clear()
    yield
    negotiation._chosen.cache_clear()


def _request(accept, query=""):
    extra = {} if accept is None else {"HTTP_ACCEPT": accept}
    return Request(APIRequestFactory().get(f"/api/v1/x/{query}", **extra))


def _pick(negotiation, accept, classes, query="", suffix=None):
    renderers = [cls() for cls in classes]
    try:
        renderer, media_type = negotiation.select_renderer(_request(accept, query), renderers, suffix)
    except NotAcceptable:
        return "406"
    except Http404:  # a format no renderer has
        return "404"
    return type(renderer), media_type


@pytest.mark.parametrize("classes", RENDERER_SETS)
@pytest.mark.parametrize("accept", ACCEPTS)
def test_the_remembered_choice_is_drfs_choice(accept, classes):
    expected = _pick(DefaultContentNegotiation(), accept, classes)
    for _ in range(2):  # the first call fills the memory, the second reads it
        assert _pick(CachedContentNegotiation(), accept, classes) == expected


def test_a_format_in_the_url_is_negotiated_as_drf_does():
    classes = (JSONRenderer, BrowsableAPIRenderer)
    for query, suffix in (("?format=api", None), ("?format=json", None), ("", "json"), ("?format=xml", None)):
        expected = _pick(DefaultContentNegotiation(), "application/json", classes, query, suffix)
        assert _pick(CachedContentNegotiation(), "application/json", classes, query, suffix) == expected


@pytest.mark.parametrize("classes", RENDERER_SETS)
@pytest.mark.parametrize("accept", ACCEPTS)
def test_a_header_seen_before_is_not_negotiated_again(accept, classes, monkeypatch):
    """The memory is used: the second request with an acceptable header never reaches DRF's
    negotiation (DRF 3.18 could not negotiate on the memory's first, hand-made request)."""
    expected = _pick(DefaultContentNegotiation(), accept, classes)
    calls: list[str | None] = []
    drf_select = DefaultContentNegotiation.select_renderer

    def counted(self, request, renderers, format_suffix=None):
        calls.append(accept)
        return drf_select(self, request, renderers, format_suffix)

    monkeypatch.setattr(DefaultContentNegotiation, "select_renderer", counted)
    first = 2 if expected == "406" else 1  # nothing acceptable: DRF itself then raises its 406
    assert _pick(CachedContentNegotiation(), accept, classes) == expected
    assert len(calls) == first  # worked out once, for the memory
    assert _pick(CachedContentNegotiation(), accept, classes) == expected
    assert len(calls) == first + (1 if expected == "406" else 0)  # the 406 again, by DRF; else remembered


def test_a_choice_that_cannot_be_remembered_is_left_to_drf_and_logged(monkeypatch, caplog):
    """Should the memory's negotiation fail for another reason than DRF's 406, every request
    is still negotiated (by DRF, on the real request), and the log says why."""
    from onestop.core import negotiation

    class Bare:
        def __init__(self, accept: str) -> None:
            self.META = {"HTTP_ACCEPT": accept}  # no headers, no query_params

    monkeypatch.setattr(negotiation, "_request", Bare)
    classes = (JSONRenderer, BrowsableAPIRenderer)
    with caplog.at_level("WARNING", logger="onestop.core.negotiation"):
        assert _pick(CachedContentNegotiation(), "application/json", classes) == (JSONRenderer, "application/json")
    assert "cannot remember the choice for 'application/json'" in caplog.text
