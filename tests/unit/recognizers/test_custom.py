"""Configured recognizers as data: RE2 problems named, triggers derived, validators, deny lists,
context words and allow lists (recognizers/custom.py, recognizers/regex_syntax.py)."""

from __future__ import annotations

import pytest

from recognizers.custom import (
    VALIDATORS,
    Context,
    CustomRecognizer,
    charset_check,
    deny_list_pattern,
    deny_list_triggers,
    length_check,
)
from recognizers.regex_syntax import re2_problem, required_literals
from tests.unit.recognizers.tables import found


@pytest.mark.parametrize(
    ("regex", "construct"),
    [
        (r"(?<=id )\d+", "lookbehind"),
        (r"(?<!x)\d+", "negative lookbehind"),
        (r"\d+(?= EUR)", "lookahead"),
        (r"\d+(?!%)", "negative lookahead"),
        (r"(\w)\1", r"backreference `\1`"),
        (r"(?P<a>x)(?P=a)", "backreference `(?P=name)`"),
        (r"(?>ab|a)c", "atomic group"),
        (r"a++", "possessive quantifier `++`"),
        (r"(?x) a b", "verbose flag"),
        (r"end\Z", r"`\Z`"),
        (r"(unclosed", "the pattern (missing )"),
    ],
)
def test_what_re2_cannot_compile_is_named(regex: str, construct: str) -> None:
    problem = re2_problem(regex)
    assert problem is not None
    assert problem.startswith("RE2 cannot compile")
    assert construct in problem


@pytest.mark.parametrize("regex", [r"\bE-\d{6}\b", r"(?i)[[:alpha:]]+", r"\p{L}+", r"(?<n>a)"])
def test_re2_patterns_compile(regex: str) -> None:
    assert re2_problem(regex) is None


@pytest.mark.parametrize(
    ("regex", "literals"),
    [
        (r"\bEMP-\d{8}\b", ("emp-",)),
        (r"(?i)project[ _-]?(?:falcon|osprey)", ("project",)),
        (r"ticket (?:falcon|osprey)-\d+", ("ticket ",)),
        (r"(?:falcon|osprey)-\d+", ("falcon", "osprey")),
        (r"\b[a-z0-9-]+\.corp\.example\.net\b", (".corp.example.net",)),
        (r"a?bcde", ("bcde",)),
        (r"(?:abcd)+x", ("abcd",)),
        # Nothing every match must hold, or too short to filter: the shape set instead.
        (r"\b\d{10}\b", ()),
        (r"(?:abc)?de", ()),
        (r"\bLC\d{12}", ()),
        (r"(?:foo|\d+)bar1", ("bar1",)),
        # Read differently by Python's parser (POSIX classes, \p, \Q..\E): nothing derived.
        (r"[[:alpha:]]abcd", ()),
        (r"\pLabcd", ()),
        (r"\Qabcd\E", ()),
    ],
)
def test_triggers_are_literals_every_match_contains(regex: str, literals: tuple[str, ...]) -> None:
    assert required_literals(regex) == literals


@pytest.mark.parametrize(
    ("name", "valid", "invalid"),
    [
        ("luhn", "4111 1111 1111 1111", "4111 1111 1111 1112"),
        ("luhn", "EMP-12345674", "EMP-12345675"),
        ("mod97", "GB82WEST12345698765432"[4:] + "GB82", "ABCDEF"),
        ("iban", "DE89 3704 0044 0532 0130 00", "DE89 3704 0044 0532 0130 01"),
        ("verhoeff", "2363", "2364"),
    ],
)
def test_named_validators(name: str, valid: str, invalid: str) -> None:
    assert VALIDATORS[name](valid)
    assert not VALIDATORS[name](invalid)


def test_length_and_charset_checks() -> None:
    assert length_check(3, 5)("abcd")
    assert not length_check(3, 5)("abcdef")
    assert length_check(3, None)("abcdefghij")
    assert charset_check("0-9A-F")("DEADBEEF01")
    assert not charset_check("0-9A-F")("deadbeef")


def _recognizer(pattern: str, **kwargs: object) -> CustomRecognizer:
    return CustomRecognizer(name="r", entity_type="THING", pattern=pattern, **kwargs)  # type: ignore[arg-type]


def test_a_deny_list_takes_whole_terms_only() -> None:
    terms = ["Mr.", "Jane Roe", "#vip", "C++"]
    recognizer = _recognizer(deny_list_pattern(terms), ignore_case=True, score=1.0)
    text = "mr. Smith met JANE ROE (#vip) in C++ not Janet Roes or xmr. or a#vip"
    assert found([recognizer], text) == [
        ("THING", "mr."), ("THING", "JANE ROE"), ("THING", "#vip"), ("THING", "C++"),
    ]  # fmt: skip
    assert deny_list_triggers(terms) == ("#vip", "c++", "jane roe", "mr.")
    assert deny_list_triggers(["José"]) == ()


def test_a_case_sensitive_deny_list() -> None:
    recognizer = _recognizer(deny_list_pattern(["Falcon"]), score=1.0)
    assert found([recognizer], "Falcon and falcon") == [("THING", "Falcon")]


def test_context_words_raise_the_score_as_presidio_does() -> None:
    context = Context(("order",))
    recognizer = _recognizer(r"\b\d{10}\b", score=0.3, context=context)
    [near] = recognizer.scan("your Order no. is 1234567890")
    [alone] = recognizer.scan("id 1234567890")
    assert near.score == pytest.approx(0.65)
    assert alone.score == pytest.approx(0.3)
    weak = _recognizer(r"\b\d{5}\b", score=0.01, context=context)
    assert weak.scan("order 12345")[0].score == pytest.approx(0.4)  # the floor
    # five words before by default: the sixth is out of reach; words after only if asked
    assert recognizer.scan("order a b c d e 1234567890")[0].score == pytest.approx(0.3)
    after = _recognizer(r"\b\d{10}\b", score=0.3, context=Context(("order",), after=2))
    assert after.scan("1234567890 (order)")[0].score == pytest.approx(0.65)


def test_an_allow_list_and_a_validator() -> None:
    recognizer = _recognizer(
        r"\bEMP-\d{8}\b", allow=frozenset({"EMP-00000000"}), validator=VALIDATORS["luhn"]
    )
    text = "EMP-12345674 EMP-12345675 EMP-00000000"
    assert found([recognizer], text) == [("THING", "EMP-12345674")]
