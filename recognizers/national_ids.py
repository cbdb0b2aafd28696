"""National identity and tax numbers beyond the US SSN, each backed by its public check rule.

Found: UK NHS numbers and National Insurance numbers, US ITINs and passport numbers, Canadian
SINs, Spanish DNI/NIF and NIE, Italian codici fiscali, French NIRs (INSEE numbers), German tax
ids (Steuer-IdNr), Dutch BSNs, Brazilian CPFs, Polish PESELs, Singapore NRIC/FINs, and Indian PAN
and Aadhaar numbers. Only the number is reported; the label before it stays.

A number is taken without a label only when its shape is distinctive (letters or punctuation in
fixed places) and it carries a check character: a DNI/NIE with its letter (`12345678Z`), an
NRIC (`S1234567D`), a printed CPF (`123.456.789-09`), a NIR in its printed groups
(`1 93 07 75 114 302 xx`), a codice fiscale; plus two shapes with no check digit that are still
unmistakable: the printed NINO (`AB 12 34 56 C`) and a dashed ITIN in IRS ranges. A bare run of
9-15 digits is a timestamp, an offset or an id in a log far more often than an identity number,
so digit-only forms need their label (`NHS number`, `BSN`, `aadhaar`, `SIN`, `PESEL`, ...)
and still pass the checksum.

Left alone: the US SSN (identity.py) and US bank account and ABA routing numbers (finance.py);
company and VAT numbers (CIF, Partita IVA, SIREN, CNPJ); passport numbers without a passport
label, whose shapes are any short alphanumeric id; lower-case codici fiscali and NRICs.
"""

from __future__ import annotations

import datetime
from collections import Counter

from recognizers.base import PatternRecognizer, Validator
from recognizers.finance import luhn_ok

# ---------------------------------------------------------------------------------------------
# Shared pieces
# ---------------------------------------------------------------------------------------------

# A label-free candidate must not continue a longer token on its left (`id_12345678Z`,
# `v1.12345678Z`, `build-S1234567D`); a `/` is allowed, a path segment is a token of its own.
_LEFT_EDGE = r"(?:^|[^\w.+-])"
# Dotted or dashed continuations are swallowed into the value, so the validator sees (and
# rejects) the whole longer token instead of an id-shaped prefix of it: `12345678Z-2024`,
# `943 476 5919.5`.
_TAIL = r"(?:[.-][A-Za-z0-9]+)*"
# Between a label and its value: `NHS number: `, `nhs_no=`, `"bsn": "`, `SIN is `,
# `Aadhaar card no. `. RE2's `\b` is ASCII, which is all these labels need.
_LABEL_GAP = (
    r"(?i:(?:[ _-]?(?:card|numbers?|num|nos?|nr|nummer|numéro|número|ids?)){0,2}\.?"
    r"[^\w\n]{0,6}(?:(?:is|was|no|nr|number|num)[^\w\n]{1,4}){0,2})"
)


def _after_label(labels: str, value: str) -> str:
    """`<label><gap><value>`, the value in group 1; labels match in any case."""
    return rf"(?i:\b(?:{labels})){_LABEL_GAP}\b({value}{_TAIL})\b"


def _standalone(value: str) -> str:
    """A value that stands on its own as a whole token, in group 1."""
    return rf"{_LEFT_EDGE}({value}{_TAIL})\b"


def _grouped_digits(value: str, length: int) -> str | None:
    """The digits of `value`, if there are `length` of them, written with at most one kind of
    separator and not all the same (`000 000 0000` is a placeholder, not a number)."""
    separators = {c for c in value if not c.isdigit()}
    digits = "".join(c for c in value if c.isdigit())
    if len(separators) > 1 or len(digits) != length or len(set(digits)) == 1:
        return None
    return digits


def _compact(value: str) -> str:
    """Upper case without the separators people type inside ids."""
    return value.upper().replace(" ", "").replace("-", "").replace(".", "")


def _weighted_sum(digits: str, weights: tuple[int, ...]) -> int:
    """Sum of digit times weight over the leading digits, one per weight."""
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False))


# ---------------------------------------------------------------------------------------------
# United Kingdom
# ---------------------------------------------------------------------------------------------


def is_uk_nhs(value: str) -> bool:
    """Ten digits; weights 10..2 on the first nine, check = 11 - sum mod 11 (11 -> 0, 10 never
    issued)."""
    digits = _grouped_digits(value, 10)
    if digits is None:
        return False
    check = 11 - _weighted_sum(digits, (10, 9, 8, 7, 6, 5, 4, 3, 2)) % 11
    return check != 10 and check % 11 == int(digits[9])


_NINO_NOT_FIRST = set("DFIQUV")
_NINO_NOT_SECOND = set("DFIOQUV")
_NINO_NOT_ISSUED = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}


def is_uk_nino(value: str) -> bool:
    """HMRC's prefix rules (no D F I Q U V, no second-letter O, no BG GB KN NK NT TN ZZ), six
    digits, suffix A-D. There is no check digit, so the rules are all there is."""
    if len({c for c in value if c in " -"}) > 1:
        return False
    nino = _compact(value)
    if len(nino) != 9 or not (nino[:2].isalpha() and nino[2:8].isdigit()):
        return False
    first, second = nino[0], nino[1]
    return (
        first not in _NINO_NOT_FIRST
        and second not in _NINO_NOT_SECOND
        and nino[:2] not in _NINO_NOT_ISSUED
        and nino[8] in "ABCD"
    )


# ---------------------------------------------------------------------------------------------
# United States
# ---------------------------------------------------------------------------------------------

# IRS ITIN middle groups: 70-88, 90-92, 94-99, and 50-65 since 2011.
_ITIN_GROUPS = frozenset([*range(50, 66), *range(70, 89), 90, 91, 92, *range(94, 100)])


def is_us_itin(value: str) -> bool:
    """9XX-GG-XXXX with GG in an issued ITIN range."""
    digits = _grouped_digits(value, 9)
    return digits is not None and digits[0] == "9" and int(digits[3:5]) in _ITIN_GROUPS


def _passport_shape(value: str) -> bool:
    """6-9 letters and digits, mostly digits: a document number, not a word (`oauth2`)."""
    return (
        value.isascii()
        and value.isalnum()
        and 6 <= len(value) <= 9
        and sum(c.isdigit() for c in value) >= 3
        and len(set(value)) > 2
    )


def is_us_passport(value: str) -> bool:
    """A US book (9 digits) or next-generation (a letter and 8 digits) passport number."""
    return _passport_shape(value) and len(value) == 9 and value[1:].isdigit()


def is_passport(value: str) -> bool:
    """Any other passport number: the US shapes are reported as US_PASSPORT instead."""
    return _passport_shape(value) and not is_us_passport(value)


# ---------------------------------------------------------------------------------------------
# Canada
# ---------------------------------------------------------------------------------------------


def is_ca_sin(value: str) -> bool:
    """Nine digits, Luhn-valid; 0 and 8 are never the first digit of a person's SIN."""
    digits = _grouped_digits(value, 9)
    return digits is not None and digits[0] not in "08" and luhn_ok(digits)


# ---------------------------------------------------------------------------------------------
# Spain
# ---------------------------------------------------------------------------------------------

_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def is_es_nif(value: str) -> bool:
    """DNI/NIF: 7-8 digits and the letter at position (number mod 23)."""
    nif = _compact(value)
    number, letter = nif[:-1], nif[-1:]
    return 7 <= len(number) <= 8 and number.isdigit() and _DNI_LETTERS[int(number) % 23] == letter


def is_es_nie(value: str) -> bool:
    """NIE: X/Y/Z (read as 0/1/2) and 7 digits, then the DNI letter of that number."""
    nie = _compact(value)
    if len(nie) != 9 or nie[0] not in "XYZ" or not nie[1:8].isdigit():
        return False
    return _DNI_LETTERS[int(str("XYZ".index(nie[0])) + nie[1:8]) % 23] == nie[8]


# ---------------------------------------------------------------------------------------------
# Italy
# ---------------------------------------------------------------------------------------------

# Values of a character in an odd (1st, 3rd, ...) position; a digit counts as the letter of the
# same index (0 = A, 1 = B, ...). Even positions count 0-9 and A-Z as 0-25.
_CF_ODD = (1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25,
           24, 23)  # fmt: skip
# Omocodia: when two people would share a code, digits are replaced by these letters (0-9).
_CF_OMOCODE = "LMNPQRSTUV"
_CF_DIGIT_PLACES = (6, 7, 9, 10, 12, 13, 14)
_CF_MONTHS = "ABCDEHLMPRST"


def _cf_index(char: str) -> int:
    return int(char) if char.isdigit() else ord(char) - ord("A")


def is_it_fiscal_code(value: str) -> bool:
    """Codice fiscale: name letters, birth date and place (digits possibly in omocodia letters),
    and the check letter from the odd/even position tables."""
    code = value.upper()
    if len(code) != 16 or not code.isascii() or not code.isalnum():
        return False
    decoded = list(code)
    for place in _CF_DIGIT_PLACES:
        if code[place] in _CF_OMOCODE:
            decoded[place] = str(_CF_OMOCODE.index(code[place]))
    if not all(decoded[p].isdigit() for p in _CF_DIGIT_PLACES) or code[8] not in _CF_MONTHS:
        return False
    day = int(decoded[9] + decoded[10])
    if not (1 <= day <= 31 or 41 <= day <= 71):  # women's days are +40
        return False
    total = sum(
        _CF_ODD[_cf_index(c)] if i % 2 == 0 else _cf_index(c) for i, c in enumerate(code[:15])
    )
    return chr(ord("A") + total % 26) == code[15]


# ---------------------------------------------------------------------------------------------
# France
# ---------------------------------------------------------------------------------------------


def is_fr_nir(value: str) -> bool:
    """NIR: sex 1/2 (7/8 provisional), year, month (01-12, 20-42 or 50+ when unknown),
    department (2A/2B for Corsica count as 19/18), commune, order, key = 97 - number mod 97."""
    if len({c for c in value if c in " ."}) > 1:
        return False
    nir = value.upper().replace(" ", "").replace(".", "")
    if len(nir) != 15:
        return False
    number = nir[:5] + nir[5:7].replace("2A", "19").replace("2B", "18") + nir[7:13]
    if not (number.isdigit() and nir[13:].isdigit()) or nir[0] not in "1278":
        return False
    month = int(nir[3:5])
    if not (1 <= month <= 12 or 20 <= month <= 42 or month >= 50) or nir[5:7] == "00":
        return False
    return 97 - int(number) % 97 == int(nir[13:])


# ---------------------------------------------------------------------------------------------
# Germany
# ---------------------------------------------------------------------------------------------


def _iso7064_mod11_10(digits: str) -> int:
    """The check digit of ISO 7064 MOD 11,10 over `digits`."""
    product = 10
    for digit in digits:
        total = (int(digit) + product) % 10 or 10
        product = total * 2 % 11
    return (11 - product) % 10


def is_de_tax_id(value: str) -> bool:
    """Steuer-IdNr: 11 digits, no leading 0; in the first ten exactly one digit repeats (twice,
    or three times but not three in a row); ISO 7064 MOD 11,10 check digit."""
    digits = _grouped_digits(value, 11)
    if digits is None or digits[0] == "0":
        return False
    body = digits[:10]
    repeated = [(d, n) for d, n in Counter(body).items() if n > 1]
    if len(repeated) != 1:
        return False
    digit, times = repeated[0]
    if times > 3 or (times == 3 and digit * 3 in body):
        return False
    return _iso7064_mod11_10(body) == int(digits[10])


# ---------------------------------------------------------------------------------------------
# Netherlands, Brazil, Poland
# ---------------------------------------------------------------------------------------------


def is_nl_bsn(value: str) -> bool:
    """BSN elfproef: 9*d1 + 8*d2 + ... + 2*d8 - d9 is a multiple of 11."""
    digits = _grouped_digits(value, 9)
    if digits is None:
        return False
    return (_weighted_sum(digits, (9, 8, 7, 6, 5, 4, 3, 2)) - int(digits[8])) % 11 == 0


def _cpf_check(digits: str) -> int:
    """One CPF check digit over `digits`, weights counting down to 2."""
    total = _weighted_sum(digits, tuple(range(len(digits) + 1, 1, -1)))
    return total * 10 % 11 % 10


def is_br_cpf(value: str) -> bool:
    """CPF: 11 digits (dots and a dash allowed where they are printed), two mod-11 checks."""
    digits = value.replace(".", "").replace("-", "").replace("/", "")
    if len(digits) != 11 or not digits.isdigit() or len(set(digits)) == 1:
        return False
    return _cpf_check(digits[:9]) == int(digits[9]) and _cpf_check(digits[:10]) == int(digits[10])


# The month of a PESEL carries the century: +80 for the 1800s, +20 for the 2000s, ...
_PESEL_CENTURY = {80: 1800, 0: 1900, 20: 2000, 40: 2100, 60: 2200}


def is_pl_pesel(value: str) -> bool:
    """PESEL: a real birth date (century in the month), serial, and weights 1-3-7-9 check."""
    digits = _grouped_digits(value, 11)
    if digits is None:
        return False
    encoded_month = int(digits[2:4])
    offset = encoded_month // 20 * 20
    try:
        datetime.date(_PESEL_CENTURY[offset] + int(digits[:2]), encoded_month - offset,
                      int(digits[4:6]))  # fmt: skip
    except ValueError:
        return False
    check = (10 - _weighted_sum(digits, (1, 3, 7, 9, 1, 3, 7, 9, 1, 3)) % 10) % 10
    return check == int(digits[10])


# ---------------------------------------------------------------------------------------------
# Singapore
# ---------------------------------------------------------------------------------------------

# Prefix -> (added to the weighted sum, check letters by remainder).
_NRIC_SERIES = {
    "S": (0, "JZIHGFEDCBA"),
    "T": (4, "JZIHGFEDCBA"),
    "F": (0, "XWUTRQPNMLK"),
    "G": (4, "XWUTRQPNMLK"),
    "M": (3, "XWUTRQPNJLK"),
}


def is_sg_nric_fin(value: str) -> bool:
    """NRIC/FIN: S/T/F/G/M, seven digits weighted 2-7-6-5-4-3-2, the series' check letter."""
    if len(value) != 9 or value[0] not in _NRIC_SERIES or not value[1:8].isdigit():
        return False
    offset, letters = _NRIC_SERIES[value[0]]
    total = offset + _weighted_sum(value[1:8], (2, 7, 6, 5, 4, 3, 2))
    return letters[total % 11] == value[8]


# ---------------------------------------------------------------------------------------------
# India
# ---------------------------------------------------------------------------------------------

# The fourth PAN letter is the holder type: Person, Company, HUF, Firm, AOP, Trust, BOI,
# Local authority, artificial Juridical person, Government.
_PAN_HOLDER_TYPES = set("PCHFATBLJG")


def is_in_pan(value: str) -> bool:
    """PAN: five letters (the fourth a holder type), four digits (not 0000), a letter."""
    pan = value.upper()
    return (
        len(pan) == 10
        and pan[:5].isalpha()
        and pan[3] in _PAN_HOLDER_TYPES
        and pan[5:9].isdigit()
        and pan[5:9] != "0000"
        and pan[9].isalpha()
    )


# Verhoeff: multiplication in the dihedral group D5 (0-4 rotations, 5-9 reflections) and the
# position permutation (1 5 7 6 2 8 3 0 9 4), applied once per position modulo 8.
_VERHOEFF_STEP = (1, 5, 7, 6, 2, 8, 3, 0, 9, 4)


def _d5(a: int, b: int) -> int:
    if a < 5:
        return (a + b) % 5 + (5 if b >= 5 else 0)
    return (a - b) % 5 + (0 if b >= 5 else 5)


def _verhoeff_permute(position: int, digit: int) -> int:
    for _ in range(position % 8):
        digit = _VERHOEFF_STEP[digit]
    return digit


def verhoeff_ok(digits: str) -> bool:
    """The Verhoeff check (last digit) over a string of digits."""
    check = 0
    for position, char in enumerate(reversed(digits)):
        check = _d5(check, _verhoeff_permute(position, int(char)))
    return check == 0


def is_in_aadhaar(value: str) -> bool:
    """Aadhaar: 12 digits, never starting 0 or 1, Verhoeff-valid."""
    digits = _grouped_digits(value, 12)
    return digits is not None and digits[0] not in "01" and verhoeff_ok(digits)


# ---------------------------------------------------------------------------------------------
# Recognizers
# ---------------------------------------------------------------------------------------------

# Passport labels must end in a number word or a `:`/`=`/`#`: a bare `passport` is also the
# Node.js auth library, and `passport-oauth2` is not a document number.
_PASSPORT_LABEL = (
    r"(?i:\b(?:passport|passeport|pasaporte|passaporto|reisepass|paspoort)"
    r"(?:[ _-]?(?:numbers?|num|nos?|nr|nummer|numéro|número|ids?)\b|[\"']?[ \t]*[:=#]))"
)
_PASSPORT = rf"{_PASSPORT_LABEL}{_LABEL_GAP}\b([A-Za-z0-9]{{6,9}}{_TAIL})\b"
_PASSPORT_WORDS = ("passport", "passeport", "pasaporte", "passaporto", "reisepass", "paspoort")

_ES_LABELS = (
    r"dni|nif|nie|d\.n\.i|n\.i\.f|n\.i\.e|documento[ _]nacional[ _]de[ _]identidad"
    r"|n[uú]mero[ _]de[ _]identi(?:dad|ficaci[oó]n)"
)
_ES_WORDS = ("dni", "nif", "nie", "d.n.i", "n.i.f", "n.i.e", "identidad", "identificaci")
_FR_LABELS = (
    r"nir|insee|s[ée]curit[ée][ _-]?sociale|s[ée]cu|num[ée]ro[ _-]ss|n[°º][ ]?ss"
    r"|carte[ _-]vitale|social[ _-]?security"
)
_FR_WORDS = ("nir", "insee", "sociale", "sécu", "secu", "n°", "nº", "numéro", "numero", "vitale",
             "social")  # fmt: skip
_FR_NIR_SPACED = r"[1278] \d{2} \d{2} (?:\d{2}|2[AB]) \d{3} \d{3} \d{2}"
_FR_NIR_ANY = r"[1278][ .]?\d{2}[ .]?\d{2}[ .]?(?:\d{2}|2[ABab])[ .]?\d{3}[ .]?\d{3}[ .]?\d{2}"
_DE_LABELS = (
    r"steuer[\w-]*|(?:steuerliche[ _])?identifikationsnummer|idnr|id[ _.-]nr"
    r"|tax[ _-]?id(?:entification)?"
)
_DE_WORDS = ("steuer", "idnr", "id-nr", "id nr", "id.nr", "id_nr", "identifikationsnummer",
             "tax id", "taxid", "tax_id", "tax-id", "tax identification")  # fmt: skip


def _recognizer(
    name: str,
    entity_type: str,
    pattern: str,
    validator: Validator,
    *,
    triggers: tuple[str, ...] = (),
    score: float = 0.9,
) -> PatternRecognizer:
    return PatternRecognizer(
        name=name,
        entity_type=entity_type,
        pattern=pattern,
        score=score,
        value_group=1,
        triggers=triggers,
        needs_digit=True,
        validator=validator,
    )


NATIONAL_ID_RECOGNIZERS: tuple[PatternRecognizer, ...] = (
    _recognizer(
        "uk_nhs_number",
        "UK_NHS",
        _after_label("nhs", r"\d{3}[ -]?\d{3}[ -]?\d{4}"),
        is_uk_nhs,
        triggers=("nhs",),
    ),
    # `QQ 12 34 56 C` as printed on the card is unmistakable; other forms need a label.
    _recognizer(
        "uk_nino",
        "UK_NINO",
        _standalone(r"[A-Z]{2} \d{2} \d{2} \d{2} [A-D]"),
        is_uk_nino,
        score=0.8,
    ),
    _recognizer(
        "uk_nino_in_context",
        "UK_NINO",
        _after_label(
            r"national[ _-]?insurance|nino|ni[ _-]?(?:number|num|no)\b",
            r"[A-Za-z]{2}[ -]?\d{2}[ -]?\d{2}[ -]?\d{2}[ -]?[A-Da-d]",
        ),
        is_uk_nino,
        triggers=("insurance", "nino", "ni ", "ni_", "ni-", "ninum"),
    ),
    # Dashed like an SSN, which never starts with 9; no check digit, so the IRS ranges decide.
    _recognizer("us_itin", "US_ITIN", _standalone(r"9\d{2}-\d{2}-\d{4}"), is_us_itin, score=0.8),
    _recognizer(
        "us_itin_in_context",
        "US_ITIN",
        _after_label(
            r"itin|individual[ _-]taxpayer[ _-]identification"
            r"|taxpayer(?:[ _-]?id(?:entification)?)?|tax[ _-]?id",
            r"9\d{2}[ -]?\d{2}[ -]?\d{4}",
        ),
        is_us_itin,
        triggers=("itin", "taxpayer", "tax id", "taxid", "tax_id", "tax-id"),
    ),
    _recognizer(
        "us_passport",
        "US_PASSPORT",
        _PASSPORT,
        is_us_passport,
        triggers=_PASSPORT_WORDS,
        score=0.85,
    ),
    _recognizer(
        "passport_number", "PASSPORT", _PASSPORT, is_passport, triggers=_PASSPORT_WORDS, score=0.8
    ),
    _recognizer(
        "ca_sin",
        "CA_SIN",
        _after_label(
            r"sin|social[ _-]?insurance|assurance[ _-]?sociale", r"\d{3}[ -]?\d{3}[ -]?\d{3}"
        ),
        is_ca_sin,
        triggers=("sin", "insurance", "assurance"),
    ),
    # The check letter makes the attached forms safe on their own; spaced ones need a label.
    _recognizer("es_nif", "ES_NIF", _standalone(r"\d{8}-?[A-Z]"), is_es_nif, score=0.85),
    _recognizer(
        "es_nif_in_context",
        "ES_NIF",
        _after_label(_ES_LABELS, r"\d{7,8}[ -]?[A-Za-z]|\d{1,2}\.\d{3}\.\d{3}[ -]?[A-Za-z]"),
        is_es_nif,
        triggers=_ES_WORDS,
    ),
    _recognizer("es_nie", "ES_NIE", _standalone(r"[XYZ]-?\d{7}-?[A-Z]"), is_es_nie, score=0.85),
    _recognizer(
        "es_nie_in_context",
        "ES_NIE",
        _after_label(_ES_LABELS, r"[XYZxyz][ -]?\d{7}[ -]?[A-Za-z]"),
        is_es_nie,
        triggers=_ES_WORDS,
    ),
    _recognizer(
        "it_fiscal_code",
        "IT_FISCAL_CODE",
        _standalone(r"[A-Z]{6}[0-9LMNP-V]{2}[ABCDEHLMPRST][0-9LMNP-V]{2}[A-Z][0-9LMNP-V]{3}[A-Z]"),
        is_it_fiscal_code,
    ),
    _recognizer("fr_nir", "FR_NIR", _standalone(_FR_NIR_SPACED), is_fr_nir, score=0.85),
    _recognizer(
        "fr_nir_in_context",
        "FR_NIR",
        _after_label(_FR_LABELS, _FR_NIR_ANY),
        is_fr_nir,
        triggers=_FR_WORDS,
    ),
    _recognizer(
        "de_tax_id",
        "DE_TAX_ID",
        _after_label(_DE_LABELS, r"\d{11}|\d{2} \d{3} \d{3} \d{3}"),
        is_de_tax_id,
        triggers=_DE_WORDS,
    ),
    _recognizer(
        "nl_bsn",
        "NL_BSN",
        _after_label(
            r"bsn|burger[ _-]?service[ _-]?nummer|sofi[ _-]?nummer|sofi",
            r"\d{9}|\d{4}\.\d{2}\.\d{3}|\d{3}[ .-]\d{3}[ .-]\d{3}",
        ),
        is_nl_bsn,
        triggers=("bsn", "burgerservice", "burger service", "burger_service", "sofi"),
    ),
    _recognizer(
        "br_cpf", "BR_CPF", _standalone(r"\d{3}\.\d{3}\.\d{3}-\d{2}"), is_br_cpf, score=0.85
    ),
    _recognizer(
        "br_cpf_in_context",
        "BR_CPF",
        _after_label("cpf", r"\d{11}|\d{9}-\d{2}|\d{3}\.\d{3}\.\d{3}[-/]\d{2}"),
        is_br_cpf,
        triggers=("cpf",),
    ),
    _recognizer(
        "pl_pesel",
        "PL_PESEL",
        _after_label("pesel", r"\d{11}"),
        is_pl_pesel,
        triggers=("pesel",),
    ),
    _recognizer(
        "sg_nric_fin", "SG_NRIC_FIN", _standalone(r"[STFGM]\d{7}[A-Z]"), is_sg_nric_fin, score=0.85
    ),
    # No public check rule, and `ABCDE1234F` could be any licence key: the label is required.
    _recognizer(
        "in_pan",
        "IN_PAN",
        _after_label(r"pan|permanent[ _-]account[ _-]number", r"[A-Za-z]{5}\d{4}[A-Za-z]"),
        is_in_pan,
        triggers=("pan", "permanent account"),
        score=0.85,
    ),
    _recognizer(
        "in_aadhaar",
        "IN_AADHAAR",
        _after_label(
            r"aadhaa?r|adhaar|uidai|uid[ _-]?(?:no|number|num)\b",
            r"\d{4}[ -]?\d{4}[ -]?\d{4}",
        ),
        is_in_aadhaar,
        triggers=("aadha", "adhaar", "uidai", "uid"),
    ),
)
