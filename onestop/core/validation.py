"""Request validation for the busiest endpoints, with DRF's fields but without a serializer per request.

A DRF serializer deep-copies its declared fields every time it is instantiated, which
costs more than the rest of validating a small request body. :func:`validated_data` keeps
one bound copy of a flat serializer's fields per process and runs each field's own
``run_validation`` on the incoming mapping: the same conversions, defaults and limits as
``Serializer(data=...).validated_data``. On any error it hands the data to a fresh
serializer, so error responses (field names, messages, translations) are DRF's own.

Only flat serializers qualify: writable fields without ``source`` paths and without
``validate_<field>`` or ``validate`` methods; others raise ``TypeError`` when first used.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from rest_framework import serializers
from rest_framework.fields import SkipField


@functools.cache
def _writable_fields(
    serializer_class: type[serializers.Serializer],
) -> tuple[tuple[str, serializers.Field], ...]:
    if serializer_class.validate is not serializers.Serializer.validate:
        raise TypeError(f"{serializer_class.__name__} has a validate() method")
    fields = []
    for name, field in serializer_class().fields.items():
        if field.read_only:
            continue
        if getattr(serializer_class, f"validate_{name}", None) is not None:
            raise TypeError(f"{serializer_class.__name__} has validate_{name}()")
        if field.source_attrs != [name] or isinstance(field, serializers.BaseSerializer):
            raise TypeError(f"{serializer_class.__name__}.{name} is not a flat field")
        fields.append((name, field))
    return tuple(fields)


def validated_data(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    """``serializer_class(data=data).validated_data``, raising DRF's ``ValidationError`` when invalid."""
    # mypy#11470: type[Any] (DRF ships no stubs here) is not seen as Hashable, though classes are.
    fields = _writable_fields(serializer_class)  # type: ignore[arg-type]
    if isinstance(data, Mapping):
        result: dict[str, Any] = {}
        try:
            for name, field in fields:
                try:
                    result[name] = field.run_validation(field.get_value(data))
                except SkipField:
                    continue
        except serializers.ValidationError:
            pass  # the serializer below reports it, with every other error of the request
        else:
            return result
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
