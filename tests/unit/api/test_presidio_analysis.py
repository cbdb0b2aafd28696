"""The pieces of /analyze that re-do Presidio's steps without its code, held to presidio-analyzer's
own on random inputs: the deny-list scan (RE2 has no look-around) against Presidio's deny-list
regex on Python's `re`, and the duplicate rule against `EntityRecognizer.remove_duplicates`."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st
from presidio_analyzer import EntityRecognizer
from presidio_analyzer import RecognizerResult as PresidioResult

from scrubber.api.presidio_analysis import (
    Candidate,
    deny_list_regex,
    deny_list_spans,
    remove_duplicates,
)
from scrubber.api.presidio_models import DEFAULT_FLAGS, AnalysisExplanation

TEXT = st.text(st.sampled_from("abAB .-_\nMr.éÉ1"), max_size=40)
TERMS = st.lists(st.text(st.sampled_from("abAB .-Mr.é1"), min_size=1, max_size=5), min_size=1,
                 max_size=5)  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(text=TEXT, terms=TERMS, ignore_case=st.booleans())
def test_the_deny_list_scan_finds_what_presidios_regex_finds(
    text: str, terms: list[str], ignore_case: bool
) -> None:
    flags = DEFAULT_FLAGS if ignore_case else re.DOTALL | re.MULTILINE
    expected = [m.span() for m in re.finditer(deny_list_regex(terms), text, flags) if m.group()]
    assert deny_list_spans(text, terms, ignore_case) == expected


def _explanation() -> AnalysisExplanation:
    return AnalysisExplanation(recognizer="r", original_score=0.5, score=0.5)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["A", "B", "C"]), st.integers(0, 12),
                          st.integers(1, 6), st.sampled_from([0.0, 0.3, 0.5, 0.85, 1.0])),
                max_size=10))  # fmt: skip
def test_the_duplicate_rule_is_presidios(results: list[tuple[str, int, int, float]]) -> None:
    ours = remove_duplicates(
        Candidate(kind, start, start + size, score, _explanation())
        for kind, start, size, score in results
    )
    theirs = EntityRecognizer.remove_duplicates(
        [PresidioResult(kind, start, start + size, score) for kind, start, size, score in results]
    )
    assert sorted((c.entity_type, c.start, c.end, c.score) for c in ours) == sorted(
        (r.entity_type, r.start, r.end, r.score) for r in theirs
    )
    assert [(c.score, c.start, c.end) for c in ours] == [(r.score, r.start, r.end) for r in theirs]
