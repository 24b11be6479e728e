"""What a notification provider is: one class per way of getting an SMS or e-mail out.

A provider's ``send`` either returns the provider's message id or raises
:class:`ProviderError`. ``retryable=True`` means "try again later" (gateway down, timeout,
rate limit); ``retryable=False`` means the message can never be delivered as it stands
(number refused, bad request) and the outbox marks it failed at once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar


class ProviderError(Exception):
    """A provider could not send a message."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class SmsProvider(ABC):
    """Sends one text message to an E.164 phone number."""

    name: ClassVar[str]

    @abstractmethod
    def send(self, to: str, text: str) -> str:
        """Send ``text`` to ``to``; return the provider's message id or raise ProviderError."""


class EmailProvider(ABC):
    """Sends one plain-text e-mail."""

    name: ClassVar[str]

    @abstractmethod
    def send(self, to: str, subject: str, text: str) -> str:
        """Send the e-mail; return the provider's message id or raise ProviderError."""
