"""Middleware that pages need and the API does not."""

from __future__ import annotations

import pytest
from django.contrib import messages
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpResponse
from django.test import RequestFactory

from conftest import make_staff
from onestop.accounts.middleware import AdminTwoFactorMiddleware
from onestop.accounts.models import Role
from onestop.web.middleware import PageMessageMiddleware


def test_pages_get_message_storage_and_the_api_does_not(rf: RequestFactory):
    seen: list[bool] = []

    def view(request):
        seen.append(hasattr(request, "_messages"))
        return HttpResponse()

    middleware = PageMessageMiddleware(view)
    page = rf.get("/book/")
    page.session = SessionBase()
    middleware(page)
    messages.info(page, "Saved.")  # a page can still add a message
    assert [str(m) for m in messages.get_messages(page)] == ["Saved."]
    middleware(rf.post("/api/v1/bookings/"))
    assert seen == [True, False]


class _User:
    """A user whose every attribute read is recorded: the API path must read none."""

    def __init__(self):
        self.read: list[str] = []

    def __getattr__(self, name):
        self.read.append(name)
        raise AssertionError(f"the user was read: {name}")


@pytest.mark.django_db
def test_the_second_factor_check_leaves_the_api_and_exempt_paths_alone(rf, settings, loaded_mini):
    settings.ONESTOP_DEMO = False
    middleware = AdminTwoFactorMiddleware(lambda request: HttpResponse("ok"))
    for path in ("/api/v1/bookings/", "/accounts/login/", "/healthz"):
        request = rf.get(path)
        request.user = _User()
        assert middleware(request).content == b"ok"
        assert request.user.read == []
    page = rf.get("/admin/")
    page.user = make_staff("nat.mw", Role.NATIONAL_ADMIN)
    page.user.is_verified = lambda: False  # as django_otp's middleware sets it: no device used
    response = middleware(page)
    assert response.status_code == 302 and response["Location"] == "/accounts/two-factor/?next=/admin/"
