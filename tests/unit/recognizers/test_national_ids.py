"""Table tests for national identity and tax numbers.

Every number is synthetic: a made-up body plus the check character that the helpers below compute
from each public specification, written independently of the module under test.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from recognizers.base import PatternRecognizer
from recognizers.national_ids import (
    NATIONAL_ID_RECOGNIZERS,
    is_br_cpf,
    is_ca_sin,
    is_de_tax_id,
    is_es_nie,
    is_es_nif,
    is_fr_nir,
    is_in_aadhaar,
    is_in_pan,
    is_it_fiscal_code,
    is_nl_bsn,
    is_passport,
    is_pl_pesel,
    is_sg_nric_fin,
    is_uk_nhs,
    is_uk_nino,
    is_us_itin,
    is_us_passport,
    verhoeff_ok,
)
from tests.unit.recognizers import tables

# ---------------------------------------------------------------------------------------------
# Check-character helpers (from the specifications)
# ---------------------------------------------------------------------------------------------


def nhs(body: str) -> str:
    check = 11 - sum(int(d) * (10 - i) for i, d in enumerate(body)) % 11
    assert check != 10, "this body has no NHS number"
    return body + str(check % 11)


def luhn(body: str) -> str:
    total = 0
    for i, d in enumerate(reversed(body)):  # the check digit will sit right of these
        n = int(d) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return body + str(-total % 10)


def dni(number: str) -> str:
    return number + "TRWAGMYFPDXBNJZSQVHLCKE"[int(number) % 23]


def nie(prefix: str, number: str) -> str:
    return prefix + dni(str("XYZ".index(prefix)) + number)[1:]


_CF_ODD = dict(zip("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                   [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18,
                    20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23], strict=True))  # fmt: skip


def codice_fiscale(body: str) -> str:
    even = {c: (int(c) if c.isdigit() else ord(c) - 65) for c in _CF_ODD}
    total = sum(_CF_ODD[c] if i % 2 == 0 else even[c] for i, c in enumerate(body))
    return body + chr(65 + total % 26)


def nir(body: str) -> str:
    number = int(body[:5] + {"2A": "19", "2B": "18"}.get(body[5:7], body[5:7]) + body[7:])
    return body + f"{97 - number % 97:02d}"


def steuer_id(body: str) -> str:
    product = 10
    for d in body:
        product = (((int(d) + product) % 10 or 10) * 2) % 11
    return body + str((11 - product) % 10)


def bsn(body: str) -> str:
    check = sum(int(d) * (9 - i) for i, d in enumerate(body)) % 11
    assert check < 10, "this body has no BSN"
    return body + str(check)


def cpf(body: str) -> str:
    for _ in range(2):
        total = sum(int(d) * (len(body) + 1 - i) for i, d in enumerate(body))
        body += str(total * 10 % 11 % 10)
    return body


def pesel(body: str) -> str:
    total = sum(int(d) * w for d, w in zip(body, [1, 3, 7, 9] * 3, strict=False))
    return body + str((10 - total % 10) % 10)


def nric(prefix: str, digits: str) -> str:
    total = sum(int(d) * w for d, w in zip(digits, [2, 7, 6, 5, 4, 3, 2], strict=True))
    total += {"S": 0, "T": 4, "F": 0, "G": 4, "M": 3}[prefix]
    letters = {"S": "JZIHGFEDCBA", "T": "JZIHGFEDCBA", "F": "XWUTRQPNMLK", "G": "XWUTRQPNMLK",
               "M": "XWUTRQPNJLK"}[prefix]  # fmt: skip
    return prefix + digits + letters[total % 11]


_VERHOEFF_D = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5], [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7], [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3], [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
]  # fmt: skip
_VERHOEFF_P = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4], [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7], [9, 4, 5, 3, 1, 2, 6, 8, 7, 0], [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5], [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
]  # fmt: skip
_VERHOEFF_INV = [0, 4, 3, 2, 1, 5, 6, 7, 8, 9]


def verhoeff(body: str) -> str:
    c = 0
    for i, d in enumerate(reversed(body)):
        c = _VERHOEFF_D[c][_VERHOEFF_P[(i + 1) % 8][int(d)]]
    return body + str(_VERHOEFF_INV[c])


def bad(value: str) -> str:
    """`value` with its last character changed, so its check no longer holds."""
    last = value[-1]
    if last.isdigit():
        return value[:-1] + str((int(last) + 1) % 10)
    return value[:-1] + ("A" if last != "A" else "B")


# ---------------------------------------------------------------------------------------------
# Synthetic values
# ---------------------------------------------------------------------------------------------

NHS = nhs("401023456")
NHS_SPACED = f"{NHS[:3]} {NHS[3:6]} {NHS[6:]}"
NINO = "JX482107B"
NINO_SPACED = "JX 48 21 07 B"
SIN = luhn("13045678")
SIN_SPACED = f"{SIN[:3]} {SIN[3:6]} {SIN[6:]}"
NIF = dni("48291037")
NIE = nie("Y", "2938471")
CF = codice_fiscale("BNCLRA90E52F205")  # a woman: day 52 = the 12th
CF_OMOCODE = codice_fiscale("BNCLRA90E52F2LR")  # the last two digits in omocodia letters
NIR = nir("1930775114302")
NIR_SPACED = f"{NIR[0]} {NIR[1:3]} {NIR[3:5]} {NIR[5:7]} {NIR[7:10]} {NIR[10:13]} {NIR[13:]}"
NIR_CORSICA = nir("288112A004123")
NIR_CORSICA_SPACED = (
    f"{NIR_CORSICA[0]} {NIR_CORSICA[1:3]} {NIR_CORSICA[3:5]} {NIR_CORSICA[5:7]} "
    f"{NIR_CORSICA[7:10]} {NIR_CORSICA[10:13]} {NIR_CORSICA[13:]}"
)
STEUER_ID = steuer_id("4706193526")  # 6 twice, every other digit at most once
STEUER_ID_SPACED = f"{STEUER_ID[:2]} {STEUER_ID[2:5]} {STEUER_ID[5:8]} {STEUER_ID[8:]}"
BSN = bsn("31415926")
CPF = cpf("528491037")
CPF_FORMATTED = f"{CPF[:3]}.{CPF[3:6]}.{CPF[6:9]}-{CPF[9:]}"
PESEL = pesel("0227080362")  # born 2002-07-08 (month 27 = July of the 2000s)
NRIC_S = nric("S", "8123456")
NRIC_M = nric("M", "4455667")
AADHAAR = verhoeff("52846193720")
AADHAAR_SPACED = f"{AADHAAR[:4]} {AADHAAR[4:8]} {AADHAAR[8:]}"


def found(text: str) -> list[tuple[str, str]]:
    """(entity type, exact value) per span the national-ID recognizers report.

    A labelled and an unlabelled recognizer of one type may report the same or overlapping
    spans; they are united, as the engine's merge would.
    """
    return tables.found(NATIONAL_ID_RECOGNIZERS, text, outermost=True)


# ---------------------------------------------------------------------------------------------
# Hits: the number is reported, its label survives
# ---------------------------------------------------------------------------------------------

HITS = [
    (f"NHS number: {NHS_SPACED}", [("UK_NHS", NHS_SPACED)]),
    (f'{{"nhs_no": "{NHS}"}}', [("UK_NHS", NHS)]),
    (f"nhs no. {NHS[:3]}-{NHS[3:6]}-{NHS[6:]} seen", [("UK_NHS", f"{NHS[:3]}-{NHS[3:6]}-{NHS[6:]}")]),
    (f"patient NHS {NHS} admitted", [("UK_NHS", NHS)]),
    (f"employee {NINO_SPACED} joined", [("UK_NINO", NINO_SPACED)]),
    (f"National Insurance number: {NINO}", [("UK_NINO", NINO)]),
    ("NI No. jx 48 21 07 b", [("UK_NINO", "jx 48 21 07 b")]),
    ("nino=JX-48-21-07-B", [("UK_NINO", "JX-48-21-07-B")]),
    ("ITIN 912-78-1234 on file", [("US_ITIN", "912-78-1234")]),
    ("filer 900-55-0042 refund", [("US_ITIN", "900-55-0042")]),
    ("itin: 912781234", [("US_ITIN", "912781234")]),
    ("Taxpayer ID 955 94 1234", [("US_ITIN", "955 94 1234")]),
    ("Passport No: 530217864", [("US_PASSPORT", "530217864")]),
    ("passport #A30217864 issued", [("US_PASSPORT", "A30217864")]),
    ("Passport: C01X00T47", [("PASSPORT", "C01X00T47")]),
    ('{"passport_number": "18AV12345"}', [("PASSPORT", "18AV12345")]),
    ("Reisepassnummer: C4J1K2L37", [("PASSPORT", "C4J1K2L37")]),
    (f"SIN: {SIN_SPACED}", [("CA_SIN", SIN_SPACED)]),
    (f"social insurance number {SIN[:3]}-{SIN[3:6]}-{SIN[6:]}",
     [("CA_SIN", f"{SIN[:3]}-{SIN[3:6]}-{SIN[6:]}")]),
    (f"sin={SIN}", [("CA_SIN", SIN)]),
    ("DNI 12345678Z", [("ES_NIF", "12345678Z")]),
    (f"cliente {NIF} registrado", [("ES_NIF", NIF)]),
    (f"GET /clientes/{NIF}/pedidos", [("ES_NIF", NIF)]),
    (f'{{"nif":"{NIF[:8]}-{NIF[8]}"}}', [("ES_NIF", f"{NIF[:8]}-{NIF[8]}")]),
    (f"NIF: {NIF[:2]}.{NIF[2:5]}.{NIF[5:8]}-{NIF[8]}", [("ES_NIF", f"{NIF[:2]}.{NIF[2:5]}.{NIF[5:8]}-{NIF[8]}")]),
    (f"dni {NIF[:8]} {NIF[8].lower()}", [("ES_NIF", f"{NIF[:8]} {NIF[8].lower()}")]),
    (f"titular {NIE}.", [("ES_NIE", NIE)]),
    (f"NIE: {NIE[0].lower()}-{NIE[1:8]}-{NIE[8].lower()}",
     [("ES_NIE", f"{NIE[0].lower()}-{NIE[1:8]}-{NIE[8].lower()}")]),
    (f"codice fiscale {CF}", [("IT_FISCAL_CODE", CF)]),
    (f"cf={CF_OMOCODE}", [("IT_FISCAL_CODE", CF_OMOCODE)]),
    (f"assuré {NIR_SPACED} enregistré", [("FR_NIR", NIR_SPACED)]),
    (f"NIR: {NIR}", [("FR_NIR", NIR)]),
    (f"numéro de sécurité sociale : {NIR_CORSICA_SPACED}", [("FR_NIR", NIR_CORSICA_SPACED)]),
    (f"Steuer-IdNr.: {STEUER_ID_SPACED}", [("DE_TAX_ID", STEUER_ID_SPACED)]),
    (f"steueridentifikationsnummer {STEUER_ID}", [("DE_TAX_ID", STEUER_ID)]),
    (f"tax id: {STEUER_ID}", [("DE_TAX_ID", STEUER_ID)]),
    (f"BSN: {BSN}", [("NL_BSN", BSN)]),
    (f"burgerservicenummer {BSN[:4]}.{BSN[4:6]}.{BSN[6:]}", [("NL_BSN", f"{BSN[:4]}.{BSN[4:6]}.{BSN[6:]}")]),
    (f"sofinummer={BSN[:3]} {BSN[3:6]} {BSN[6:]}", [("NL_BSN", f"{BSN[:3]} {BSN[3:6]} {BSN[6:]}")]),
    (f"cliente {CPF_FORMATTED} ativo", [("BR_CPF", CPF_FORMATTED)]),
    (f"CPF: {CPF}", [("BR_CPF", CPF)]),
    (f"cpf {CPF[:9]}-{CPF[9:]}", [("BR_CPF", f"{CPF[:9]}-{CPF[9:]}")]),
    (f"PESEL: {PESEL}", [("PL_PESEL", PESEL)]),
    (f"holder {NRIC_S} verified", [("SG_NRIC_FIN", NRIC_S)]),
    (f"FIN {NRIC_M}", [("SG_NRIC_FIN", NRIC_M)]),
    ("PAN: ABCPE1234F", [("IN_PAN", "ABCPE1234F")]),
    ("pan card no. abcpe1234f", [("IN_PAN", "abcpe1234f")]),
    (f"Aadhaar: {AADHAAR_SPACED}", [("IN_AADHAAR", AADHAAR_SPACED)]),
    (f"aadhar no {AADHAAR[:4]}-{AADHAAR[4:8]}-{AADHAAR[8:]}",
     [("IN_AADHAAR", f"{AADHAAR[:4]}-{AADHAAR[4:8]}-{AADHAAR[8:]}")]),
    (f"UID No. {AADHAAR}", [("IN_AADHAAR", AADHAAR)]),
    (f"NIF {NIF}, NIE {NIE}", [("ES_NIF", NIF), ("ES_NIE", NIE)]),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), HITS)
def test_national_ids_are_found_and_only_the_number_is_taken(
    text: str, expected: list[tuple[str, str]]
) -> None:
    assert found(text) == expected


# ---------------------------------------------------------------------------------------------
# Near misses
# ---------------------------------------------------------------------------------------------

NEAR_MISSES = [
    # NHS: a bare 3-3-4 number is a phone number or three log columns
    f"call {NHS_SPACED} now",
    f"NHS number: {bad(NHS)}",
    f"NHS {NHS[:3]}-{NHS[3:6]} {NHS[6:]}",  # mixed separators
    f"NHS number {NHS_SPACED}-2",  # a longer id
    "nhs 0000000000",
    # NINO
    NINO,  # compact needs a label
    "QQ 12 34 56 C",  # HMRC's specimen: Q is never a prefix letter
    "BG 12 34 56 A",  # excluded prefix
    "DA 12 34 56 A",  # D is never a first letter
    "AO 12 34 56 A",  # O is never a second letter
    "JX 48 21 07 E",  # suffix beyond D
    "NINO: JX 48 21 07",  # no suffix
    "dump: AB 12 34 56 CD 0F",  # hex bytes
    # ITIN
    "912-93-1234",  # group 93 is not issued
    "912-45-1234",
    "912781234",  # compact needs a label
    "812-78-1234",
    "ref 912-78-1234-5",
    # passports
    "passport-oauth2 strategy loaded",
    "passport expired on 2024-05-01",
    "passport: required",
    "passport #12",
    "passport 530217864",  # a label needs its number word or colon
    "passport number: 5302178641",
    # CA SIN
    f"batch {SIN_SPACED}",
    f"SIN: {bad(SIN)}",
    f"SIN: {luhn('83045678')}",  # 8 is never a first digit for a person
    "y = sin(0.5) * 123456789",
    # Spain
    f"NIF {bad(NIF)}",
    f"id_{NIF}",
    f"{NIF}x",
    f"{NIF}-2024",
    f"v1.{NIF}",
    f"{NIF[:8]} {NIF[8]}",  # spaced without a label
    f"A{NIE}",
    f"NIE {bad(NIE)}",
    # Italy
    bad(CF),
    CF.lower(),  # lower case is left alone
    f"X{CF}",
    CF[:8] + "F" + CF[9:],  # F is not a month letter
    # France
    f"{NIR}",  # compact needs a label
    f"NIR {bad(NIR)}",
    "3 93 07 75 114 302 45",  # sex digit 3
    f"NIR {NIR[0]} {NIR[1:3]}.{NIR[3:5]} {NIR[5:7]} {NIR[7:10]} {NIR[10:13]} {NIR[13:]}",
    # Germany
    STEUER_ID,  # needs a label
    f"Steuer-ID {bad(STEUER_ID)}",
    f"IdNr {steuer_id('1234567890')}",  # no repeated digit
    f"IdNr {steuer_id('4446193520')}",  # one digit three times in a row
    f"IdNr {steuer_id('0716293540')}",  # leading zero
    # Netherlands
    BSN,
    f"BSN {bad(BSN)}",
    # Brazil
    f"CPF {bad(CPF)}",
    "111.111.111-11",
    CPF,  # compact needs a label
    f"{CPF_FORMATTED}.1",
    # Poland
    PESEL,
    f"PESEL {bad(PESEL)}",
    f"PESEL {pesel('0213080362')}",  # month 13 of the 1900s
    # Singapore
    bad(NRIC_S),
    NRIC_S.lower(),
    f"X{NRIC_S}",
    f"{NRIC_S}_2",
    # India
    "ABCPE1234F",  # PAN needs its label
    "PAN: ABCZE1234F",  # Z is not a holder type
    "PAN: 4111111111111111",
    AADHAAR_SPACED,
    f"Aadhaar: {bad(AADHAAR)}",
    f"Aadhaar: {verhoeff('12846193720')}",  # never starts with 1
    f"uid {AADHAAR}",  # a Unix uid, not `UID no`
    # logs
    "2024-01-15T10:22:33.123Z pid=12345 took 1234 ms",
    "GET /api/v1/items/20240115 200 in 35ms",
]


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_near_misses_are_ignored(text: str) -> None:
    assert found(text) == []


# ---------------------------------------------------------------------------------------------
# Validators, directly
# ---------------------------------------------------------------------------------------------

VALIDATORS: list[tuple[Callable[[str], bool], str]] = [
    (is_uk_nhs, NHS),
    (is_ca_sin, SIN),
    (is_es_nif, NIF),
    (is_es_nie, NIE),
    (is_it_fiscal_code, CF),
    (is_it_fiscal_code, CF_OMOCODE),
    (is_fr_nir, NIR),
    (is_fr_nir, NIR_CORSICA),
    (is_de_tax_id, STEUER_ID),
    (is_nl_bsn, BSN),
    (is_br_cpf, CPF_FORMATTED),
    (is_pl_pesel, PESEL),
    (is_sg_nric_fin, NRIC_S),
    (is_sg_nric_fin, NRIC_M),
    (is_sg_nric_fin, nric("T", "0123456")),
    (is_sg_nric_fin, nric("F", "1234567")),
    (is_sg_nric_fin, nric("G", "7654321")),
    (is_in_aadhaar, AADHAAR),
]


@pytest.mark.parametrize(
    ("validator", "value"), VALIDATORS, ids=lambda v: getattr(v, "__name__", v)
)
def test_validator_accepts_the_check_character_and_rejects_another(
    validator: Callable[[str], bool], value: str
) -> None:
    assert validator(value)
    assert not validator(bad(value))


def test_validators_agree_with_published_specimens() -> None:
    # Specimens printed in the specifications' own documentation, not people's numbers.
    assert is_es_nif("12345678Z")
    assert is_it_fiscal_code("RSSMRA85T10A562S")
    assert is_sg_nric_fin("S1234567D")
    assert verhoeff_ok("2363")
    assert not verhoeff_ok("2364")


def test_validator_rules_beyond_the_check_character() -> None:
    # NINOs and ITINs carry no check character: their issuing rules are the whole test.
    assert is_uk_nino(NINO) and is_uk_nino("jx 48 21 07 b")
    assert not is_uk_nino("GB123456A") and not is_uk_nino("JX482107E")
    assert not is_uk_nino("JX 48-21-07 B")  # mixed separators
    assert is_us_itin("912-78-1234") and is_us_itin("900 50 0001")
    assert not is_us_itin("912-66-1234")  # 66-69 were never issued
    assert not is_us_itin("812-78-1234")
    assert not is_ca_sin(luhn("03045678"))
    assert not is_fr_nir(nir("1931375114302"))  # month 13
    assert not is_fr_nir(nir("1930700114302"))  # department 00
    assert is_fr_nir(nir("2995099114302"))  # month unknown (50+), born abroad (99)
    assert is_de_tax_id(steuer_id("4071936524"))  # 4 twice
    assert is_de_tax_id(steuer_id("4704193426"))  # 4 three times, never in a row
    assert not is_nl_bsn("000000000")
    assert is_pl_pesel(pesel("8912310000"))  # 1889-12-31
    assert not is_pl_pesel(pesel("0202300000"))  # 30 February
    assert is_us_passport("A30217864") and not is_passport("A30217864")
    assert is_passport("C01X00T47") and not is_us_passport("C01X00T47")
    assert not is_passport("oauth22")  # too few digits to be a document number
    assert is_in_pan("AAACB1234C") and not is_in_pan("AAACB0000C")


# ---------------------------------------------------------------------------------------------
# Pre-checks
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("recognizer", NATIONAL_ID_RECOGNIZERS, ids=lambda r: r.name)
def test_recognizers_need_a_digit_and_have_lower_case_triggers(
    recognizer: PatternRecognizer,
) -> None:
    assert recognizer.needs_digit
    assert all(t == t.lower() for t in recognizer.triggers)
    assert recognizer.scan("no digits here: NHS number, passport no, BSN, aadhaar, PESEL") == []
