"""``validated_data`` must accept, convert and refuse exactly as the serializer itself."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework import serializers

from onestop.core.validation import validated_data
from onestop.queueing.api import TicketRequest

values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=50),
    st.sampled_from(
        ["kiosk", "reception", "remote", "appointment", "", "  ", " id-card ", "x" * 41]
    ),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
bodies = st.one_of(
    st.dictionaries(
        st.sampled_from(
            ["service", "priority_group", "phone", "language", "source", "otp", "other"]
        ),
        values,
        max_size=7,
    ),
    st.lists(st.integers(), max_size=2),
    st.none(),
    st.text(max_size=5),
)


def _outcome(function):
    try:
        return "ok", dict(function())
    except serializers.ValidationError as exc:
        return "error", exc.detail


@settings(max_examples=400, deadline=None)
@given(bodies)
def test_same_result_as_the_serializer(body):
    def by_serializer():
        serializer = TicketRequest(data=body)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    assert _outcome(lambda: validated_data(TicketRequest, body)) == _outcome(by_serializer)


def test_defaults_and_trimming():
    assert validated_data(TicketRequest, {"service": " id-card "}) == {
        "service": "id-card",
        "source": "kiosk",
    }


def test_refuses_serializers_it_cannot_mirror():
    class WithValidate(serializers.Serializer):
        a = serializers.CharField()

        def validate(self, attrs):
            return attrs

    class WithFieldValidator(serializers.Serializer):
        a = serializers.CharField()

        def validate_a(self, value):
            return value

    class Nested(serializers.Serializer):
        a = TicketRequest()

    for serializer_class in (WithValidate, WithFieldValidator, Nested):
        with pytest.raises(TypeError):
            validated_data(serializer_class, {"a": "x"})
