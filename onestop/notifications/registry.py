"""Typed registry of notification providers, chosen by name in the settings.

``ONESTOP_SMS_PROVIDER`` and ``ONESTOP_EMAIL_PROVIDER`` name the provider (default
``"file"``). They are read on every call, so tests and operators can switch providers
without restarting. A provider class is registered with the :func:`register` decorator;
it is instantiated with no arguments and reads its own settings when it sends.
"""

from __future__ import annotations

from typing import TypeVar

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .base import EmailProvider, SmsProvider

_SMS: dict[str, type[SmsProvider]] = {}
_EMAIL: dict[str, type[EmailProvider]] = {}

P = TypeVar("P", type[SmsProvider], type[EmailProvider])

BUILTIN_MODULES = (
    "onestop.notifications.contrib.file",
    "onestop.notifications.contrib.http",
    "onestop.notifications.contrib.django_mail",
)


def register(provider: P) -> P:
    """Class decorator: make ``provider`` available under ``provider.name``.

    Registering another class under a name that is taken replaces the earlier one.
    """
    name = getattr(provider, "name", "")
    if not isinstance(name, str) or not name:
        raise TypeError(f"{provider.__name__} needs a non-empty class attribute 'name'")
    if issubclass(provider, SmsProvider):
        _SMS[name] = provider
    elif issubclass(provider, EmailProvider):
        _EMAIL[name] = provider
    else:
        raise TypeError(f"{provider.__name__} is neither an SmsProvider nor an EmailProvider")
    return provider


def unregister(provider: type[SmsProvider] | type[EmailProvider]) -> None:
    """Remove ``provider`` if it is the class registered under its name."""
    registry: dict = _SMS if issubclass(provider, SmsProvider) else _EMAIL
    if registry.get(provider.name) is provider:
        del registry[provider.name]


def _load_builtins() -> None:
    for module in BUILTIN_MODULES:
        __import__(module)


def sms_provider_names() -> list[str]:
    _load_builtins()
    return sorted(_SMS)


def email_provider_names() -> list[str]:
    _load_builtins()
    return sorted(_EMAIL)


def get_sms_provider() -> SmsProvider:
    _load_builtins()
    name = getattr(settings, "ONESTOP_SMS_PROVIDER", "file") or "file"
    try:
        return _SMS[name]()
    except KeyError:
        raise ImproperlyConfigured(
            f"ONESTOP_SMS_PROVIDER={name!r} is not a registered SMS provider "
            f"(known: {', '.join(sorted(_SMS))})"
        ) from None


def get_email_provider() -> EmailProvider:
    _load_builtins()
    name = getattr(settings, "ONESTOP_EMAIL_PROVIDER", "file") or "file"
    try:
        return _EMAIL[name]()
    except KeyError:
        raise ImproperlyConfigured(
            f"ONESTOP_EMAIL_PROVIDER={name!r} is not a registered e-mail provider "
            f"(known: {', '.join(sorted(_EMAIL))})"
        ) from None
