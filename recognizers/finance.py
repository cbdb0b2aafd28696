"""Payment data: card numbers (PAN), IBANs, and US bank routing/account numbers.

Every pattern here is checksum-backed (Luhn, ISO 7064 mod-97, ABA 3-7-1) or needs a context word,
because bare digit runs are everywhere in logs (offsets, epoch millis, order ids) and the only thing
that separates a card number from an order id is the checksum plus the issuer range.
"""

from __future__ import annotations

from recognizers.base import PatternRecognizer

# A candidate must not continue a longer token: no word char, dot, plus or dash glued on the left.
# Nor a slash: `/feature/5068609911521280` is a resource id; a card in a URL path still has its
# `cards/` context word for the contextual recognizer.
_LEFT_EDGE = r"(?:^|[^\w.+/-])"

# ---------------------------------------------------------------------------------------------
# Credit cards
# ---------------------------------------------------------------------------------------------

# Usual print groupings with one separator kind: 4-4-4-4-3, 4-4-4-1..4, 4-6-5 (Amex), 4-6-4
# (Diners); or one run of digits. A fifth group must be exactly three digits, so the `12` of an
# expiry date that follows (`4111 1111 1111 1111 12/27`) is not read as part of the number.
# `\b` keeps the run from ending inside a longer number; the trailing `(?:[.-]\d+)*` swallows a
# dotted/dashed continuation so the validator sees (and rejects) the whole thing instead of a
# card-shaped prefix of a longer id.
_CARD_BODY = (
    r"\d{4}(?:[ .-]\d{4}){2}[ .-](?:\d{4}[ .-]\d{3}|\d{1,4})"
    r"|\d{4}[ .-]\d{6}[ .-]\d{4,5}"
    r"|\d{12,19}"
)
_CARD_VALUE = rf"(?:{_CARD_BODY})(?:[.-]\d+)*\b"

# (first prefix, last prefix, allowed lengths): a number is accepted when any row accepts it.
_IIN_RANGES: tuple[tuple[int, int, frozenset[int]], ...] = (
    (4, 4, frozenset({13, 16, 19})),  # Visa
    (51, 55, frozenset({16})),  # Mastercard
    (2221, 2720, frozenset({16})),  # Mastercard 2-series
    (34, 34, frozenset({15})),  # Amex
    (37, 37, frozenset({15})),  # Amex
    (300, 305, frozenset({14, 16, 19})),  # Diners Club
    (3095, 3095, frozenset({14, 16, 19})),
    (36, 36, frozenset({14, 16, 19})),
    (38, 39, frozenset({14, 16, 19})),
    (3528, 3589, frozenset({16, 17, 18, 19})),  # JCB
    (1800, 1800, frozenset({15})),  # JCB legacy
    (2131, 2131, frozenset({15})),  # JCB legacy
    (6011, 6011, frozenset({16, 17, 18, 19})),  # Discover
    (644, 649, frozenset({16, 17, 18, 19})),
    (65, 65, frozenset({16, 17, 18, 19})),
    (62, 62, frozenset({16, 17, 18, 19})),  # UnionPay
    (2200, 2204, frozenset({16, 17, 18, 19})),  # Mir
    (50, 50, frozenset(range(13, 20))),  # Maestro
    (56, 69, frozenset(range(13, 20))),  # Maestro and other 5x/6x debit schemes
    (60, 60, frozenset({16})),  # RuPay
    (81, 82, frozenset({16})),  # RuPay
)


_DOUBLED = str.maketrans("0123456789", "0246813579")  # a digit doubled, its two digits summed


def luhn_ok(digits: str) -> bool:
    """The Luhn mod-10 check every payment card number carries in its last digit."""
    if digits.isascii() and digits.isdigit():  # summed in C: digits from the right, every
        kept, doubled = digits[::-2], digits[-2::-2].translate(_DOUBLED)  # second one doubled
        return (sum(kept.encode()) + sum(doubled.encode()) - 48 * len(digits)) % 10 == 0
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


_IIN_ROWS = tuple((len(str(low)), low, high, lengths) for low, high, lengths in _IIN_RANGES)


def _issuer_accepts(digits: str) -> bool:
    length = len(digits)
    prefixes: dict[int, int] = {}  # the leading 1-4 digits as a number, each read once
    for width, low, high, lengths in _IIN_ROWS:
        prefix = prefixes.get(width)
        if prefix is None:
            prefix = prefixes[width] = int(digits[:width])
        if low <= prefix <= high and length in lengths:
            return True
    return False


def _card_digits(value: str) -> str | None:
    """The digits of a card candidate, or None when its separators are mixed."""
    if value.isascii():  # what a card pattern matches: `\d` and separators, no Python loop
        separators = set(value).difference("0123456789")
        if len(separators) > 1:
            return None
        return value.replace(separators.pop(), "") if separators else value
    separators = {c for c in value if not c.isdigit()}
    if len(separators) > 1:
        return None
    return "".join(c for c in value if c.isdigit())


def _plain_digits_noise(digits: str) -> bool:
    """Runs like 0000000000000 or 4444444444444448 pass Luhn but are fillers, not cards."""
    return len(set(digits[:-1])) <= 1


def is_card_number(value: str) -> bool:
    """13-19 digits in a known issuer range with the right length, and Luhn-valid."""
    digits = _card_digits(value)
    if digits is None or not 13 <= len(digits) <= 19 or _plain_digits_noise(digits):
        return False
    return _issuer_accepts(digits) and luhn_ok(digits)


def is_card_number_in_context(value: str) -> bool:
    """After a word like "card": any Luhn-valid 12-19 digit number (Maestro goes down to 12)."""
    digits = _card_digits(value)
    if digits is None or not 12 <= len(digits) <= 19 or _plain_digits_noise(digits):
        return False
    return luhn_ok(digits)


_CARD_WORDS = (
    "card",
    "cc",
    "credit",
    "debit",
    "visa",
    "mastercard",
    "amex",
    "maestro",
    "pan",
    "karte",
    "carte",
    "tarjeta",
    "cartão",
)
_CARD_CONTEXT = (
    r"(?i)\b(?:card|cc|credit|debit|visa|master ?card|amex|maestro|pan|karte|carte|tarjeta|cartão)"
    r"(?:s|no|num|number)?\b[^\d\n]{0,30}?"
)

# ---------------------------------------------------------------------------------------------
# IBAN
# ---------------------------------------------------------------------------------------------

# ISO 13616 registry lengths (total characters, country code included).
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22,
    "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32,
    "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31,
    "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28, "TL": 23,
    "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip


def _iban_pattern() -> str:
    """One alternative per IBAN length, so a spaced IBAN never swallows the next word.

    Printed IBANs come in groups of four ("DE89 3704 0044 0532 0130 00") or as one run. Matching
    exactly the registered length for the country keeps `BE68 5390 0754 7034 THEN` to 16 chars.
    """
    by_length: dict[int, list[str]] = {}
    for country, length in IBAN_LENGTHS.items():
        by_length.setdefault(length, []).append(country)
    alternatives = []
    for length, countries in sorted(by_length.items(), reverse=True):
        full_groups, rest = divmod(length - 4, 4)
        tail = f"(?: ?[A-Z0-9]{{{rest}}})" if rest else ""
        alternatives.append(
            f"(?:{'|'.join(sorted(countries))})\\d{{2}}(?: ?[A-Z0-9]{{4}}){{{full_groups}}}{tail}"
        )
    return "(?:" + "|".join(alternatives) + ")"


_IBAN_VALUE = _iban_pattern()


def is_iban(value: str) -> bool:
    """Registered length for the country, consistent grouping, and ISO 7064 mod 97 == 1."""
    compact = value.replace(" ", "").upper()
    if IBAN_LENGTHS.get(compact[:2]) != len(compact):
        return False
    groups = value.split(" ")
    if len(groups) > 1 and (any(len(g) != 4 for g in groups[:-1]) or len(groups[-1]) > 4):
        return False
    rearranged = compact[4:] + compact[:4]
    numeric = "".join(str(int(char, 36)) for char in rearranged)
    return int(numeric) % 97 == 1


# ---------------------------------------------------------------------------------------------
# US bank numbers (context only: nine or twelve bare digits mean nothing on their own)
# ---------------------------------------------------------------------------------------------

_ABA_PREFIXES = frozenset(
    [*range(0, 13), *range(21, 33), *range(61, 73), 80]
)  # Federal Reserve routing symbols; 80 = traveller's cheques


def is_aba_routing(value: str) -> bool:
    """Nine digits, a Federal Reserve prefix, and the 3-7-1 weighted checksum."""
    digits = "".join(c for c in value if c.isdigit())
    if len(digits) != 9 or int(digits[:2]) not in _ABA_PREFIXES or len(set(digits)) == 1:
        return False
    weights = (3, 7, 1) * 3
    return sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 10 == 0


def _is_bank_account(value: str) -> bool:
    return 6 <= len(value) <= 17 and len(set(value)) > 1


_ABA_CONTEXT = (
    r"(?i)\b(?:aba|routing|rtn|transit)(?:[ _-]?(?:number|num|no|nr|code|#))?\b[^\w\n]{0,4}"
    r"(?:(?:is|was|number|no\.?)\s+)?"
)
_ACCOUNT_CONTEXT = (
    r"(?i)\b(?:bank[ _-]?account|account[ _-]?(?:number|num|no\.?|nr|#)|acct|a/c"
    r"|checking[ _-]?account|savings[ _-]?account)\b[^\w\n]{0,4}"
    r"(?:(?:is|was|number|no\.?|#)\s*)?"
)

FINANCE_RECOGNIZERS: tuple[PatternRecognizer, ...] = (
    PatternRecognizer(
        name="credit_card",
        entity_type="CREDIT_CARD",
        pattern=rf"{_LEFT_EDGE}({_CARD_VALUE})",
        value_group=1,
        needs_digit=True,
        validator=is_card_number,
        score=0.9,
    ),
    PatternRecognizer(
        name="credit_card_in_context",
        entity_type="CREDIT_CARD",
        pattern=rf"{_CARD_CONTEXT}\b({_CARD_VALUE})",
        value_group=1,
        triggers=_CARD_WORDS,
        needs_digit=True,
        validator=is_card_number_in_context,
        score=0.9,
    ),
    PatternRecognizer(
        name="iban",
        entity_type="IBAN_CODE",
        pattern=rf"\b({_IBAN_VALUE})\b",
        value_group=1,
        needs_digit=True,
        validator=is_iban,
        score=0.95,
    ),
    PatternRecognizer(
        # Lower-case IBANs only next to the word "iban": lower-case hex ids of the right length
        # are common in logs and pass mod-97 once in 97 tries.
        name="iban_in_context",
        entity_type="IBAN_CODE",
        pattern=rf"(?i)\biban\b[^\w\n]{{0,4}}(?:(?:is|was|no\.?|number)\s+)?\b({_IBAN_VALUE})\b",
        value_group=1,
        triggers=("iban",),
        needs_digit=True,
        validator=is_iban,
        score=0.95,
    ),
    PatternRecognizer(
        name="aba_routing_number",
        entity_type="ABA_ROUTING_NUMBER",
        pattern=rf"{_ABA_CONTEXT}\b(\d{{9}}|\d{{4}}[ -]\d{{4}}[ -]\d)\b",
        value_group=1,
        triggers=("aba", "routing", "rtn", "transit"),
        needs_digit=True,
        validator=is_aba_routing,
        score=0.8,
    ),
    PatternRecognizer(
        name="us_bank_account_number",
        entity_type="US_BANK_NUMBER",
        pattern=rf"{_ACCOUNT_CONTEXT}\b(\d{{6,17}})\b",
        value_group=1,
        triggers=("account", "acct", "a/c"),
        needs_digit=True,
        validator=_is_bank_account,
        score=0.6,
    ),
)
