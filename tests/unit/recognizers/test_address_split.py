"""An address recognizer runs its pattern in two (the street unanchored, then the optional tail
anchored where the street ends) to keep RE2's DFA small; it must find exactly what the whole
pattern finds, as one plain recognizer, on tables, log lines and generated address text."""

from __future__ import annotations

import random

import pytest

from benchmarks.corpus import mixed_corpus
from recognizers.base import PatternRecognizer
from recognizers.identity import IDENTITY_RECOGNIZERS, AddressRecognizer
from tests.unit.recognizers.test_identity import ADDRESS_HITS, ADDRESS_NEAR_MISSES

ADDRESSES = [r for r in IDENTITY_RECOGNIZERS if isinstance(r, AddressRecognizer)]

# What addresses are made of, in several languages and layouts: numbers, street and unit words,
# towns, postcodes, line breaks and quote marks of a continued block, labels, non-ASCII letters.
PIECES = (
    "12", "4B", "221B", "7", "1600", "94", "5", "10115", "62704", "61089", "12-14", "3.5", "Baker",
    "Street", "St.", "street", "Avenue", "Ave", "Pennsylvania", "Apt", "Apt.", "Suite", "#5", "Unit",
    "Flat", "A", "Room", "Bldg", "Apartment", "Berlin", "Hauptstraße", "Straße", "Weg", "Rue", "de",
    "la", "Paix", "Via", "Roma", "rue", "calle", "Mayor", "PO", "Box", "P.O. Box", "Postfach",
    "Springfield,", "IL", "NW", "SW", "United States", "lives at", "address:", "Kaevu", "Nicosia",
    "ul.", "Długa", "Οδός", "Ερμού", "Stensås", "Pivovarská", "APO AE 09012", "PSC 1234, Box 5678",
    "\n", "\n> ", ", ", ",", "ñ", "é", "the", "and", "Maria", "login", "v1.28",
)  # fmt: skip


def _generated(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        words = [rng.choice(PIECES) for _ in range(rng.randint(2, 24))]
        texts.append(" ".join(words).replace(" \n", "\n"))
    return texts


def _blocks(count: int, seed: int) -> list[str]:
    """Address blocks over lines (`Kaevu 94` / `Nicosia` / `61089`) and unit-vouched streets
    (`Allika 46, Apt. 5`), as a form or an e-mail signature writes them."""
    rng = random.Random(seed)
    streets = ("Kaevu", "Allika", "Hauptweg", "Heatherleigh", "Maneeži", "Rua Nova", "Oak")
    towns = ("Nicosia", "Berlin", "Grand Rapids", "SCHEIBBS, NO", "United States", "Tartu")
    texts = []
    for _ in range(count):
        lead = rng.choice(("", "> ", "- ", "  "))
        street = f"{rng.choice(streets)} {rng.randint(1, 999)}"
        unit = rng.choice(("", f", Apt. {rng.randint(1, 99)}", f" Suite {rng.randint(100, 999)}"))
        lines = [f"Send it to {street}{unit}"]
        lines += [f"{lead}{rng.choice(towns)}" for _ in range(rng.randint(0, 2))]
        lines.append(f"{lead}{rng.randint(10000, 99999)}" + rng.choice(("", " Berlin")))
        texts.append("\n".join(lines) + rng.choice(("", "\nthanks", " ok")))
    return texts


def _whole(recognizer: AddressRecognizer) -> PatternRecognizer:
    return PatternRecognizer(
        name=recognizer.name,
        entity_type=recognizer.entity_type,
        pattern=recognizer.pattern,
        score=recognizer.score,
        value_group=recognizer.value_group,
        triggers=recognizer.triggers,
        needs_digit=recognizer.needs_digit,
        validator=recognizer.validator,
    )


def test_every_address_recognizer_is_split() -> None:
    assert {r.name for r in ADDRESSES} >= {"street_address_us", "po_box", "street_address_block"}
    for recognizer in ADDRESSES:
        assert recognizer.scan_pattern != recognizer.pattern  # the head only
        assert recognizer.pattern.startswith(recognizer.scan_pattern[:-2])


@pytest.mark.parametrize("recognizer", ADDRESSES, ids=lambda r: r.name)
def test_split_finds_what_the_whole_pattern_finds(recognizer: AddressRecognizer) -> None:
    whole = _whole(recognizer)
    tables = [text for text, _ in ADDRESS_HITS] + list(ADDRESS_NEAR_MISSES)
    texts = tables + _generated(3_000, seed=len(recognizer.name)) + _blocks(500, seed=3)
    texts += list(mixed_corpus(400, seed=5))
    found = 0
    for text in texts:
        split = list(recognizer.find(text))
        assert split == list(whole.find(text)), text
        found += bool(split)
    assert found > 40  # the comparison saw matches, tails included, not only misses


def test_a_tail_extends_the_match_over_unit_and_town() -> None:
    (us,) = (r for r in ADDRESSES if r.name == "street_address_us")
    text = "ship to 1600 Pennsylvania Avenue NW, Apt 4B, Springfield, IL 62704 today"
    assert [text[f.start : f.end] for f in us.find(text)] == [
        "1600 Pennsylvania Avenue NW, Apt 4B, Springfield, IL 62704"
    ]
