"""Normalisation before detection, with a map back to the original offsets.

Attackers and odd clients hide values from regexes with full-width digits, zero-width joiners or
percent-encoding (`john%40example.com`). Detection runs on the normalised text; the span that
gets replaced is the original one, found through the offset map.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

_HEX = frozenset("0123456789abcdefABCDEF")


@dataclass(frozen=True, slots=True)
class Normalized:
    """`text` plus, for each of its characters, the [start, end) it came from in the original."""

    text: str
    starts: tuple[int, ...] | None  # None: text is the original, offsets are the identity
    ends: tuple[int, ...] | None

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        if self.starts is None or self.ends is None:
            return start, end
        return self.starts[start], self.ends[end - 1]


def _needs_work(text: str) -> bool:
    return not text.isascii() or "%" in text


def _percent_byte(text: str, i: int) -> str | None:
    """The printable ASCII character `%XX` at i encodes, or None."""
    if i + 2 < len(text) and text[i + 1] in _HEX and text[i + 2] in _HEX:
        code = int(text[i + 1 : i + 3], 16)
        if 0x20 <= code < 0x7F:
            return chr(code)
    return None


def normalize(text: str) -> Normalized:
    """NFKC per character, format characters (zero-width, bidi marks) dropped, `%XX` decoded."""
    if not _needs_work(text):
        return Normalized(text, None, None)
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "%" and i + 2 < n and (decoded := _percent_byte(text, i)) is not None:
            out.append(decoded)
            starts.append(i)
            ends.append(i + 3)
            i += 3
            continue
        if unicodedata.category(char) == "Cf":
            i += 1
            continue
        piece = unicodedata.normalize("NFKC", char) if not char.isascii() else char
        for produced in piece:
            out.append(produced)
            starts.append(i)
            ends.append(i + 1)
        i += 1
    if not out:
        return Normalized("", (), ())
    return Normalized("".join(out), tuple(starts), tuple(ends))
