from __future__ import annotations

import pytest

from scrubber.engine.normalize import normalize


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("plain ascii", "plain ascii"),
        ("john%40example.com", "john@example.com"),
        ("ｊｏｈｎ＠example.com", "john@example.com"),
        ("jo\u200bhn@exa\u200dmple.com", "john@example.com"),
        ("\u2064x\ufeffy", "xy"),
        ("100% sure", "100% sure"),
        ("%zz%4", "%zz%4"),
    ],
)
def test_normalized_text(text: str, normalized: str) -> None:
    assert normalize(text).text == normalized


def test_offsets_map_back_to_the_original_span() -> None:
    text = "mail: jo\u200bhn%40exa\u200bmple.com!"
    norm = normalize(text)
    start = norm.text.index("john")
    end = start + len("john@example.com")
    s, e = norm.original_span(start, end)
    assert text[s:e] == "jo\u200bhn%40exa\u200bmple.com"
