"""E-mail through Django's own mail machinery (``EMAIL_BACKEND``, ``EMAIL_HOST`` ...).

Select it with ``ONESTOP_EMAIL_PROVIDER=django``. SMTP errors that usually pass
(connection refused, timeouts, 4xx replies) are retryable; a refused recipient is not.
"""

from __future__ import annotations

import smtplib

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.message import make_msgid

from ..base import EmailProvider, ProviderError
from ..registry import register


@register
class DjangoEmailProvider(EmailProvider):
    name = "django"

    def send(self, to: str, subject: str, text: str) -> str:
        message_id = make_msgid()
        message = EmailMessage(
            subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[to],
            headers={"Message-ID": message_id},
        )
        try:
            message.send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused as exc:
            raise ProviderError(f"recipient refused: {exc.recipients}", retryable=False) from exc
        except smtplib.SMTPResponseException as exc:
            raise ProviderError(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", retryable=exc.smtp_code < 500) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise ProviderError(f"SMTP failed: {exc}", retryable=True) from exc
        return message_id
