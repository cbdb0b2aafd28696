"""Table tests for ages: the number is the finding, the words that make it an age survive."""

from __future__ import annotations

import pytest

from recognizers.demographics import AGE_RECOGNIZERS, is_age


def ages(text: str) -> list[str]:
    spans = {(f.start, f.end) for r in AGE_RECOGNIZERS for f in r.scan(text)}
    return [text[start:end] for start, end in sorted(spans)]


HITS = [
    ("This 79 year old female complaining of chest pain", ["79"]),
    ("a 74-year-old woman was admitted", ["74"]),
    ("He just turned 46 years old", ["46"]),
    ("my son is 10 yrs old", ["10"]),
    ("and i'm 31 y/o.", ["31"]),
    ("kid (12yo) asked", ["12"]),
    ("My brother just turned 60", ["60"]),
    ("My birthday is on the weekend. I'll turn 23.", ["23"]),
    ("she is turning 30 next week", ["30"]),
    ("My father retired at the age of 61", ["61"]),
    ("patient aged 45, male", ["45"]),
    ("Age: 52", ["52"]),
    ('{"age": "38", "note": "aged 7"}', ["38", "7"]),
    ("age=27 gender=f", ["27"]),
    ("I'm 19. I live alone", ["19"]),
    ("she's 8 and loves drawing", ["8"]),
]  # fmt: skip

NEAR_MISSES = [
    "Cache-Control: public, max-age=3600",
    "Set-Cookie: sid=1; Max-Age=30; Path=/",
    "files aged 30 days were removed",
    "retention: aged 12 months",
    "page 45 of 80",
    "usage: 45%",
    "the counter turned 100%",
    "turned 2.5x faster",
    "I'm 5 minutes late",
    "average 45 ms",
    "the oak is 200 years old",  # not a human age
]


@pytest.mark.parametrize(("text", "expected"), HITS)
def test_an_age_is_found_and_only_the_number_is_taken(text: str, expected: list[str]) -> None:
    assert ages(text) == expected


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_durations_lifetimes_and_counts_are_not_ages(text: str) -> None:
    assert ages(text) == []


@pytest.mark.parametrize(("value", "expected"), [("1", True), ("120", True), ("0", False),
                                                 ("121", False), ("4a", False)])  # fmt: skip
def test_is_age_bounds(value: str, expected: bool) -> None:
    assert is_age(value) is expected
