from __future__ import annotations

import pytest

from scrubber.operators import (
    PLACEHOLDER_PATTERN,
    GeneralizeOp,
    HashOp,
    KeepOp,
    MaskOp,
    RedactOp,
    ReplaceOp,
    TokenOp,
    build_transform,
    token_for,
)

KEYS = {"default": b"a" * 32, "other": b"b" * 32}


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        (RedactOp(type="redact"), "jane@example.com", "[REDACTED]"),
        (ReplaceOp(type="replace"), "jane@example.com", "<EMAIL_ADDRESS>"),
        (ReplaceOp(type="replace", new_value="x"), "jane@example.com", "x"),
        (MaskOp(type="mask"), "4111111111111111", "************1111"),
        (MaskOp(type="mask", keep_last=0, char="#"), "abc", "###"),
        (MaskOp(type="mask", keep_last=4), "abc", "**c"),  # never reveals half of a short value
        (KeepOp(type="keep"), "jane@example.com", "jane@example.com"),
    ],
)
def test_unkeyed_operators(op: object, value: str, expected: str) -> None:
    transform = build_transform(op, KEYS)  # type: ignore[arg-type]
    assert transform(value, "EMAIL_ADDRESS") == expected


def test_token_is_deterministic_per_key_and_type() -> None:
    transform = build_transform(TokenOp(type="token"), KEYS)
    token = transform("Maria Garcia", "PERSON")
    assert token == transform("Maria Garcia", "PERSON")
    assert token.startswith("<PERSON_") and len(token) == len("<PERSON_>") + 8
    assert token != transform("Maria Garcia", "LOCATION").replace("LOCATION", "PERSON")
    assert token != build_transform(TokenOp(type="token", key="other"), KEYS)(
        "Maria Garcia", "PERSON"
    )
    assert token == token_for(KEYS["default"], "PERSON", "Maria Garcia")
    assert PLACEHOLDER_PATTERN.fullmatch(token)


def test_hash_is_keyed_hmac() -> None:
    a = build_transform(HashOp(type="hash"), KEYS)("secret", "SECRET")
    b = build_transform(HashOp(type="hash", key="other"), KEYS)("secret", "SECRET")
    assert len(a) == 16 and a != b
    assert all(c in "0123456789abcdef" for c in a)


@pytest.mark.parametrize(
    ("op", "value", "entity_type", "expected"),
    [
        (GeneralizeOp(type="generalize"), "34", "AGE", "30-39"),
        (GeneralizeOp(type="generalize"), "7", "AGE", "0-9"),
        (GeneralizeOp(type="generalize"), "89", "AGE", "80-89"),
        (GeneralizeOp(type="generalize"), "90", "AGE", "90+"),
        (GeneralizeOp(type="generalize"), "104", "AGE", "90+"),
        (GeneralizeOp(type="generalize", band=5, top=80), "77", "AGE", "75-79"),
        (GeneralizeOp(type="generalize", band=20, top=90), "85", "AGE", "80-89"),
        (GeneralizeOp(type="generalize"), "1985-04-12", "DATE_OF_BIRTH", "1985"),
        (GeneralizeOp(type="generalize"), "12/04/1985", "DATE_OF_BIRTH", "1985"),
        (GeneralizeOp(type="generalize"), "April 12, 1985", "DATE_OF_BIRTH", "1985"),
        (GeneralizeOp(type="generalize"), "94107", "POSTAL_CODE", "941**"),
        (GeneralizeOp(type="generalize"), "94107-1234", "POSTAL_CODE", "941**-****"),
        (GeneralizeOp(type="generalize", keep_prefix=2), "SW1A 1AA", "POSTAL_CODE", "SW** ***"),
        # Nothing to coarsen: the type label, never the value or a piece of it.
        (GeneralizeOp(type="generalize"), "Maria Garcia", "PERSON", "<PERSON>"),
        (GeneralizeOp(type="generalize", keep_prefix=0), "94107", "POSTAL_CODE", "<POSTAL_CODE>"),
        (GeneralizeOp(type="generalize"), "9410", "POSTAL_CODE", "941*"),
    ],
)
def test_generalize_coarsens_by_shape(
    op: GeneralizeOp, value: str, entity_type: str, expected: str
) -> None:
    assert build_transform(op, KEYS)(value, entity_type) == expected
