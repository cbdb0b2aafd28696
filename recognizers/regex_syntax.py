"""What a user's pattern means to RE2: whether it compiles (and which construct stops it), and
which literal strings every match must contain (the prefilter's triggers).

Patterns written for Python's `re` (Presidio's recognizers are) often use constructs RE2 has
not: look-around, back-references, atomic groups, possessive quantifiers. RE2 names the
operator it stopped at; `re2_problem` turns that into the construct's name, so a config error
says what to rewrite.
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any

import re2

# `re._parser` (Python's own regex parser, `sre_parse` before 3.11) has no type stubs.
_sre: Any = importlib.import_module("re._parser")

# RE2's operator text in its error message -> what to call it in ours (and what to do instead).
_AROUND = "; RE2 has no look-around: match the context too and keep the value in a group"
_BACKREF = "; RE2 has no backreferences: match more and check it with a validator"
_OPERATORS = {
    "(?=": "a lookahead `(?=...)`" + _AROUND,
    "(?!": "a negative lookahead `(?!...)`" + _AROUND,
    "(?<=": "a lookbehind `(?<=...)`" + _AROUND,
    "(?<!": "a negative lookbehind `(?<!...)`" + _AROUND,
    "(?P": "a backreference `(?P=name)` or a recursive call `(?P>name)`" + _BACKREF,
    "(?>": "an atomic group `(?>...)`",
    "(?(": "a conditional `(?(...)...)`",
    "(?#": "a comment group `(?#...)`",
    "(?x": "the verbose flag `(?x)`",
    "(?u": "the flag `(?u)`",
    "(?a": "the flag `(?a)`",
    "(?L": "the flag `(?L)`",
}
_ESCAPES = {
    **{f"\\{d}": f"a backreference `\\{d}`" + _BACKREF for d in "123456789"},
    "\\Z": "`\\Z` (RE2 writes the end of text as `\\z`)",
    "\\G": "`\\G`",
    "\\K": "`\\K`",
}
_REPEATS = ("*+", "++", "?+", "}+")
# A trigger shorter than this would be present in most lines: the pattern then goes into the
# prefilter's shape set instead (one pass for every pattern without triggers).
MIN_TRIGGER_CHARS = 3


def re2_options(*, ignore_case: bool = False) -> re2.Options:
    options = re2.Options()
    options.case_sensitive = not ignore_case
    options.max_mem = 64 << 20
    options.log_errors = False
    return options


def re2_problem(pattern: str, *, ignore_case: bool = False) -> str | None:
    """None if RE2 compiles `pattern`; otherwise what stops it, e.g. `RE2 cannot compile a
    lookbehind `(?<=...)` (RE2 has no look-around ...)`."""
    try:
        re2.compile(pattern, re2_options(ignore_case=ignore_case))
    except re2.error as exc:
        raw = exc.args[0].decode("utf-8", "replace") if exc.args else str(exc)
        return f"RE2 cannot compile {_construct(raw)} ({raw})"
    return None


def _construct(message: str) -> str:
    _, _, operator = message.partition(": ")
    if message.startswith("invalid perl operator"):
        for prefix, name in sorted(_OPERATORS.items(), key=lambda kv: -len(kv[0])):
            if operator.startswith(prefix):
                return name
        return f"the group operator `{operator}`"
    if message.startswith("invalid escape sequence") and operator in _ESCAPES:
        return _ESCAPES[operator]
    if message.startswith("bad repetition operator") and operator in _REPEATS:
        return f"a possessive quantifier `{operator}`"
    return "the pattern"


def required_literals(pattern: str) -> tuple[str, ...]:
    """Lower-case ASCII strings, one of which every match of `pattern` contains; () when that
    cannot be told or the strings would be too short to filter anything.

    Read with Python's own parser, conservatively: anything it reads differently from RE2 (POSIX
    classes, `\\pL`, `\\Q...\\E`, `\\z`) fails to parse or warns, and then nothing is derived.
    """
    if "[:" in pattern:
        return ()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            parsed = _sre.parse(pattern)
        except Exception:
            return ()
    if caught:
        return ()
    found = _sequence(list(parsed))
    if not found or min(len(s) for s in found) < MIN_TRIGGER_CHARS:
        return ()
    return tuple(sorted(found))


def _better(current: set[str] | None, candidate: set[str] | None) -> set[str] | None:
    """The set whose shortest string is longer (fewer, longer strings filter more)."""
    if not candidate:
        return current
    if not current:
        return candidate
    return candidate if _strength(candidate) > _strength(current) else current


def _strength(found: set[str]) -> tuple[int, int]:
    return min(len(s) for s in found), -len(found)


def _sequence(items: list[tuple[Any, Any]]) -> set[str] | None:
    best: set[str] | None = None
    run: list[str] = []
    for op, arg in items:
        if op is _sre.LITERAL and chr(arg).isascii():
            run.append(chr(arg).lower())
            continue
        if run:
            best = _better(best, {"".join(run)})
            run = []
        best = _better(best, _node(op, arg))
    if run:
        best = _better(best, {"".join(run)})
    return best


def _node(op: Any, arg: Any) -> set[str] | None:
    if op is _sre.SUBPATTERN:
        return _sequence(list(arg[-1]))
    if op is _sre.ATOMIC_GROUP:
        return _sequence(list(arg))
    if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT):
        low, _, body = arg
        return _sequence(list(body)) if low >= 1 else None
    if op is _sre.BRANCH:
        union: set[str] = set()
        for alternative in arg[1]:
            found = _sequence(list(alternative))
            if not found:
                return None
            union |= found
        return union
    return None
