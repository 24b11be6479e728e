"""Pick the page language among the pack's languages.

``?lang=fa`` switches (and remembers it in the language cookie); otherwise the cookie or
the browser's preference is kept when the pack offers it, else the pack's default.
"""

from django.conf import settings
from django.contrib.messages.middleware import MessageMiddleware
from django.utils import translation


class PackLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from .selectors import current_country

        try:
            country = current_country()
        except Exception:
            country = None
        request.country = country
        chosen = None
        if country is not None:
            codes = country.language_codes
            wanted = request.GET.get("lang")
            if wanted in codes:
                chosen = wanted
            else:
                active = translation.get_language()
                cookie = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
                chosen = cookie if cookie in codes else (active if active in codes else country.default_language)
            translation.activate(chosen)
            request.LANGUAGE_CODE = chosen
        response = self.get_response(request)
        if chosen and request.GET.get("lang") == chosen:
            response.set_cookie(settings.LANGUAGE_COOKIE_NAME, chosen, max_age=365 * 24 * 3600, samesite="Lax")
        if chosen:
            response.headers.setdefault("Content-Language", chosen)
        return response


class PageMessageMiddleware(MessageMiddleware):
    """Django's one-time messages ("Saved.") for pages only.

    The API never shows one, so a request under ``/api/`` skips building the message
    storage (a cookie and a session store) and, with it, the update of both on its way out.
    """

    def process_request(self, request):
        if request.path.startswith("/api/"):
            return
        super().process_request(request)
