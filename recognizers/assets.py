"""Personal data that is neither a name nor a contact detail: wallets, vehicles, devices, places
and medical identifiers.

- CRYPTO: Bitcoin base58check addresses (`1…`/`3…`, checksum verified), bech32/bech32m `bc1…`
  addresses (checksum and witness program verified), and Ethereum `0x` + 40 hex. The EIP-55
  mixed-case checksum needs Keccak-256, which hashlib lacks (its sha3_256 pads differently) and no
  Keccak package is installed, so an Ethereum address is taken only after a word such as
  `wallet`, `eth`, `ether`, `address` or `send to`; a checksum-cased address alone is left alone.
- VEHICLE_VIN: 17 characters without I, O, Q. Alone it needs the North-American check digit
  (position 9, 49 CFR 565); after `VIN`, `vehicle` or `chassis` any well-shaped VIN counts
  (European VINs carry no check digit).
- IMEI: 15 Luhn-valid digits (or `35-209900-176148-1`) after the word `IMEI`.
- COORDINATES: latitude/longitude with 4+ decimals after a word such as `lat`, `gps`, `location`
  or `geo:`. A pair written as a pair (`51.50740, -0.12780`) is one finding; keyed values
  (`lat=51.5074 lon=-0.1278`, `"lat": 51.5074, "lng": -0.1278`) are one finding each. A pair
  may come in GeoJSON order (longitude first).
- MEDICAL_LICENSE: US DEA registration numbers (two letters, seven digits, DEA checksum).
- MEDICAL_RECORD_NUMBER: 6-12 letters and digits (5+ digits) after `MRN`, `medical record
  number` or `patient id`.

Left alone on purpose: hex digests, UUIDs, memory addresses and build ids (no checksum or label
makes them one of the above), numbers with fewer than 4 decimals (`load 51.5`), and a JSON
*number* field such as `"lat": 51.507412`: the engine scans JSON numbers only when they have 7+
digits, and then as the bare number without its key, so no pattern here can see the label.
Field-name hints are the place for those.
"""

from __future__ import annotations

import hashlib

import re2

from recognizers.base import PatternRecognizer, Validator
from recognizers.finance import luhn_ok

# Between a label and its value: `VIN: `, `IMEI no. `, `mrn is `, `"lat": "`. Lazy, so a sign
# before a coordinate stays with the number (`lat: -33.8688`).
_LABEL_GAP = r"[^\w\n]{0,6}?(?:(?:is|was|are|at|of|no|nr|number|num|#|id|code)[^\w\n]{1,4}?){0,2}?"
# After a value: the end, or a character that does not continue the token (`abc123-def`).
_VALUE_END = r"(?:$|[^\w-])"
# Before a value found without a label: it must not continue a longer token.
_VALUE_START = r"(?:^|[^A-Za-z0-9])"


def _word(*words: str) -> str:
    """Words as whole words or key parts (`lat=`, `user_lat`, `"lat"`, `deviceLat`), never as
    the inside of another word (`flat`, `plate`). The right edge is the caller's: what follows."""
    lower = "|".join(words)
    camel = "|".join(w[:1].upper() + w[1:] for w in words)
    return rf"(?:(?:^|[^A-Za-z])(?i:{lower})|[a-z](?:{camel}))"


def _labelled(
    name: str,
    entity_type: str,
    *,
    label: str,
    value: str,
    triggers: tuple[str, ...],
    validator: Validator,
    score: float,
) -> PatternRecognizer:
    """A value after its label; only the value (group 1) is reported."""
    return PatternRecognizer(
        name=name,
        entity_type=entity_type,
        pattern=rf"{label}{_LABEL_GAP}({value}){_VALUE_END}",
        score=score,
        value_group=1,
        triggers=triggers,
        needs_digit=True,
        validator=validator,
    )


def _not_filler(text: str) -> bool:
    """`000000000000000` or `0x0000…` satisfy checksums but hold no one's data."""
    return len(set(text)) > 2


# ---------------------------------------------------------------------------------------------
# Bitcoin base58check (P2PKH `1…`, P2SH `3…`)
# ---------------------------------------------------------------------------------------------

_BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BASE58_DIGIT = {char: index for index, char in enumerate(_BASE58_ALPHABET)}
_BITCOIN_VERSIONS = {"1": 0x00, "3": 0x05}  # leading character -> version byte


def base58_decode(text: str) -> bytes | None:
    """The bytes a base58 string encodes; each leading `1` is one leading zero byte."""
    number = 0
    for char in text:
        digit = _BASE58_DIGIT.get(char)
        if digit is None:
            return None
        number = number * 58 + digit
    zeros = len(text) - len(text.lstrip("1"))
    return b"\x00" * zeros + number.to_bytes((number.bit_length() + 7) // 8, "big")


def is_bitcoin_base58_address(value: str) -> bool:
    """A 25-byte payload whose version byte matches its first character and whose last four
    bytes are the first four of SHA-256(SHA-256(the rest))."""
    version = _BITCOIN_VERSIONS.get(value[:1])
    payload = base58_decode(value)
    if version is None or payload is None or len(payload) != 25 or payload[0] != version:
        return False
    body, checksum = payload[:-4], payload[-4:]
    return hashlib.sha256(hashlib.sha256(body).digest()).digest()[:4] == checksum


# ---------------------------------------------------------------------------------------------
# Bitcoin segwit addresses: bech32 (BIP-173, witness v0) and bech32m (BIP-350, v1+)
# ---------------------------------------------------------------------------------------------

_BECH32_ALPHABET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_DIGIT = {char: index for index, char in enumerate(_BECH32_ALPHABET)}
_BECH32_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
_BECH32_CONSTANT = 1
_BECH32M_CONSTANT = 0x2BC830A3


def _bech32_polymod(values: list[int]) -> int:
    """The BCH checksum residue over 5-bit values (BIP-173)."""
    residue = 1
    for value in values:
        top = residue >> 25
        residue = ((residue & 0x1FFFFFF) << 5) ^ value
        for bit, generator in enumerate(_BECH32_GENERATOR):
            if (top >> bit) & 1:
                residue ^= generator
    return residue


def _regroup_5_to_8_bits(values: list[int]) -> bytes | None:
    """5-bit groups to bytes; the padding left over must be under 5 bits and all zero."""
    accumulator, bits, out = 0, 0, bytearray()
    for value in values:
        accumulator = (accumulator << 5) | value
        bits += 5
        if bits >= 8:
            bits -= 8
            out.append((accumulator >> bits) & 0xFF)
    if bits >= 5 or accumulator & ((1 << bits) - 1):
        return None
    return bytes(out)


def is_bech32_address(value: str) -> bool:
    """A mainnet segwit address: one case, valid checksum (bech32 for witness version 0,
    bech32m for 1-16), and a 2-40 byte witness program (20 or 32 bytes for version 0)."""
    if value != value.lower() and value != value.upper():
        return False
    hrp, _, data_part = value.lower().rpartition("1")
    if hrp != "bc" or not 14 <= len(value) <= 90 or len(data_part) < 7:
        return False
    data = [_BECH32_DIGIT[c] for c in data_part if c in _BECH32_DIGIT]
    if len(data) != len(data_part):
        return False
    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    constant = _bech32_polymod(expanded + data)
    version, program = data[0], _regroup_5_to_8_bits(data[1:-6])
    if version > 16 or program is None or not 2 <= len(program) <= 40:
        return False
    if version == 0:
        return constant == _BECH32_CONSTANT and len(program) in (20, 32)
    return constant == _BECH32M_CONSTANT


# ---------------------------------------------------------------------------------------------
# Ethereum (context only: see the module docstring)
# ---------------------------------------------------------------------------------------------

_ETH_CONTEXT = (
    r"(?i:wallet|ether(?:eum)?|eth\b|eth_|address|addr\b|addr_|recipient"
    r"|sen[dt](?:ing)?[ \t]+to)"
)


def is_eth_address(value: str) -> bool:
    """`0x` + 40 hex that is not a filler such as the zero address."""
    return len(value) == 42 and _not_filler(value[2:].lower())


# ---------------------------------------------------------------------------------------------
# Vehicle identification numbers (ISO 3779; check digit per 49 CFR 565)
# ---------------------------------------------------------------------------------------------

_VIN_VALUE = r"[A-HJ-NPR-Z0-9]{17}"
# Transliteration: letters count 1-9 in runs; I, O and Q are never used (they look like 1 and 0).
_VIN_LETTER_VALUES = {
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_VIN_SHAPE = re2.compile(_VIN_VALUE)
_VIN_LABEL = (
    r"(?i:\b(?:vin|vehicle(?:[ _-]?(?:identification|id))?|chassis)"
    r"(?:[ _-]?(?:number|num|no\.?|nr|#|code))?)"
)
_HEX_DIGITS = frozenset("0123456789ABCDEF")


def vin_check_digit(vin: str) -> str:
    """The check digit position 9 of a North-American VIN must hold (`X` stands for 10)."""
    total = sum(
        (int(c) if c.isdigit() else _VIN_LETTER_VALUES[c]) * weight
        for c, weight in zip(vin, _VIN_WEIGHTS, strict=True)
    )
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def is_vin_shape(value: str) -> bool:
    """17 VIN characters with at least two letters and two digits."""
    vin = value.upper()
    letters = sum(c.isalpha() for c in vin)
    return (
        _VIN_SHAPE.fullmatch(vin) is not None
        and letters >= 2
        and len(vin) - letters >= 2
        and _not_filler(vin)
    )


def is_checked_vin(value: str) -> bool:
    """A VIN that proves itself: valid check digit, a model-year letter VINs use (never U, Z or
    0), and not pure hex (a 17-digit hex id passes the check digit one time in eleven)."""
    vin = value.upper()
    return (
        is_vin_shape(vin)
        and vin[9] not in "UZ0"
        and not set(vin) <= _HEX_DIGITS
        and vin_check_digit(vin) == vin[8]
    )


# ---------------------------------------------------------------------------------------------
# IMEI
# ---------------------------------------------------------------------------------------------


def is_imei(value: str) -> bool:
    """15 digits, one separator kind at most, Luhn-valid, not a filler."""
    separators = {c for c in value if not c.isdigit()}
    digits = "".join(c for c in value if c.isdigit())
    return len(separators) <= 1 and len(digits) == 15 and _not_filler(digits) and luhn_ok(digits)


# ---------------------------------------------------------------------------------------------
# Coordinates
# ---------------------------------------------------------------------------------------------

_DEGREES = r"[+-]?\d{1,3}\.\d{4,15}"
# `51.5074° N`: an optional degree sign and hemisphere after a number of a pair.
_HEMISPHERE = r"(?:[ \t]?°)?(?:[ \t]?[NSEW]\b)?"
_COORDINATE_PAIR = rf"{_DEGREES}{_HEMISPHERE}(?:[ \t]*[,;][ \t]*|[ \t]+){_DEGREES}{_HEMISPHERE}"
_COORDINATE_PART = re2.compile(r"([+-]?\d{1,3}\.\d+)[ \t]?°?[ \t]?([NSEW]?)")
_PAIR_WORDS = (
    "latitude", "longitude", "latlng", "latlon", "lat", "long", "lon", "lng", "coordinates",
    "coordinate", "coords", "coord", "gps", "location", "position", "geolocation", "geo",
)  # fmt: skip
_PAIR_TRIGGERS = ("lat", "lon", "lng", "coord", "gps", "location", "position", "geo")
# Separators between a key and its number (`=`, `: `, `": "`, `>`); never a sign.
_KEY_GAP = r"[^\w\n+-]{1,5}"


def _within(value: str, limit: float) -> bool:
    try:
        return abs(float(value)) <= limit
    except ValueError:
        return False


def is_latitude(value: str) -> bool:
    return _within(value, 90.0)


def is_longitude(value: str) -> bool:
    return _within(value, 180.0)


def is_coordinate_pair(value: str) -> bool:
    """Two numbers, one a latitude and the other a longitude: latitude first, or longitude first
    as in GeoJSON; with hemisphere letters, N/S marks the latitude. Not two numbers under 1
    (`0.1234, 0.5678` is a ratio or an unset fix; that square is open sea off Africa)."""
    parts = [(m.group(1), m.group(2)) for m in _COORDINATE_PART.finditer(value)]
    if len(parts) != 2 or all(abs(float(number)) < 1 for number, _ in parts):
        return False
    (first, first_hemisphere), (second, second_hemisphere) = parts
    if first_hemisphere or second_hemisphere:
        longitude_first = first_hemisphere in ("E", "W") or second_hemisphere in ("N", "S")
    else:
        longitude_first = not is_latitude(first)
    if longitude_first:
        first, second = second, first
    return is_latitude(first) and is_longitude(second)


def _keyed_coordinate(name: str, keys: tuple[str, ...], validator: Validator) -> PatternRecognizer:
    return PatternRecognizer(
        name=name,
        entity_type="COORDINATES",
        pattern=rf"{_word(*keys)}{_KEY_GAP}({_DEGREES})\b",
        score=0.75,
        value_group=1,
        triggers=tuple(k for k in keys if len(k) <= 3),
        needs_digit=True,
        validator=validator,
    )


# ---------------------------------------------------------------------------------------------
# Medical: DEA registration numbers and medical record numbers
# ---------------------------------------------------------------------------------------------

# First letter: the DEA registrant type (practitioner, mid-level, distributor, ...).
_DEA_VALUE = r"[ABCDEFGHJKLMPRSTUX][A-Z]\d{7}"
_DEA_SHAPE = re2.compile(_DEA_VALUE)
_DEA_LABEL = (
    r"(?i:\bdea(?:[ _-]?(?:registration|reg|license|licence))?"
    r"(?:[ _-]?(?:number|num|no\.?|nr|#))?)"
)


def dea_check_digit(digits: str) -> str:
    """The seventh digit: (1st + 3rd + 5th) + 2 * (2nd + 4th + 6th), last digit."""
    odd = sum(int(c) for c in digits[0:6:2])
    even = sum(int(c) for c in digits[1:6:2])
    return str((odd + 2 * even) % 10)


def is_dea_number(value: str) -> bool:
    code = value.upper()
    digits = code[2:]
    return (
        _DEA_SHAPE.fullmatch(code) is not None
        and _not_filler(digits)
        and dea_check_digit(digits) == digits[6]
    )


def is_medical_record_number(value: str) -> bool:
    """6-12 letters and digits, five of them digits at least, not a filler."""
    digits = sum(c.isdigit() for c in value)
    shaped = value.isascii() and value.isalnum() and 6 <= len(value) <= 12
    return shaped and digits >= 5 and _not_filler(value)


_MRN_LABEL = (
    r"(?i:\bmrn|\bmedical[ _-]?records?(?:[ _-]?(?:number|num|no\.?|nr|#|id))?"
    r"|\bpatient[ _-]?(?:id|identifier|number|no\.?|#))"
)

ASSET_RECOGNIZERS: tuple[PatternRecognizer, ...] = (
    PatternRecognizer(
        # The 32-bit checksum makes a chance match in log noise about one in four billion.
        name="bitcoin_base58_address",
        entity_type="CRYPTO",
        pattern=rf"{_VALUE_START}([13][{_BASE58_ALPHABET}]{{24,33}})\b",
        score=0.9,
        value_group=1,
        needs_digit=True,
        validator=is_bitcoin_base58_address,
    ),
    PatternRecognizer(
        name="bitcoin_bech32_address",
        entity_type="CRYPTO",
        pattern=rf"{_VALUE_START}((?i:bc1[{_BECH32_ALPHABET}]{{11,71}}))\b",
        score=0.9,
        value_group=1,
        triggers=("bc1",),
        validator=is_bech32_address,
    ),
    PatternRecognizer(
        # `wallet 0x…`, `send 1 ETH to 0x…`, `"from_address": "0x…"`.
        name="ethereum_address_in_context",
        entity_type="CRYPTO",
        pattern=rf"{_ETH_CONTEXT}[^\n]{{0,40}}?\b(0x[0-9a-fA-F]{{40}})\b",
        score=0.75,
        value_group=1,
        triggers=("0x",),
        validator=is_eth_address,
    ),
    PatternRecognizer(
        name="vin_with_check_digit",
        entity_type="VEHICLE_VIN",
        pattern=rf"{_VALUE_START}({_VIN_VALUE}){_VALUE_END}",
        score=0.8,
        value_group=1,
        needs_digit=True,
        validator=is_checked_vin,
    ),
    _labelled(
        "vin_in_context",
        "VEHICLE_VIN",
        label=_VIN_LABEL,
        value=rf"(?i:{_VIN_VALUE})",
        triggers=("vin", "vehicle", "chassis"),
        validator=is_vin_shape,
        score=0.85,
    ),
    _labelled(
        "imei_in_context",
        "IMEI",
        label=r"(?i:imei(?:[ _-]?(?:number|num|no\.?|nr|code|[12]))?)",
        value=r"\b(?:\d{15}|\d{2}[ -]\d{6}[ -]\d{6}[ -]\d)",
        triggers=("imei",),
        validator=is_imei,
        score=0.9,
    ),
    PatternRecognizer(
        # `gps: 51.50740, -0.12780`, `geo:51.5074,-0.1278`, `location (48.8584 N, 2.2945 E)`.
        name="coordinate_pair_in_context",
        entity_type="COORDINATES",
        pattern=rf"{_word(*_PAIR_WORDS)}{_LABEL_GAP}({_COORDINATE_PAIR})",
        score=0.8,
        value_group=1,
        triggers=_PAIR_TRIGGERS,
        needs_digit=True,
        validator=is_coordinate_pair,
    ),
    _keyed_coordinate("latitude_keyed", ("latitude", "lat"), is_latitude),
    _keyed_coordinate("longitude_keyed", ("longitude", "long", "lon", "lng"), is_longitude),
    PatternRecognizer(
        # Without a label: upper case, a registrant-type letter, and the DEA checksum.
        name="dea_number",
        entity_type="MEDICAL_LICENSE",
        pattern=rf"{_VALUE_START}({_DEA_VALUE}){_VALUE_END}",
        score=0.6,
        value_group=1,
        needs_digit=True,
        validator=is_dea_number,
    ),
    _labelled(
        "dea_number_in_context",
        "MEDICAL_LICENSE",
        label=_DEA_LABEL,
        value=rf"\b(?i:{_DEA_VALUE})",
        triggers=("dea",),
        validator=is_dea_number,
        score=0.9,
    ),
    _labelled(
        "medical_record_number",
        "MEDICAL_RECORD_NUMBER",
        label=_MRN_LABEL,
        value=r"\b[A-Za-z0-9]{6,12}",
        triggers=("mrn", "medical", "patient"),
        validator=is_medical_record_number,
        score=0.8,
    ),
)
