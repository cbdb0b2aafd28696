"""The one table helper of the recognizer tests (in the spirit of Presidio's tests/assertions.py).

Each test module keeps a table of (text, expected findings) per recognizer family and compares
`found(FAMILY, text)` with the expected list: (entity type, exact value) per distinct span, in text
order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from recognizers.base import PatternRecognizer

Span = tuple[int, int, str]


def found(
    recognizers: Sequence[PatternRecognizer],
    text: str,
    *,
    outermost: bool = False,
    prefer: Mapping[str, str] | None = None,
) -> list[tuple[str, str]]:
    """(entity type, exact value) for every distinct span the recognizers report, in text order.

    Spans are ordered by start, the longer first, then by type. `prefer` maps a winning type to a
    losing one: a reading of the loser is dropped where the winner reports the very same span.
    `outermost` merges overlapping spans of one type into their union, as the engine's merge does
    (two recognizers of one type often report a value and a longer labelled form of it).
    """
    spans = {(f.start, f.end, f.entity_type) for r in recognizers for f in r.scan(text)}
    if prefer:
        losers = {(start, end, prefer[kind]) for start, end, kind in spans if kind in prefer}
        spans -= losers
    ordered = sorted(spans, key=lambda s: (s[0], -s[1], s[2]))
    if outermost:
        ordered = _outermost(ordered)
    return [(kind, text[start:end]) for start, end, kind in ordered]


def _outermost(ordered: list[Span]) -> list[Span]:
    """`ordered` (by start, the longer first) with overlapping spans of one type united."""
    merged: list[Span] = []
    last_of_kind: dict[str, int] = {}
    for start, end, kind in ordered:
        i = last_of_kind.get(kind)
        if i is not None and start < merged[i][1]:
            merged[i] = (merged[i][0], max(end, merged[i][1]), kind)
        else:
            last_of_kind[kind] = len(merged)
            merged.append((start, end, kind))
    return merged
