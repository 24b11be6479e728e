"""Administrator roles must pass a second factor (TOTP) before using the admin.

Outside the demo (``ONESTOP_DEMO`` off), a national or agency administrator who has not
verified a TOTP device in this session is sent to the second-factor page.
"""

from django.conf import settings
from django.shortcuts import redirect


class AdminTwoFactorMiddleware:
    EXEMPT_PREFIXES = ("/accounts/", "/static/", "/healthz", "/i18n/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # The path first: an API request (tokens, or none) never needs the session's user,
        # which would otherwise be loaded here for every kiosk ticket and booking.
        if request.path.startswith(self.EXEMPT_PREFIXES) or request.path.startswith("/api/"):
            return self.get_response(request)
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not settings.ONESTOP_DEMO
            and getattr(user, "needs_two_factor", False)
            and not user.is_verified()
        ):
            return redirect(f"/accounts/two-factor/?next={request.path}")
        return self.get_response(request)
