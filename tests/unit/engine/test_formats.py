from __future__ import annotations

import json

import pytest

from scrubber.engine.formats import RecordRejected, encode, leaves, parse, placeholder
from scrubber.models import Reason


def test_auto_treats_json_objects_as_json_and_the_rest_as_text() -> None:
    assert parse('{"a": 1}', "auto", 1000).document == {"a": 1}
    assert parse("[1, 2]", "auto", 1000).document == [1, 2]
    assert parse("plain line", "auto", 1000).document is None
    assert parse('{"broken": ', "auto", 1000).document is None  # scanned as text instead


@pytest.mark.parametrize(
    ("raw", "fmt", "reason"),
    [
        (b"\xff\xfeabc", "auto", Reason.INVALID_UTF8),
        ("x\ud800", "text", Reason.INVALID_UTF8),
        ('{"broken": ', "json", Reason.MALFORMED_JSON),
        ('"just a string"', "json", Reason.MALFORMED_JSON),
        ('{"n": NaN}', "json", Reason.MALFORMED_JSON),
        ("x" * 2000, "text", Reason.TOO_LARGE),
        ("[" * 5000 + "]" * 5000, "json", Reason.TOO_DEEP),
    ],
)
def test_rejections_carry_a_reason(raw: bytes | str, fmt: str, reason: Reason) -> None:
    with pytest.raises(RecordRejected) as caught:
        parse(raw, fmt, 1024 if raw == "x" * 2000 else 10**6)  # type: ignore[arg-type]
    assert caught.value.reason is reason


def test_leaves_reach_every_string_and_number_with_paths() -> None:
    doc = json.loads(
        '{"user": {"email": "a@b.co", "age": 31}, "messages": [{"content": "hi"}, '
        '{"content": "yo"}], "card": 4111111111111111, "ok": true, "tags": ["x"]}'
    )
    found = {(leaf.path, leaf.text, leaf.scannable) for leaf in leaves(doc, 64)}
    assert found == {
        ("user.email", "a@b.co", True),
        ("user.age", "31", False),  # rules and key hints apply; too short to scan
        ("messages.content", "hi", True),
        ("messages.content", "yo", True),
        ("card", "4111111111111111", True),
        ("tags", "x", True),
    }


def test_depth_limit_fails_closed() -> None:
    doc: dict[str, object] = {}
    cursor = doc
    for _ in range(10):
        cursor["a"] = {}
        cursor = cursor["a"]  # type: ignore[assignment]
    with pytest.raises(RecordRejected):
        list(leaves(doc, 5))


def test_encode_keeps_separator_style() -> None:
    compact = parse('{"a":"x","b":[1,2]}', "json", 1000)
    spaced = parse('{"a": "x", "b": [1, 2]}', "json", 1000)
    assert encode(compact) == '{"a":"x","b":[1,2]}'
    assert encode(spaced) == '{"a": "x", "b": [1, 2]}'


def test_placeholders_carry_only_the_reason() -> None:
    assert json.loads(placeholder(Reason.TOO_LARGE, True)) == {
        "scrubber_quarantined": True,
        "reason": "too_large",
    }
    assert placeholder(Reason.INVALID_UTF8, False) == "[SCRUBBER QUARANTINED reason=invalid_utf8]"
