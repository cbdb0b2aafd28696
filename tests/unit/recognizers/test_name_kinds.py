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
        "2024-01-01T00:00:00Z DEBUG cache hit ratio=0.5 keys=3",  # log levels are words
        "ALERT exited abnormally with [1]",
    ],
)
def test_identifiers_numbers_and_lone_words_are_not_read(text: str) -> None:
    assert not may_hold_names(text)


# Layouts (recognizers/name_layouts.py): the place of a word decides what the lists cannot.
GIVEN = sorted(g.capitalize() for g in VOCABULARY.given if len(g) >= 4 and g.isalpha())
UNKNOWN = ["Koppány", "Oyelaran", "Szöllösy", "Nwachukwu", "Järvilehto", "Hafliðason"]


def _people(text: str) -> set[str]:
    found = RECOGNIZER.analyse(text).findings
    return {text[f.start : f.end].rstrip(".") for f in found if f.entity_type == "PERSON"}


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(UNKNOWN), st.sampled_from(UNKNOWN), st.booleans())
def test_a_speaker_whose_quote_is_glued_to_the_colon(first: str, second: str, lower: bool) -> None:
    text = f'{first}: "Who are you?"\n{second}:"I\'m here".'
    text = text.lower() if lower else text
    assert (second.lower() if lower else second) in _people(text)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(GIVEN), min_size=2, max_size=3, unique=True))
def test_transcript_speakers_are_people_even_when_their_name_is_a_word(names: list[str]) -> None:
    text = "\n".join(f"{name}: Remember me? I said it twice." for name in names)
    speakers = {n for n in names if not VOCABULARY.word(n).english or VOCABULARY.word(n).evidence}
    assert speakers <= _people(text)


@pytest.mark.parametrize(
    "text",
    [
        "Subject: Remember the meeting\nNote: Bring the slides",  # English headings
        "Summary: Build finished\nStatus: Ready to ship",
        'Error:"file not found"',
        "Note: this is a single turn",  # one turn is no transcript
    ],
)
def test_headings_and_keys_are_not_speakers(text: str) -> None:
    assert _people(text) == set()


# Given names that are no English word: found alone, capitalised or not (`Koppány`, `roberto`).
UNENGLISH_GIVEN = [g for g in GIVEN if VOCABULARY.word(g).unenglish_census][:60]


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(UNENGLISH_GIVEN),
    st.sampled_from(COMMON_SURNAME_WORDS),
    st.sampled_from([" and ", ", ", " & ", " or "]),
    st.booleans(),
)
def test_a_word_listed_beside_a_name_is_a_name(
    known: str, listed: str, joiner: str, lower: bool
) -> None:
    """Conjuncts share their kind: `Muslija and Brown`, `leonti, terrence` in lower-case chat."""
    text = f"Is there a better song on this list? {known}{joiner}{listed} were precise."
    if lower:
        text = text.lower()
        listed = listed.lower()
    assert listed in _people(text)


@pytest.mark.parametrize(
    "text",
    [
        "I met Maria and Support yesterday.",  # an English word is no name by its place
        "Ask Maria and they will answer.",  # a stop word
        "Yesterday Maria and wisdom met.",  # not the same case
    ],
)
def test_a_list_does_not_make_words_names(text: str) -> None:
    assert _people(text) == {"Maria"}


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(GIVEN),
    st.sampled_from(COMMON_SURNAME_WORDS),
    st.sampled_from(["", ">", "> ", "- ", "* ", "  "]),
)
def test_the_name_line_of_an_address_block(first: str, last: str, lead: str) -> None:
    text = f"{lead}{first} {last}\n{lead}Ussearch\n{lead}3654 Brixtonlaan 380\n{lead}Charleroi"
    if first.lower() not in STOP_WORDS_AND_I:
        assert f"{first} {last}" in _people(text)


@pytest.mark.parametrize(
    "text",
    ["Grant Access\nto the admin panel", "Mark Complete\n3 items left", "Hope Street 12\nLeeds"],
)
def test_lines_of_words_are_not_name_lines(text: str) -> None:
    assert _people(text) == set()


@settings(max_examples=60, deadline=None)
@given(st.sampled_from([u.lower() for u in UNKNOWN]), st.sampled_from("bcdmpt"), st.booleans())
def test_a_middle_initial_in_lower_case_text(name: str, initial: str, dot: bool) -> None:
    full = f"{name} {initial}{'.' if dot else ''} kristensen"
    assert full in _people(f"the {full} version was recorded in one take")


def test_a_possessive_is_not_part_of_the_name() -> None:
    text = "the verses from eric g. kristensen's tales, and early kristensen too"
    assert "eric g. kristensen" in _people(text)


@pytest.mark.parametrize(
    "text", ["we need plan b for the launch", "buy a type c cable and a vitamin d pill"]
)
def test_a_lone_letter_between_words_is_no_initial(text: str) -> None:
    assert _people(text) == set()


@pytest.mark.parametrize(
    "text",
    [
        "This is the best plan we have so far.",
        "Hi, this is my first order with you.",
        "This is great news for the whole team.",
        "Dear customer, your order has shipped.",
        "Call me tomorrow about it.",
        "Signed up for the newsletter yesterday.",
    ],
)
def test_a_naming_phrase_before_an_ordinary_word_names_nobody(text: str) -> None:
    assert _people(text) == set()


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(GIVEN + COMMON_SURNAME_WORDS),
    st.sampled_from(["This is {}.", "Dear {}, thanks!", "Her maiden name is {}", "Call me {}."]),
)
def test_a_naming_phrase_before_a_capitalised_census_name_names_it(name: str, shape: str) -> None:
    if name.lower() not in STOP_WORDS_AND_I:
        assert name in _people(shape.format(name))


# Given names that are also English words, or English only by a suffix (`James` = jam + es).
GIVEN_AND_WORDS = [g for g in GIVEN if VOCABULARY.word(g).english and VOCABULARY.word(g).evidence][
    :80
]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(GIVEN_AND_WORDS))
def test_a_given_name_opening_a_sentence_is_read_by_the_model(name: str) -> None:
    """`James called me`: capitalised for the sentence's sake or as a name; NER decides."""
    text = f"{name} called me yesterday about the invoice."
    windows = [text[s:e] for s, e in RECOGNIZER.analyse(text).ner_windows]
    assert any(name in w for w in windows)


def test_an_english_word_opening_a_sentence_is_not_sent_to_the_model() -> None:
    for word in itertools.islice(WORD_FIRST, 10):
        assert (
            RECOGNIZER.analyse(f"{word} called me yesterday about the invoice.").ner_windows == []
        )


@pytest.mark.parametrize(
    ("text", "places"),
    [
        ("revenue grew in EMEA and APAC last year", set()),  # acronyms after a place cue
        ("data written to HDFS by the nightly job", set()),
        ("I flew to OSLO and then to NAANTALI on Monday.", {"OSLO", "NAANTALI"}),
    ],
)
def test_a_word_in_capitals_after_a_place_cue_is_a_place_unless_an_acronym(
    text: str, places: set[str]
) -> None:
    found = RECOGNIZER.analyse(text).findings
    assert {text[f.start : f.end] for f in found if f.entity_type == "LOCATION"} == places
