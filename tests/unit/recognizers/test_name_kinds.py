"""Kinds of names and look-alikes, with examples drawn from the word lists rather than typed in.

Each kind is tested by what makes it that kind (a common English word that the census knows as a
rare surname, a speaker turn, a list of names...), on words picked from the installed lists, so
that a rule passes only if it holds for the kind and not for one spelling.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recognizers.proper_nouns import ProperNounRecognizer
from recognizers.words import STOP_WORDS_AND_I, Vocabulary, Word, may_hold_names

RECOGNIZER = ProperNounRecognizer()
VOCABULARY = Vocabulary()


def _values(text: str) -> set[str]:
    return {text[f.start : f.end] for f in RECOGNIZER.find(text)}


def _words(keep: Callable[[Word], bool], limit: int = 40) -> list[str]:
    """Up to `limit` census words (sorted, so runs agree), capitalised, that `keep` accepts."""
    found = []
    for bare in sorted(VOCABULARY.surnames | VOCABULARY.given):
        if len(bare) < 4 or not bare.isalpha() or bare in STOP_WORDS_AND_I:
            continue
        if keep(VOCABULARY.word(bare.capitalize())):
            found.append(bare.capitalize())
            if len(found) >= limit:
                break
    return found


WORD_FIRST = _words(lambda w: w.word_first)
# Surnames among the census's 1,000 commonest that are English words too (`Hunter`, `Rogers`).
COMMON_SURNAME_WORDS = _words(
    lambda w: w.bare in VOCABULARY.common_surnames and w.english and not w.given and w.evidence
)
TEMPLATES = [
    "Capitalized words like {} and Discipline are often mistaken with names.",
    "The talk was about {} in the age of software.",
    "We finally met {} after the meeting.",
]


def test_the_kinds_have_examples() -> None:
    assert len(WORD_FIRST) >= 20 and len(COMMON_SURNAME_WORDS) >= 20


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(WORD_FIRST), st.sampled_from(TEMPLATES))
def test_a_common_word_that_is_a_rare_surname_is_no_name_alone(word: str, template: str) -> None:
    """`Wisdom`, `Loop`, `Suite`: capitalised mid-sentence, the word is the likelier reading."""
    text = template.format(word)
    assert word not in _values(text)
    window_texts = [text[s:e] for s, e in RECOGNIZER.analyse(text).ner_windows]
    assert any(word in w for w in window_texts)  # left to the model, not dropped unread


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(COMMON_SURNAME_WORDS), st.sampled_from(TEMPLATES))
def test_a_surname_that_is_also_a_word_still_counts_when_the_census_knows_it_well(
    word: str, template: str
) -> None:
    assert word in _values(template.format(word))


def test_a_rare_surname_word_next_to_a_given_name_is_part_of_the_name() -> None:
    for word in itertools.islice(WORD_FIRST, 10):
        assert f"Maria {word}" in _values(f"Yesterday Maria {word} signed the lease.")


# The free-text gate: which strings the name passes read at all.
CITIES_NOT_WORDS = sorted(
    c for c in VOCABULARY.cities if c.isalpha() and len(c) >= 5 and not VOCABULARY.is_english(c)
)


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(CITIES_NOT_WORDS))
def test_a_place_in_capitals_in_a_sentence_is_read(city: str) -> None:
    assert may_hold_names(f"I'm in {city.upper()}, at the conference")


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(sorted(VOCABULARY.given)), st.sampled_from(["i'm {}", '{}: "who is it?"']))
def test_lower_case_chat_is_read(name: str, shape: str) -> None:
    assert may_hold_names(shape.format(name) + " from the office")


@pytest.mark.parametrize("name", ["Ödön", "Łukasz", "Ñuño", "Þóra", "Νίκος", "Ольга", "Nguyễn"])
def test_a_capitalised_word_of_any_cased_script_is_read(name: str) -> None:
    assert may_hold_names(f"{name} 42")


@pytest.mark.parametrize(
    "text",
    [
        "2024-01-01T10:00:00Z 0x7f3a 200 1532",
        "ERROR 500 /api/v1",  # capitals, but no lower-case word beside them
        "ab",
        "single_token_without_spaces",
        "ÖSTERSKÄR",
    ],
)
def test_identifiers_numbers_and_lone_words_are_not_read(text: str) -> None:
    assert not may_hold_names(text)
