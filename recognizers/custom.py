"""Recognizers declared in a config file (`recognizers:`), built as our own are: RE2 patterns
behind triggers, a validator, and a few data-only additions (context words, an allow list).

Plain data in, `CustomRecognizer`s out: the config layer describes them, this module compiles
them, and the engine runs them through the same prefilter as the built-in ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import re2

from recognizers.base import Finding, PatternRecognizer, Validator
from recognizers.finance import is_iban, luhn_ok
from recognizers.national_ids import verhoeff_ok
from recognizers.regex_syntax import re2_options, required_literals

# Presidio's context enhancement, whose defaults these are: a context word among the five words
# before a match adds 0.35 to its score, and a match with context scores at least 0.4.
CONTEXT_BOOST = 0.35
CONTEXT_FLOOR = 0.4
CONTEXT_WORDS_BEFORE = 5
_WORD = re.compile(r"[\w'-]+")
_WINDOW_CHARS = 48  # characters per context word read around a match


def _digits_of(value: str) -> str | None:
    """The ASCII digits of a value (`LC-4111 1111 1111 1111` -> its 16 digits); None if fewer
    than two."""
    digits = "".join(c for c in value if "0" <= c <= "9")
    return digits if len(digits) >= 2 else None


def luhn_valid(value: str) -> bool:
    digits = _digits_of(value)
    return digits is not None and luhn_ok(digits)


def verhoeff_valid(value: str) -> bool:
    digits = _digits_of(value)
    return digits is not None and verhoeff_ok(digits)


def mod97_valid(value: str) -> bool:
    """ISO 7064 MOD 97-10 over the letters and digits (letters count 10-35): the remainder is 1."""
    compact = "".join(c for c in value if c not in " -.").upper()
    if len(compact) < 3 or not (compact.isascii() and compact.isalnum()):
        return False
    return int("".join(str(int(c, 36)) for c in compact)) % 97 == 1


VALIDATORS: dict[str, Validator] = {
    "luhn": luhn_valid,
    "mod97": mod97_valid,
    "iban": is_iban,
    "verhoeff": verhoeff_valid,
}


def length_check(minimum: int, maximum: int | None) -> Validator:
    def check(value: str) -> bool:
        return len(value) >= minimum and (maximum is None or len(value) <= maximum)

    return check


def charset_check(chars: str) -> Validator:
    """Every character of the value is in the RE2 class `[chars]`."""
    compiled = re2.compile(f"[{chars}]*", re2_options())

    def check(value: str) -> bool:
        return compiled.fullmatch(value) is not None

    return check


def all_of(checks: Sequence[Validator]) -> Validator | None:
    if not checks:
        return None
    if len(checks) == 1:
        return checks[0]
    chosen = tuple(checks)
    return lambda value: all(check(value) for check in chosen)


@dataclass(frozen=True)
class Context:
    """Words that make a match likelier when they are near it: lower-case, matched inside the
    words around the match (`card` is in `cards`; a phrase may span words)."""

    words: tuple[str, ...]
    boost: float = CONTEXT_BOOST
    floor: float = CONTEXT_FLOOR
    before: int = CONTEXT_WORDS_BEFORE
    after: int = 0

    def found(self, text: str, start: int, end: int) -> list[str]:
        """The context words present around [start, end) of `text`."""
        words: list[str] = []
        if self.before:
            head = text[max(0, start - self.before * _WINDOW_CHARS) : start]
            words += _WORD.findall(head)[-self.before :]
        if self.after:
            tail = text[end : end + self.after * _WINDOW_CHARS]
            words += _WORD.findall(tail)[: self.after]
        window = " ".join(words).lower()
        return [word for word in self.words if word in window]

    def score(self, score: float) -> float:
        return min(1.0, max(score + self.boost, self.floor))


@dataclass(frozen=True)
class CustomRecognizer(PatternRecognizer):
    """One pattern (or one deny list) of a configured recognizer.

    `name` is the recognizer's, `pattern_name` the pattern's. `allow` holds values it never
    reports; `formats` and `fields` limit where the engine runs it (empty: everywhere).
    """

    pattern_name: str = ""
    context: Context | None = None
    allow: frozenset[str] = frozenset()
    formats: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()
    source: str = "config"

    @property
    def scoped(self) -> bool:
        return bool(self.fields) or (bool(self.formats) and set(self.formats) != {"text", "json"})

    def find(self, text: str) -> Iterator[Finding]:
        for found in PatternRecognizer.find(self, text):
            if text[found.start : found.end] in self.allow:
                continue
            context = self.context
            if context is not None and context.found(text, found.start, found.end):
                score = context.score(found.score)
                yield Finding(found.start, found.end, found.entity_type, score, found.recognizer)
            else:
                yield found


def deny_list_pattern(terms: Sequence[str]) -> str:
    """One RE2 alternation of the exact terms, each standing alone: not inside a longer word
    (a boundary wherever a term starts or ends with a letter or digit)."""
    alternatives = []
    for term in sorted(set(terms), key=lambda t: (-len(t), t)):
        head = r"\b" if _word_char(term[0]) else r"\B"
        tail = r"\b" if _word_char(term[-1]) else r"\B"
        alternatives.append(head + re2_escape(term) + tail)
    return "(?:" + "|".join(alternatives) + ")"


def _word_char(char: str) -> bool:
    """A word character as RE2's `\\b` sees it (ASCII letters, digits and `_`)."""
    return char.isascii() and (char.isalnum() or char == "_")


def re2_escape(text: str) -> str:
    return "".join(f"\\{c}" if not c.isalnum() and c.isascii() and c != " " else c for c in text)


def deny_list_triggers(terms: Sequence[str]) -> tuple[str, ...]:
    """The terms themselves, lower-cased, when all are ASCII (their lower case is found in the
    lower-cased text exactly); () otherwise (the pattern joins the prefilter's shape set)."""
    if all(t.isascii() for t in terms):
        return tuple(sorted({t.lower() for t in terms}))
    return ()


def triggers_for(pattern: str, declared: Sequence[str]) -> tuple[str, ...]:
    """Declared triggers (lower-cased), or the literals every match must contain."""
    if declared:
        return tuple(sorted({t.lower() for t in declared}))
    return required_literals(pattern)
