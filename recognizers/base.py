"""The recognizer contract: declared RE2 patterns plus one small validation hook.

Every pattern is compiled with RE2, whose matching time is linear in the input, so no input can
make a recognizer backtrack for ever. RE2 has no look-around and no back-references: where a
pattern needs them, it matches a little more and `validator` (plain Python on the match) decides.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import re2

# `spans` calls RE2 itself, below the wrapper's `finditer` (which re-encodes the text, builds
# offset maps and a match object per match: ~10 us a call, most of the pattern pass).
_UNANCHORED = re2._Anchor.UNANCHORED
_NO_MATCH = (-1, -1)

# One (start, end) per group, group 0 first; (-1, -1) for a group that took no part.
Spans = Sequence[tuple[int, int]]

Validator = Callable[[str], bool]


@dataclass(frozen=True, slots=True)
class Finding:
    """A detected entity: [start, end) in code points of the string it was found in."""

    start: int
    end: int
    entity_type: str
    score: float
    recognizer: str


@dataclass(frozen=True)
class PatternRecognizer:
    """One entity pattern.

    name:         stable identifier, used in metrics and tests (e.g. "aws_access_key_id").
    entity_type:  what a match is (e.g. "AWS_ACCESS_KEY", "EMAIL_ADDRESS", "SECRET").
    pattern:      RE2 syntax. `value_group` names the capture group holding the sensitive part
                  (0 = the whole match), so `password=hunter2` can keep `password=`.
    triggers:     cheap pre-check. If given, at least one of these lower-case substrings must occur
                  in the lower-cased text, or the pattern is not run at all.
    needs_digit:  skip texts without any ASCII digit.
    validator:    gets the value text; False drops the match (checksums, entropy, shape checks).
    ignore_case:  compile case-insensitively.
    """

    name: str
    entity_type: str
    pattern: str
    score: float = 0.85
    value_group: int = 0
    triggers: tuple[str, ...] = ()
    needs_digit: bool = False
    validator: Validator | None = None
    ignore_case: bool = False
    _compiled: Any = field(default=None, init=False, repr=False, compare=False)
    # A subclass that runs a part of `pattern` (`scan_pattern`) and completes each match in
    # `extend`: a class attribute, so the common case costs no call per text.
    extends_matches: ClassVar[bool] = False

    def __post_init__(self) -> None:
        options = re2.Options()
        options.case_sensitive = not self.ignore_case
        options.max_mem = 64 << 20
        compiled = re2.compile(self.scan_pattern, options)
        if self.value_group > compiled.groups:
            raise ValueError(f"{self.name}: value_group {self.value_group} does not exist")
        object.__setattr__(self, "_compiled", compiled)

    @property
    def scan_pattern(self) -> str:
        """What RE2 runs over the text: the pattern itself (a subclass may run a part of it
        and extend each match in `spans`, as the street addresses do)."""
        return self.pattern

    def applies(self, text: str, lowered: str, has_digit: bool) -> bool:  # noqa: ARG002
        """The cheap pre-check: can this pattern match this text at all?"""
        if self.needs_digit and not has_digit:
            return False
        return not self.triggers or any(t in lowered for t in self.triggers)

    def spans(self, text: str) -> Iterator[Spans]:
        """The group spans of every match in `text`, in code points: the matches of the
        wrapper's `finditer`, one raw RE2 call each (a text without a match costs one call)."""
        encoded = text.encode()
        match = self._compiled._regexp.Match
        extends = self.extends_matches
        # ASCII (most log lines): byte offsets are code-point offsets, nothing to decode.
        chars = None if len(encoded) == len(text) else _CodePoints(encoded)
        pos, end = 0, len(encoded)
        while True:
            spans = match(_UNANCHORED, encoded, pos, end)
            if spans[0] == _NO_MATCH:
                return
            if extends:
                spans = self.extend(encoded, spans)
            yield spans if chars is None else chars.of(spans)
            if pos == end:
                return
            # An empty match at pos would match again: step one character, as finditer does.
            pos = spans[0][1] if spans[0][1] != pos else pos + _utf8_length(encoded[pos])

    def extend(self, encoded: bytes, spans: Spans) -> Spans:  # noqa: ARG002
        """A match of `scan_pattern` (byte offsets in `encoded`) made the match of `pattern`
        (for a subclass whose `scan_pattern` is a part of it)."""
        return spans

    def find(self, text: str) -> Iterator[Finding]:
        """Every validated match in `text`, as findings on the value group."""
        group = self.value_group
        for spans in self.spans(text):
            start, end = spans[group]
            if start < 0 or start == end:
                continue
            if self.validator is not None and not self.validator(text[start:end]):
                continue
            yield Finding(start, end, self.entity_type, self.score, self.name)

    def scan(self, text: str) -> list[Finding]:
        """Pre-check plus find: the convenient entry point for tests and one-off use."""
        lowered = text.lower()
        has_digit = any(c.isdigit() for c in text)
        if not self.applies(text, lowered, has_digit):
            return []
        return list(self.find(text))


class _CodePoints:
    """Byte offsets in one UTF-8 text to code-point offsets, asked in increasing order across
    matches (each match starts at or after the previous one's end), so decoding stays linear."""

    def __init__(self, encoded: bytes) -> None:
        self._encoded = encoded
        self._byte = 0
        self._char = 0

    def of(self, spans: Spans) -> Spans:
        offsets = sorted({o for span in spans for o in span if o >= 0})
        decoded = {-1: -1}
        for offset in offsets:
            self._char += len(self._encoded[self._byte : offset].decode())
            self._byte = offset
            decoded[offset] = self._char
        return [(decoded[s], decoded[e]) for s, e in spans]


def _utf8_length(lead: int) -> int:
    """How many bytes the UTF-8 character starting with byte `lead` takes."""
    return 1 if lead < 0x80 else 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4
