"""Errors as RFC 9457 ``application/problem+json`` for the API."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class DomainError(Exception):
    """A rule of the domain refused the request. Services raise it; it never writes."""

    status_code = 422
    title = "Request refused"

    def __init__(self, detail: str, *, field: str | None = None, code: str = "invalid", status_code: int | None = None):
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.code = code
        if status_code is not None:
            self.status_code = status_code


class Conflict(DomainError):
    status_code = 409
    title = "Conflict"


class NotAllowed(DomainError):
    status_code = 403
    title = "Forbidden"


def problem(status_code: int, title: str, detail: str = "", **extra: Any) -> Response:
    body = {"type": "about:blank", "title": title, "status": status_code}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return Response(body, status=status_code, content_type="application/problem+json")


def _flatten(errors: Any, prefix: str = "") -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    if isinstance(errors, dict):
        for key, value in errors.items():
            name = key if not prefix else f"{prefix}.{key}"
            if key == "non_field_errors":
                name = prefix or ""
            out.extend(_flatten(value, name))
    elif isinstance(errors, list):
        if all(not isinstance(e, dict | list) for e in errors):
            out.extend({"field": prefix, "message": str(e)} for e in errors)
        else:
            for index, value in enumerate(errors):
                out.extend(_flatten(value, f"{prefix}[{index}]"))
    else:
        out.append({"field": prefix, "message": str(errors)})
    return out


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, DomainError):
        extra: dict[str, Any] = {"code": exc.code}
        if exc.field:
            extra["field"] = exc.field
            extra["errors"] = [{"field": exc.field, "message": exc.detail}]
        return problem(exc.status_code, exc.title, exc.detail, **extra)
    if isinstance(exc, DjangoValidationError):
        errors = _flatten(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
        return problem(422, "Invalid input", errors[0]["message"] if errors else "", errors=errors)
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        detail = "; ".join(f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in errors)
        return problem(422, "Invalid input", detail, errors=errors)
    if isinstance(exc, Http404):
        return problem(404, "Not found", str(exc) or "Not found.")
    if isinstance(exc, PermissionDenied):
        return problem(403, "Forbidden", str(exc) or "You may not do this.")
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    detail = response.data.get("detail", "") if isinstance(response.data, dict) else ""
    title = {401: "Unauthorized", 403: "Forbidden", 404: "Not found", 405: "Method not allowed",
             429: "Too many requests"}.get(response.status_code, "Error")
    out = problem(response.status_code, title, str(detail))
    for header, value in response.headers.items():
        if header.lower() in {"retry-after", "www-authenticate", "allow"}:
            out[header] = value
    return out


def json_problem(status_code: int, title: str, detail: str = "") -> JsonResponse:
    body = {"type": "about:blank", "title": title, "status": status_code, "detail": detail}
    return JsonResponse(body, status=status_code, content_type="application/problem+json")


__all__ = ["Conflict", "DomainError", "NotAllowed", "exception_handler", "problem", "json_problem", "status"]
