"""The recognizer contract: declared RE2 patterns plus one small validation hook.

Every pattern is compiled with RE2, whose matching time is linear in the input, so no input can
make a recognizer backtrack for ever. RE2 has no look-around and no back-references: where a
pattern needs them, it matches a little more and `validator` (plain Python on the match) decides.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import re2

# One call into RE2 itself, below the wrapper's per-call work (encoding the text, offset maps, a
# generator: ~8 us, most of the pattern pass when a text has ~20 candidate recognizers).
_UNANCHORED = re2._Anchor.UNANCHORED
_NO_MATCH = (-1, -1)

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

    def __post_init__(self) -> None:
        options = re2.Options()
        options.case_sensitive = not self.ignore_case
        options.max_mem = 64 << 20
        compiled = re2.compile(self.pattern, options)
        if self.value_group > compiled.groups:
            raise ValueError(f"{self.name}: value_group {self.value_group} does not exist")
        object.__setattr__(self, "_compiled", compiled)

    def applies(self, text: str, lowered: str, has_digit: bool) -> bool:  # noqa: ARG002
        """The cheap pre-check: can this pattern match this text at all?"""
        if self.needs_digit and not has_digit:
            return False
        return not self.triggers or any(t in lowered for t in self.triggers)

    def matches_in(self, encoded: bytes) -> bool:
        """Whether the pattern matches anywhere in `encoded` (a text's UTF-8, encoded once for
        all recognizers): a cheap no for most candidates before `find` does the real work."""
        spans = self._compiled._regexp.Match(_UNANCHORED, encoded, 0, len(encoded))
        return bool(spans[0] != _NO_MATCH)

    def find(self, text: str) -> Iterator[Finding]:
        """Every validated match in `text`, as findings on the value group."""
        group = self.value_group
        for match in self._compiled.finditer(text):
            start, end = match.start(group), match.end(group)
            if start < 0 or start == end:
                continue
            value = text[start:end]
            if self.validator is not None and not self.validator(value):
                continue
            yield Finding(start, end, self.entity_type, self.score, self.name)

    def scan(self, text: str) -> list[Finding]:
        """Pre-check plus find: the convenient entry point for tests and one-off use."""
        lowered = text.lower()
        has_digit = any(c.isdigit() for c in text)
        if not self.applies(text, lowered, has_digit):
            return []
        return list(self.find(text))
