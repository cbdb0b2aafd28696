"""Table tests for card numbers, IBANs and US bank numbers (synthetic values only)."""

from __future__ import annotations

import random

import pytest

from recognizers.base import PatternRecognizer
from recognizers.finance import FINANCE_RECOGNIZERS, is_iban, luhn_ok
from tests.unit.recognizers import tables


def found(text: str) -> list[tuple[str, str]]:
    """(entity type, exact value) per span the finance recognizers report."""
    return tables.found(FINANCE_RECOGNIZERS, text)


def luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    """A Luhn-valid number: `prefix`, random filler, then the one check digit that fits."""
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    return next(body + d for d in "0123456789" if luhn_ok(body + d))


def luhn_break(number: str) -> str:
    """The same number with a wrong check digit."""
    return number[:-1] + str((int(number[-1]) + 1) % 10)


_RNG = random.Random(20240115)
GENERATED_CARDS = [
    luhn_complete("4", 16, _RNG),  # Visa
    luhn_complete("4", 13, _RNG),  # Visa, old 13-digit
    luhn_complete("4", 19, _RNG),  # Visa, 19-digit
    luhn_complete("53", 16, _RNG),  # Mastercard
    luhn_complete("2720", 16, _RNG),  # Mastercard 2-series
    luhn_complete("37", 15, _RNG),  # Amex
    luhn_complete("6011", 16, _RNG),  # Discover
    luhn_complete("65", 16, _RNG),  # Discover
    luhn_complete("3530", 16, _RNG),  # JCB
    luhn_complete("36", 14, _RNG),  # Diners Club
    luhn_complete("6759", 19, _RNG),  # Maestro
    luhn_complete("62", 19, _RNG),  # UnionPay
]


def grouped(number: str, separator: str) -> str:
    if len(number) == 15:  # Amex prints 4-6-5
        return separator.join((number[:4], number[4:10], number[10:]))
    return separator.join(number[i : i + 4] for i in range(0, len(number), 4))


CARD_HITS = [
    ("card 4111 1111 1111 1111 exp 12/27", [("CREDIT_CARD", "4111 1111 1111 1111")]),
    ("4111-1111-1111-1111", [("CREDIT_CARD", "4111-1111-1111-1111")]),
    ("pan=4111111111111111&cvv=123", [("CREDIT_CARD", "4111111111111111")]),
    ('{"card_number": "5555555555554444"}', [("CREDIT_CARD", "5555555555554444")]),
    ("Amex 3782 822463 10005 on file", [("CREDIT_CARD", "3782 822463 10005")]),
    ("diners 3056 930902 5904", [("CREDIT_CARD", "3056 930902 5904")]),
    ("paid with 6011.1111.1111.1117.", [("CREDIT_CARD", "6011.1111.1111.1117")]),
    ("JCB 3530111333300000 declined", [("CREDIT_CARD", "3530111333300000")]),
    ("4111 1111 1111 1111 12/27", [("CREDIT_CARD", "4111 1111 1111 1111")]),
    ("charged 4012888888881881, then 4222222222222", [
        ("CREDIT_CARD", "4012888888881881"),
        ("CREDIT_CARD", "4222222222222"),
    ]),
    # Behind a card word: any Luhn-valid 12-19 digits, including 12-digit Maestro numbers.
    ("my card is 501800000009", [("CREDIT_CARD", "501800000009")]),
    ("GET /api/cards/4111111111111111 HTTP/1.1", [("CREDIT_CARD", "4111111111111111")]),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), CARD_HITS)
def test_card_numbers_are_found(text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize("number", GENERATED_CARDS)
@pytest.mark.parametrize("separator", ["", " ", "-"])
def test_generated_cards_are_found_in_every_grouping(number: str, separator: str) -> None:
    value = grouped(number, separator)
    assert found(f"charged card {value} today") == [("CREDIT_CARD", value)]
    assert found(f"x {value}\n") == [("CREDIT_CARD", value)]


@pytest.mark.parametrize("number", GENERATED_CARDS)
def test_a_wrong_check_digit_is_never_a_card(number: str) -> None:
    assert found(f"card {luhn_break(number)}") == []


CARD_NEAR_MISSES = [
    "4111 1111 1111 1112",  # Luhn fails
    "4111 1111-1111 1111",  # mixed separators: two numbers, not one card
    "ts=1700000000000 epoch millis",
    "offset=1700000000000123",
    "blk_-1608999687919862906 replicated",
    "id 550e8400-e29b-41d4-a716-446655440000",
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "2024-01-15T10:22:33.123Z took 1234 ms pid=12345",
    '"GET /index.html HTTP/1.1" 200 1532',
    "order 1234567890123456 shipped",  # Luhn fails
    "trace 00000000000000000000",
    "0000 0000 0000 0000",
    "4111111111111111.5",  # a decimal, not a card
    "v4111.1111.1111.1111",
    "https://chromestatus.com/feature/5068609911521280",
    "build 4111111111111111x",
]


@pytest.mark.parametrize("text", CARD_NEAR_MISSES)
def test_card_near_misses_are_ignored(text: str) -> None:
    assert [f for f in found(text) if f[0] == "CREDIT_CARD"] == []


IBAN_HITS = [
    ("IBAN DE89 3704 0044 0532 0130 00", [("IBAN_CODE", "DE89 3704 0044 0532 0130 00")]),
    ("to DE89370400440532013000.", [("IBAN_CODE", "DE89370400440532013000")]),
    ("GB82 WEST 1234 5698 7654 32 (Barclays)", [("IBAN_CODE", "GB82 WEST 1234 5698 7654 32")]),
    ("FR14 2004 1010 0505 0001 3M02 606", [("IBAN_CODE", "FR14 2004 1010 0505 0001 3M02 606")]),
    ("acct=NL91ABNA0417164300;", [("IBAN_CODE", "NL91ABNA0417164300")]),
    # A spaced IBAN whose length is a multiple of four must not swallow the next word.
    ("BE68 5390 0754 7034 THEN more", [("IBAN_CODE", "BE68 5390 0754 7034")]),
    ("my iban is gb82west12345698765432", [("IBAN_CODE", "gb82west12345698765432")]),
    ("iban: ch93 0076 2011 6238 5295 7", [("IBAN_CODE", "ch93 0076 2011 6238 5295 7")]),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), IBAN_HITS)
def test_ibans_are_found(text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text) == expected


IBAN_NEAR_MISSES = [
    "DE89 3704 0044 0532 0130 01",  # check digits do not match
    "DE8937040044053201300",  # one character short for Germany
    "XX89370400440532013000",  # no such country
    "gb82west12345698765432",  # lower case without the word "iban"
    "DE89 3704 0044 0532 013000",  # grouping breaks mid-way
    "de89370400440532013000 is a hex-ish token",
    "GB82WEST12345698765432XYZ",
]


@pytest.mark.parametrize("text", IBAN_NEAR_MISSES)
def test_iban_near_misses_are_ignored(text: str) -> None:
    assert [f for f in found(text) if f[0] == "IBAN_CODE"] == []


def test_iban_validator_rejects_mixed_grouping() -> None:
    assert is_iban("DE89 3704 0044 0532 0130 00")
    assert not is_iban("DE89 37040044 0532 0130 00")


BANK_HITS = [
    ("ABA routing number: 021000021", [("ABA_ROUTING_NUMBER", "021000021")]),
    ("routing 011000015 acct", [("ABA_ROUTING_NUMBER", "011000015")]),
    ("bank account number 000123456789", [("US_BANK_NUMBER", "000123456789")]),
    ("acct #12345678", [("US_BANK_NUMBER", "12345678")]),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), BANK_HITS)
def test_bank_numbers_are_found_next_to_their_label(
    text: str, expected: list[tuple[str, str]]
) -> None:
    assert found(text) == expected


BANK_NEAR_MISSES = [
    "021000021",  # a routing number needs its label
    "routing number 021000022",  # checksum fails
    "routing table has 123456789 entries",
    "account 12345",  # too short, and "account" alone is not a bank label
    "acct 11111111",  # filler
]


@pytest.mark.parametrize("text", BANK_NEAR_MISSES)
def test_bank_near_misses_are_ignored(text: str) -> None:
    assert found(text) == []


@pytest.mark.parametrize("recognizer", FINANCE_RECOGNIZERS, ids=lambda r: r.name)
def test_recognizers_skip_texts_without_digits(recognizer: PatternRecognizer) -> None:
    assert recognizer.needs_digit
    assert recognizer.scan("no digits here at all, card iban routing") == []
