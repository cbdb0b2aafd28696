"""Ages: a quasi-identifier that, with a postcode and a gender, singles most people out.

A bare number says nothing, so every pattern carries the words that make it an age and reports
only the number: `a 79 year old female`, `74-year-old`, `31 y/o`, `aged 45`, `age: 45`,
`at the age of 61`, `turned 60`, `I'm 31.` Cache and cookie lifetimes (`max-age=3600`,
`Max-Age=30`) and durations (`aged 30 days`) are not ages. Policies can generalise the value to a
band (`70-79`) instead of removing it.
"""

from __future__ import annotations

from recognizers.base import PatternRecognizer

_ENTITY = "AGE"
_OLDEST = 120
# A number that is not the tail of a longer token (`v2`, `x86`, `1.5`).
_NUMBER = r"(?:^|[^\w.,/:-])(\d{1,3})"
# Durations and shares after a number: `aged 30 days`, `age: 5s`, `age 90%`.
_UNITS = r"days?|d|hours?|hrs?|h|minutes?|mins?|m|seconds?|secs?|s|ms|weeks?|w|months?|%|percent"


def is_age(value: str) -> bool:
    return value.isdigit() and 0 < int(value) <= _OLDEST


def _age_recognizer(name: str, pattern: str, triggers: tuple[str, ...]) -> PatternRecognizer:
    return PatternRecognizer(
        name=name,
        entity_type=_ENTITY,
        pattern=pattern,
        score=0.85,
        value_group=1,
        triggers=triggers,
        needs_digit=True,
        validator=is_age,
        ignore_case=True,
    )


AGE_RECOGNIZERS: tuple[PatternRecognizer, ...] = (
    # `79 year old`, `74-year-old`, `46 years old`, `10 yrs old`, `31 y/o`, `31yo`, `12 y.o.`
    _age_recognizer(
        "age_years_old",
        rf"{_NUMBER}[ -]?(?:(?:years?|yrs?)[ -]old|y/o|y\.o\.?|yo)\b",
        ("old", "y/o", "y.o", "yo"),
    ),
    # `turned 60`, `I'll turn 23`, `turning 30`, `he turns 5`
    _age_recognizer(
        "age_turned",
        r"\bturn(?:s|ed|ing)?[ \t]+(\d{1,3})(?:[ \t]+(?:years?|yrs?))?(?:$|[^\w.:/%-]|\.(?:\s|$))",
        ("turn",),
    ),
    # `at the age of 61`, `age of 61`
    _age_recognizer("age_of", r"\bage[ \t]+of[ \t]+(\d{1,3})\b", ("age of",)),
    # `I'm 31.`, `I am 31 and`, `she's 7,` - the number ends a clause.
    _age_recognizer(
        "age_i_am",
        r"\b(?:i'?m|i am|he'?s|she'?s|he is|she is)[ \t]+(\d{1,3})(?:$|[.,;!?]|[ \t]+(?:and|now|"
        r"today|this|next|years?|yrs?)\b)",
        ("i'm", "im ", "i am", "he's", "she's", "he is", "she is"),
    ),
    # `aged 45`, `age: 45`, `age=45`, `"age": 45`; not `max-age=3600` or `page 45`. A duration
    # (`aged 30 days`) is taken by the first alternative, which has no value group: RE2 prefers
    # the first alternative at a position, and a match without the value is skipped.
    _age_recognizer(
        "age_labelled",
        r"(?:^|[^\w-])(?:aged?|patient[ _]age)[\"']?[ \t]*[:=]?[ \t]*\"?"
        rf"(?:\d{{1,3}}[ \t]*(?:{_UNITS})\b|(\d{{1,3}})\b)",
        ("age",),
    ),
)
