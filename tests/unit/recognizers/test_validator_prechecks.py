"""The validators' pre-checks (skip an RE2 call that cannot match, sum Luhn digits in C) decide
exactly as the plain versions did: both run here on a table of edge cases and on random strings
of the characters these validators care about."""

from __future__ import annotations

import random

import pytest
import re2

from recognizers import contact, finance

_DIGITS = "0123456789"


def _reference_luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _reference_card_digits(value: str) -> str | None:
    separators = {c for c in value if not c.isdigit()}
    if len(separators) > 1:
        return None
    return "".join(c for c in value if c.isdigit())


def _reference_issuer(digits: str) -> bool:
    for low, high, lengths in finance._IIN_RANGES:
        width = len(str(low))
        if low <= int(digits[:width]) <= high and len(digits) in lengths:
            return True
    return False


def _reference_core(value: str) -> str:
    return str(contact._EXTENSION_SPLIT.sub("", value))


def _reference_retina(label: str) -> bool:
    return bool(contact._RETINA_SUFFIX.fullmatch(label))


def _reference_not_a_phone_shape(core: str, digits: str) -> bool:
    match = contact._DATE_LIKE.match(core)
    is_date = False
    if match is not None and match.group(2) == match.group(4):
        first, second, third = (int(match.group(i)) for i in (1, 3, 5))
        if len(match.group(1)) == 4:
            is_date = 1900 <= first <= 2099 and 1 <= second <= 12 and 1 <= third <= 31
        elif len(match.group(5)) in (2, 4) and len(match.group(1)) <= 2:
            is_date = (1 <= first <= 31 and 1 <= second <= 12) or (
                1 <= first <= 12 and 1 <= second <= 31
            )
    if is_date or contact._DOTTED_QUAD.fullmatch(core):
        return True
    if core.count(".") == 1 and not any(c in core for c in " -()"):
        return True
    return len(set(digits)) <= 1


def _random_values(alphabet: str, count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 22))) for _ in range(count)]


EDGE_CASES = [
    "", "x", "X", "4111 1111 1111 1111", "4111-1111-1111-1111", "4111.1111 1111.1111",
    "378282246310005", "5555555555554444", "0000000000000", "6011000990139424",
    "+44 20 7946 0958", "+44 20 7946 0958 x123", "+1 (555) 123-4567 ext. 89",
    "555-123-4567 Extension 12", "555-123-4567 EXT 7", "2024-01-15", "15.01.2024 10",
    "01.12.20.24.55", "10.1.2.3", "123-45-6789", "02110-1301", "+35236450.6", "0487 98 11 92",
    "(08) 8747 6301", "٣٣٣٣٣٣٣٣٣٣٣٣٣", "４１１１１１１１１１１１１１１１", "2x", "1.5x", "2X", "x2", "icon",
]  # fmt: skip
CARD_VALUES = EDGE_CASES + _random_values(_DIGITS * 6 + " -.٣", 3000, 1)
PHONE_VALUES = EDGE_CASES + _random_values(_DIGITS * 4 + " -./()+xXet", 4000, 2)


@pytest.mark.parametrize("value", CARD_VALUES[:40])
def test_card_digits_and_luhn_on_edge_cases(value: str) -> None:
    assert finance._card_digits(value) == _reference_card_digits(value)
    digits = "".join(c for c in value if c.isdigit())
    assert finance.luhn_ok(digits) == _reference_luhn(digits)


def test_card_validators_decide_as_before_on_random_candidates() -> None:
    accepted = 0
    for value in CARD_VALUES:
        digits = _reference_card_digits(value)
        assert finance._card_digits(value) == digits
        assert finance.luhn_ok(value) == _reference_luhn(value)
        if digits and digits.isascii() and len(digits) >= 4:
            assert finance._issuer_accepts(digits) == _reference_issuer(digits)
            accepted += finance._issuer_accepts(digits)
    assert accepted > 100  # the random set reaches the accepting rows, not only rejections


def test_phone_pre_checks_decide_as_the_plain_re2_calls() -> None:
    for value in PHONE_VALUES:
        core = _reference_core(value)
        digits = "".join(c for c in core if c.isdigit())
        assert contact._core_and_digits(value) == (core, digits)
        assert contact._not_a_phone_shape(core, digits) == _reference_not_a_phone_shape(
            core, digits
        )
        ssn = bool(contact._SSN_SHAPE.fullmatch(core) or contact._ZIP_PLUS_4.fullmatch(core))
        guarded = (len(core) == 11 and contact._SSN_SHAPE.fullmatch(core)) or (
            len(core) == 10 and contact._ZIP_PLUS_4.fullmatch(core)
        )
        assert ssn == bool(guarded)


def test_extensions_and_dates_are_still_recognised() -> None:
    assert contact._core_and_digits("+1 (555) 123-4567 ext. 89")[0] == "+1 (555) 123-4567"
    assert contact._core_and_digits("555-123-4567 X12")[0] == "555-123-4567"
    assert contact._is_date("2024-01-15")
    assert not contact._is_date("20240115")
    assert not contact.is_strong_phone("123-45-6789")


@pytest.mark.parametrize(
    "label", ["2x", "1.5x", "10x", "2X", "x", "", "2", "2.x", "png", "1.5xx", "١x"]
)
def test_retina_pre_check(label: str) -> None:
    assert contact._retina_suffix(label) == _reference_retina(label)


def test_email_validator_on_asset_names_and_addresses() -> None:
    assert not contact.is_email("icon@2x.png")
    assert not contact.is_email("logo@1.5x.webp")
    assert not contact.is_email("sprite@2x.example")
    assert contact.is_email("jane.roe@example.com")
    assert contact.is_email("ops@2xample.com")


def test_re2_digit_class_is_ascii_only() -> None:
    """The pre-checks assume RE2's `\\d` is [0-9], as documented."""
    assert re2.fullmatch(r"\d", "٣") is None
    assert re2.fullmatch(r"\d", "7") is not None
