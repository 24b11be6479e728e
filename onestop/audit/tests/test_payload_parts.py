"""``payload_parts`` cuts the exact text ``event_digest`` hashes: filling its holes with the
values' JSON gives the same bytes, whatever the other fields hold."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onestop.audit.services import _payload, event_digest, hole, json_parts, payload_parts

text = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\ue000"), max_size=20)
json_values = st.recursive(st.none() | st.booleans() | st.integers(-10**6, 10**6) | text,
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
                           max_leaves=8)


def fill(parts: list[str], values: dict[str, str]) -> str:
    return "".join(part if i % 2 == 0 else values[part] for i, part in enumerate(parts))


@given(stream=text, actor=text, action=text, object_type=text, before=json_values,
       extra=st.dictionaries(text.filter(lambda k: k != "number"), json_values, max_size=3),
       seq=st.integers(1, 10**12), object_id=st.integers(1, 10**12),
       prev=st.text("0123456789abcdef", min_size=64, max_size=64),
       number=st.from_regex(r"[A-Z][0-9]{3,5}", fullmatch=True),
       micro=st.integers(0, 999_999))
def test_filled_parts_hash_like_event_digest(stream, actor, action, object_type, before, extra, seq, object_id,
                                             prev, number, micro):
    created_at = datetime(2026, 11, 30, 6, 0, 0, micro, tzinfo=UTC)
    after = {**extra, "number": hole("number")}
    parts = payload_parts(stream=stream, created_at=created_at, actor_name=actor, action=action,
                          object_type=object_type, before=before, after=after)
    assert parts[1::2] and set(parts[1::2]) <= {"seq", "object_id", "prev", "number"}
    raw = fill(parts, {"seq": str(seq), "object_id": str(object_id), "prev": prev, "number": number})
    real_after = {**extra, "number": number}
    expected = _payload(stream=stream, seq=seq, created_at=created_at, actor_name=actor, action=action,
                        object_type=object_type, object_id=str(object_id), before=before, after=real_after,
                        prev_hash=prev)
    assert raw == expected
    assert hashlib.sha256(raw.encode()).hexdigest() == event_digest(
        stream=stream, seq=seq, created_at=created_at, actor_name=actor, action=action, object_type=object_type,
        object_id=str(object_id), before=before, after=real_after, prev_hash=prev)
    assert json.loads(fill(json_parts(after), {"number": number})) == json.loads(json.dumps(real_after))


@given(extra=st.dictionaries(text.filter(lambda k: k != "slot"), json_values, max_size=3),
       seq=st.integers(1, 10**12), object_id=st.integers(1, 10**12), slot=st.integers(1, 10**12),
       prev=st.text("0123456789abcdef", min_size=64, max_size=64))
def test_bare_holes_stand_for_numbers(extra, seq, object_id, slot, prev):
    created_at = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
    after = {**extra, "slot": hole("slot")}
    parts = payload_parts(stream="s", created_at=created_at, actor_name="a", action="x", object_type="t",
                          before=None, after=after, bare=("slot",))
    raw = fill(parts, {"seq": str(seq), "object_id": str(object_id), "prev": prev, "slot": str(slot)})
    real_after = {**extra, "slot": slot}
    assert raw == _payload(stream="s", seq=seq, created_at=created_at, actor_name="a", action="x", object_type="t",
                           object_id=str(object_id), before=None, after=real_after, prev_hash=prev)
    assert json.loads(fill(json_parts(after, bare=("slot",)), {"slot": str(slot)})) == real_after


@pytest.mark.parametrize("bad", ["Number", "a-b", ""])
def test_hole_names_are_plain_words(bad):
    with pytest.raises(ValueError, match="lower-case words"):
        hole(bad)
