"""Table tests for wallets, VINs, IMEIs, coordinates, DEA and medical record numbers.

Every value is synthetic: the helpers below build addresses and numbers from made-up payloads and
compute their checksums independently of the module under test (so a wrong validator fails).
"""

from __future__ import annotations

import hashlib

import pytest

from recognizers.assets import (
    ASSET_RECOGNIZERS,
    base58_decode,
    dea_check_digit,
    is_bech32_address,
    is_bitcoin_base58_address,
    is_checked_vin,
    is_coordinate_pair,
    is_dea_number,
    is_eth_address,
    is_imei,
    is_latitude,
    is_longitude,
    is_medical_record_number,
    is_vin_shape,
    vin_check_digit,
)
from recognizers.finance import luhn_ok
from tests.unit.recognizers import tables


def found(text: str) -> list[tuple[str, str]]:
    """(entity type, exact value) per span the asset recognizers report.

    Overlapping spans of one type are united, as the engine's merge does: a keyed `lng:` inside a
    written pair is part of the pair.
    """
    return tables.found(ASSET_RECOGNIZERS, text, outermost=True)


# ---------------------------------------------------------------------------------------------
# Synthetic value builders (independent implementations of each specification)
# ---------------------------------------------------------------------------------------------

BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def base58check(version: int, payload: bytes) -> str:
    body = bytes([version]) + payload
    raw = body + hashlib.sha256(hashlib.sha256(body).digest()).digest()[:4]
    number, out = int.from_bytes(raw, "big"), ""
    while number:
        number, digit = divmod(number, 58)
        out = BASE58[digit] + out
    return "1" * (len(raw) - len(raw.lstrip(b"\x00"))) + out


BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def bech32_checksum(values: list[int], constant: int) -> list[int]:
    generators = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
    check = 1
    for value in [*values, 0, 0, 0, 0, 0, 0]:
        top, check = check >> 25, ((check & 0x1FFFFFF) << 5) ^ value
        for i, generator in enumerate(generators):
            check ^= generator if top >> i & 1 else 0
    check ^= constant
    return [(check >> 5 * (5 - i)) & 31 for i in range(6)]


def segwit_address(version: int, program: bytes, constant: int | None = None) -> str:
    bits = "".join(f"{byte:08b}" for byte in program)
    bits += "0" * (-len(bits) % 5)
    data = [version] + [int(bits[i : i + 5], 2) for i in range(0, len(bits), 5)]
    if constant is None:
        constant = 1 if version == 0 else 0x2BC830A3
    hrp = [ord(c) >> 5 for c in "bc"] + [0] + [ord(c) & 31 for c in "bc"]
    return "bc1" + "".join(BECH32[v] for v in data + bech32_checksum(hrp + data, constant))


VIN_VALUES = {
    **{c: i + 1 for i, c in enumerate("ABCDEFGH")},
    **{c: i + 1 for i, c in enumerate("JKLMN")},
    "P": 7,
    "R": 9,
    **{c: i + 2 for i, c in enumerate("STUVWXYZ")},
    **{str(d): d for d in range(10)},
}


def with_vin_check(vin: str) -> str:
    """`vin` with position 9 replaced by its check digit."""
    weights = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]
    remainder = sum(VIN_VALUES[c] * w for c, w in zip(vin, weights, strict=True)) % 11
    return vin[:8] + ("X" if remainder == 10 else str(remainder)) + vin[9:]


def with_luhn(body: str) -> str:
    return next(body + d for d in "0123456789" if luhn_ok(body + d))


def with_dea_check(letters: str, six_digits: str) -> str:
    d = [int(c) for c in six_digits]
    return f"{letters}{six_digits}{(d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10}"


def break_last(value: str) -> str:
    return value[:-1] + ("1" if value[-1] != "1" else "2")


P2PKH = base58check(0x00, hashlib.sha256(b"synthetic wallet one").digest()[:20])
P2SH = base58check(0x05, hashlib.sha256(b"synthetic script two").digest()[:20])
TESTNET = base58check(0x6F, hashlib.sha256(b"synthetic testnet").digest()[:20])
P2WPKH = segwit_address(0, hashlib.sha256(b"synthetic key hash").digest()[:20])
P2WSH = segwit_address(0, hashlib.sha256(b"synthetic script hash").digest())
P2TR = segwit_address(1, hashlib.sha256(b"synthetic taproot").digest())
V0_WITH_BECH32M = segwit_address(0, bytes(range(1, 21)), constant=0x2BC830A3)
V1_WITH_BECH32 = segwit_address(1, bytes(range(1, 33)), constant=1)
ETH = "0x" + hashlib.sha256(b"synthetic eth").hexdigest()[:40]
ETH_MIXED = "0x" + "".join(
    c.upper() if i % 3 == 0 else c for i, c in enumerate(ETH[2:])
)  # case is not checked (no Keccak), but must be accepted
VIN_NA = with_vin_check("1M8GDM9A0KP042788")
VIN_NA_2 = with_vin_check("2T3RFREV0JW123456")
VIN_EU = "WVWZZZ3CZWE123456"  # European: position 9 is not a check digit
IMEI = with_luhn("35209900176148")
IMEI_2 = with_luhn("49015420323751")
DEA = with_dea_check("BJ", "613452")
DEA_2 = with_dea_check("MX", "204871")


def test_builders_make_what_the_specifications_say() -> None:
    assert P2PKH.startswith("1") and P2SH.startswith("3") and TESTNET[0] in "mn"
    assert len(P2WPKH) == 42 and len(P2WSH) == 62 and P2TR.startswith("bc1p")
    # BIP-173's own example address (a test vector, not anyone's wallet).
    assert is_bech32_address("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4")


# ---------------------------------------------------------------------------------------------
# CRYPTO
# ---------------------------------------------------------------------------------------------

CRYPTO_HITS = [
    (f"please send to {P2PKH} today", [P2PKH]),
    (f"payout address={P2SH}", [P2SH]),
    (f"bitcoin:{P2PKH}?amount=0.01", [P2PKH]),
    (f"https://explorer.example/address/{P2SH}", [P2SH]),
    (f"segwit {P2WPKH}", [P2WPKH]),
    (f"multisig: {P2WSH}.", [P2WSH]),
    (f"taproot={P2TR}", [P2TR]),
    (f"UPPER {P2WPKH.upper()}", [P2WPKH.upper()]),
    (f"wallet: {ETH}", [ETH]),
    (f"Send 0.5 ETH to {ETH_MIXED} now", [ETH_MIXED]),
    (f'{{"from_address": "{ETH}", "value": 3}}', [ETH]),
    (f"walletAddress={ETH}", [ETH]),
    (f"payment sent to {ETH}", [ETH]),
]


@pytest.mark.parametrize(("text", "expected"), CRYPTO_HITS)
def test_crypto_addresses_are_found(text: str, expected: list[str]) -> None:
    assert found(text) == [("CRYPTO", value) for value in expected]


CRYPTO_NEAR_MISSES = [
    f"send to {break_last(P2PKH)}",  # checksum broken
    f"send to {P2PKH[:10]}{P2PKH[11:]}",  # a character dropped
    f"to {TESTNET}",  # testnet is not a mainnet address
    f"x{P2PKH}",  # inside a longer token
    f"{P2WPKH[:-1]}{'q' if P2WPKH[-1] != 'q' else 'p'}",  # bech32 checksum broken
    f"{P2WPKH[:10]}{P2WPKH[10:].upper()}",  # mixed case
    V0_WITH_BECH32M,  # witness v0 must use bech32
    V1_WITH_BECH32,  # witness v1 must use bech32m
    "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx",  # testnet prefix
    f"commit {ETH}",  # 0x + 40 hex without a wallet word (could be any digest)
    f"eth0: tx queue {ETH}",  # a network interface, not ether
    "wallet 0x" + "0" * 40,  # the zero address
    "wallet 0x" + "ab" * 32,  # 64 hex: a transaction hash, not an address
    "sha1=356a192b7913b04c54574d18c28d46e6395428ab",
    "request 1b4e28ba2fa1d2d3c2b1a9f8e7d6c5b4 done",  # hex id starting with 1
    "trace_id=3a9f5c1d7e2b4a6c8d0e1f2a3b4c5d6e",
    "uuid 123e4567-e89b-12d3-a456-426614174000",
    "blk_3587508140051953248 replicated",
]


@pytest.mark.parametrize("text", CRYPTO_NEAR_MISSES)
def test_crypto_near_misses_are_ignored(text: str) -> None:
    assert found(text) == []


def test_crypto_validators() -> None:
    assert is_bitcoin_base58_address(P2PKH) and is_bitcoin_base58_address(P2SH)
    assert not is_bitcoin_base58_address(break_last(P2PKH))
    assert not is_bitcoin_base58_address("3" + P2PKH[1:])  # version byte disagrees
    assert base58_decode("11") == b"\x00\x00" and base58_decode("0OIl") is None
    assert is_bech32_address(P2WPKH) and is_bech32_address(P2WSH) and is_bech32_address(P2TR)
    assert not is_bech32_address(V0_WITH_BECH32M) and not is_bech32_address(V1_WITH_BECH32)
    assert is_eth_address(ETH) and not is_eth_address("0x" + "0" * 40)


# ---------------------------------------------------------------------------------------------
# VEHICLE_VIN
# ---------------------------------------------------------------------------------------------

VIN_HITS = [
    (f"car {VIN_NA} registered", [VIN_NA]),
    (f"{VIN_NA_2}", [VIN_NA_2]),
    (f"VIN: {VIN_EU}", [VIN_EU]),
    (f"vehicle id {VIN_EU.lower()}", [VIN_EU.lower()]),
    (f"Chassis No. {VIN_EU}", [VIN_EU]),
    (f'{{"vin": "{VIN_NA}"}}', [VIN_NA]),
]


@pytest.mark.parametrize(("text", "expected"), VIN_HITS)
def test_vins_are_found(text: str, expected: list[str]) -> None:
    assert found(text) == [("VEHICLE_VIN", value) for value in expected]


ALL_HEX_VIN = with_vin_check("1FADB3E2DFA123456")

VIN_NEAR_MISSES = [
    f"car {VIN_NA[:8]}{'1' if VIN_NA[8] != '1' else '2'}{VIN_NA[9:]}",  # wrong check digit
    f"build {VIN_EU}",  # no check digit and no vehicle word
    f"id {ALL_HEX_VIN}",  # pure hex: an id, even with a fitting check digit
    "VIN: 12345678901234567",  # digits only
    "VIN: ABCDEFGHJKLMNPRST",  # letters only
    "VIN: 1M8GDM9AOKP042788",  # O is never used in a VIN
    f"VIN: {VIN_NA}8",  # 18 characters
    f"car {with_vin_check('1M8GDM9A0UP042788')}",  # model year U does not exist
    "image sha256:9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08",
]


@pytest.mark.parametrize("text", VIN_NEAR_MISSES)
def test_vin_near_misses_are_ignored(text: str) -> None:
    assert found(text) == []


def test_vin_validators() -> None:
    assert vin_check_digit(VIN_NA) == VIN_NA[8]
    assert vin_check_digit("1M8GDM9A0KP042788") == with_vin_check("1M8GDM9A0KP042788")[8]
    assert is_checked_vin(VIN_NA) and not is_checked_vin(VIN_EU)
    assert ALL_HEX_VIN[8].isdigit() and not is_checked_vin(ALL_HEX_VIN)
    assert is_vin_shape(VIN_EU) and not is_vin_shape("AAAAAAAAAAAAAAAAA")


# ---------------------------------------------------------------------------------------------
# IMEI
# ---------------------------------------------------------------------------------------------


def dashed_imei(imei: str, separator: str) -> str:
    return separator.join((imei[:2], imei[2:8], imei[8:14], imei[14]))


IMEI_HITS = [
    (f"IMEI: {IMEI}", [IMEI]),
    (f"device imei={dashed_imei(IMEI_2, '-')} registered", [dashed_imei(IMEI_2, "-")]),
    (f"IMEI 1: {dashed_imei(IMEI, ' ')}", [dashed_imei(IMEI, " ")]),
    (f'{{"imei": "{IMEI_2}"}}', [IMEI_2]),
    (f"imei number is {IMEI}", [IMEI]),
]


@pytest.mark.parametrize(("text", "expected"), IMEI_HITS)
def test_imeis_are_found(text: str, expected: list[str]) -> None:
    assert found(text) == [("IMEI", value) for value in expected]


IMEI_NEAR_MISSES = [
    f"IMEI: {break_last(IMEI)}",  # Luhn fails
    f"session {IMEI} closed",  # 15 digits without the word
    f"IMEI: {IMEI}0",  # 16 digits (an IMEISV, or something else)
    f"IMEI: {IMEI[:2]}-{IMEI[2:8]} {IMEI[8:14]}-{IMEI[14]}",  # mixed separators
    "IMEI: 000000000000000",
]


@pytest.mark.parametrize("text", IMEI_NEAR_MISSES)
def test_imei_near_misses_are_ignored(text: str) -> None:
    assert found(text) == []


def test_imei_validator() -> None:
    assert is_imei(IMEI) and is_imei(dashed_imei(IMEI, "-"))
    assert not is_imei(break_last(IMEI)) and not is_imei(IMEI[:-1])


# ---------------------------------------------------------------------------------------------
# COORDINATES
# ---------------------------------------------------------------------------------------------

COORDINATE_HITS = [
    ("gps: 51.50740, -0.12780", ["51.50740, -0.12780"]),
    ("lat=51.5074 lon=-0.1278", ["51.5074", "-0.1278"]),
    ('{"lat": 51.5074, "lng": -0.1278}', ["51.5074", "-0.1278"]),
    ("open geo:51.5074,-0.1278 in maps", ["51.5074,-0.1278"]),
    ("location (48.8584 N, 2.2945 E)", ["48.8584 N, 2.2945 E"]),
    ('"coordinates": [-122.4194, 37.7749]', ["-122.4194, 37.7749"]),  # GeoJSON order
    ("latitude: -33.8688, longitude: 151.2093", ["-33.8688", "151.2093"]),
    ("deviceLat=40.7128 deviceLng=-74.0060", ["40.7128", "-74.0060"]),
    ("user_lng: 151.2093", ["151.2093"]),
    ("current position is 40.7128, -74.0060", ["40.7128, -74.0060"]),
    ("lat,lng: 35.6895, 139.6917", ["35.6895, 139.6917"]),
    ("<lat>-1.2921</lat><lon>36.8219</lon>", ["-1.2921", "36.8219"]),
    ("Coordinates: 59.3293 18.0686", ["59.3293 18.0686"]),
]


@pytest.mark.parametrize(("text", "expected"), COORDINATE_HITS)
def test_coordinates_are_found(text: str, expected: list[str]) -> None:
    assert found(text) == [("COORDINATES", value) for value in expected]


COORDINATE_NEAR_MISSES = [
    "lat=95.1234",  # beyond the pole
    "lon=181.0000",
    "latency=51.5074 ms",
    "flat=12.3456",
    "load 51.50740, -0.12780",  # no location word
    "gps: 51.5, -0.12",  # too few decimals
    "location: 0.0000, 0.0000",  # an unset fix
    "position 0.1234, 0.5678",  # ratios (and open sea off Africa)
    "position 123.45678, 134.5678",  # neither is a latitude
    "geo: 10.0.0.1",
    "position=1234.5678",
    "lat=51.5074s",
]


@pytest.mark.parametrize("text", COORDINATE_NEAR_MISSES)
def test_coordinate_near_misses_are_ignored(text: str) -> None:
    assert found(text) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("51.5074, -0.1278", True),
        ("-122.4194, 37.7749", True),  # longitude first
        ("48.8584 N, 2.2945 E", True),
        ("2.2945 E, 48.8584 N", True),
        ("120.1234 N, 2.2945 E", False),  # N marks the latitude, and 120 is not one
        ("123.4567, 134.5678", False),
        ("0.0000, 0.0000", False),
        ("0.5000, -0.2500", False),
        ("0.5000, -1.2500", True),
    ],
)
def test_is_coordinate_pair(value: str, expected: bool) -> None:
    assert is_coordinate_pair(value) is expected


def test_coordinate_range_validators() -> None:
    assert is_latitude("-90.0000") and not is_latitude("90.0001")
    assert is_longitude("-180.0000") and not is_longitude("180.0001")


# ---------------------------------------------------------------------------------------------
# MEDICAL_LICENSE (DEA) and MEDICAL_RECORD_NUMBER
# ---------------------------------------------------------------------------------------------

MEDICAL_HITS = [
    (f"prescriber {DEA} signed", [("MEDICAL_LICENSE", DEA)]),
    (f"DEA#: {DEA_2}", [("MEDICAL_LICENSE", DEA_2)]),
    (f"dea number {DEA.lower()}", [("MEDICAL_LICENSE", DEA.lower())]),
    ("MRN: 00123456", [("MEDICAL_RECORD_NUMBER", "00123456")]),
    ("medical record number 4455667A", [("MEDICAL_RECORD_NUMBER", "4455667A")]),
    ("Patient ID: A12345678", [("MEDICAL_RECORD_NUMBER", "A12345678")]),
    ('{"mrn": "77881234"}', [("MEDICAL_RECORD_NUMBER", "77881234")]),
    ("medical record #: 987654", [("MEDICAL_RECORD_NUMBER", "987654")]),
    ("patient_id=HN20394857", [("MEDICAL_RECORD_NUMBER", "HN20394857")]),
]


@pytest.mark.parametrize(("text", "expected"), MEDICAL_HITS)
def test_medical_identifiers_are_found(text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text) == expected


MEDICAL_NEAR_MISSES = [
    f"prescriber {break_last(DEA)}",  # DEA checksum fails
    f"prescriber {DEA.lower()}",  # lower case needs the DEA label
    f"code Q{DEA[1:]}",  # Q is no registrant type
    f"ref X{DEA}",  # inside a longer token
    f"{DEA}8",  # eight digits
    "prescriber AB0000000",
    "MRN: 12345",  # too short
    "patient id=3f2a9c1d-0b1e-4c2d-9e8f-123456789abc",  # a UUID
    "patient id: ABCDEF12",  # too few digits
    "MRN 1234567890123",  # too long
    "patient: John, room 12345678",
    "mrn: 11111111",
]


@pytest.mark.parametrize("text", MEDICAL_NEAR_MISSES)
def test_medical_near_misses_are_ignored(text: str) -> None:
    assert found(text) == []


def test_medical_validators() -> None:
    assert dea_check_digit(DEA[2:]) == DEA[-1]
    assert is_dea_number(DEA) and not is_dea_number(break_last(DEA))
    assert is_medical_record_number("A12345678") and not is_medical_record_number("ABC1234")


# ---------------------------------------------------------------------------------------------
# The module as a whole
# ---------------------------------------------------------------------------------------------


def test_every_recognizer_has_a_cheap_precheck() -> None:
    for recognizer in ASSET_RECOGNIZERS:
        assert recognizer.triggers or recognizer.needs_digit, recognizer.name


def test_recognizer_names_are_unique() -> None:
    names = [r.name for r in ASSET_RECOGNIZERS]
    assert len(names) == len(set(names))
