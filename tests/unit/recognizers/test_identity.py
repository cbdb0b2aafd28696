"""Table tests for SSNs, dates of birth, driver's licences and street addresses (synthetic)."""

from __future__ import annotations

import pytest

from recognizers.identity import IDENTITY_RECOGNIZERS, is_birth_date, is_ssn
from tests.unit.recognizers import tables


def found(text: str) -> list[tuple[str, str]]:
    """(entity type, exact value) per span the identity recognizers report.

    Two recognizers may report overlapping spans of one type (an address with a unit is both a
    US street and a unit-vouched street); they are united, as the engine's merge would.
    """
    return tables.found(IDENTITY_RECOGNIZERS, text, outermost=True)


SSN_HITS = [
    ("SSN: 123-45-6789", [("US_SSN", "123-45-6789")]),
    ("applicant 536-22-1234 approved", [("US_SSN", "536-22-1234")]),
    ("ssn=536221234", [("US_SSN", "536221234")]),
    ("Social Security Number 536 22 1234", [("US_SSN", "536 22 1234")]),
    ("his social security no. is 536.22.1234", [("US_SSN", "536.22.1234")]),
    ('{"ssn": "772-10-0001"}', [("US_SSN", "772-10-0001")]),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), SSN_HITS)
def test_ssns_are_found(text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text) == expected


SSN_NEAR_MISSES = [
    "000-12-3456",  # area 000 is never issued
    "666-12-3456",  # nor 666
    "912-34-5678",  # nor 9xx (ITINs live there)
    "123-00-4567",  # group 00
    "123-45-0000",  # serial 0000
    "536221234",  # nine bare digits need a label
    "536 22 1234 rows",  # spaced groups need a label too: log columns look the same
    "part 123-45-6789-01",  # a longer dashed id
    "ssn=53622123",  # eight digits
    "SSN 536-22 1234",  # mixed separators
    "2024-01-15T10:22:33.123Z",
    "pid=12345 took 1234 ms",
]


@pytest.mark.parametrize("text", SSN_NEAR_MISSES)
def test_ssn_near_misses_are_ignored(text: str) -> None:
    assert [f for f in found(text) if f[0] == "US_SSN"] == []


def test_ssn_validator_rules() -> None:
    assert is_ssn("536-22-1234")
    assert not is_ssn("111-11-1111")


DOB_HITS = [
    ("DOB: 01/02/1990", [("DATE_OF_BIRTH", "01/02/1990")]),
    ("date of birth: 1990-01-15", [("DATE_OF_BIRTH", "1990-01-15")]),
    ("Date_of_Birth=15.01.1990", [("DATE_OF_BIRTH", "15.01.1990")]),
    ('"dob": "1990-01-15T00:00:00Z"', [("DATE_OF_BIRTH", "1990-01-15T00:00:00Z")]),
    ("birth_date=19900115", [("DATE_OF_BIRTH", "19900115")]),
    ("she was born on 3 March 1985 in Ohio", [("DATE_OF_BIRTH", "3 March 1985")]),
    ("Born on March 3rd, 1985", [("DATE_OF_BIRTH", "March 3rd, 1985")]),
    ("birthday: July 4", [("DATE_OF_BIRTH", "July 4")]),
    ("d.o.b. 12-31-1999", [("DATE_OF_BIRTH", "12-31-1999")]),
    ("Geburtsdatum: 15.01.1990", [("DATE_OF_BIRTH", "15.01.1990")]),
    ("birthdate is 4th of July 1976", [("DATE_OF_BIRTH", "4th of July 1976")]),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), DOB_HITS)
def test_dates_of_birth_are_found(text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text) == expected


DOB_NEAR_MISSES = [
    "2024-01-15T10:22:33.123Z request done",  # a timestamp is not a birth date
    "created 1990-01-15, updated 2024-01-15",
    "DOB: 13/13/1990",  # no such month or day
    "date of birth: 1850-01-01",  # outside 1900-2099
    "dob: 1990-13-01",
    "born 1985",  # a year alone is not a date
    "first born on call 2024-01-15",
    "adobe 2024-01-15",
]


@pytest.mark.parametrize("text", DOB_NEAR_MISSES)
def test_dob_near_misses_are_ignored(text: str) -> None:
    assert [f for f in found(text) if f[0] == "DATE_OF_BIRTH"] == []


def test_birth_date_validator_accepts_either_day_month_order() -> None:
    assert is_birth_date("31/12/1999")
    assert is_birth_date("12/31/1999")
    assert not is_birth_date("31/31/1999")


LICENSE_HITS = [
    ("driver's license number is F162823540116", [("US_DRIVER_LICENSE", "F162823540116")]),
    ("Driver License: D1234567", [("US_DRIVER_LICENSE", "D1234567")]),
    ("DL# 123-456-789", [("US_DRIVER_LICENSE", "123-456-789")]),
    ("drivers_license_no=S53072941", [("US_DRIVER_LICENSE", "S53072941")]),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), LICENSE_HITS)
def test_driver_licenses_are_found_next_to_their_label(
    text: str, expected: list[tuple[str, str]]
) -> None:
    assert found(text) == expected


LICENSE_NEAR_MISSES = [
    "F162823540116",  # licence numbers need their label
    "merge 2a02262078 dl/t5520-cleanup later",  # a git topic, not a licence
    "dl 12345678 bytes",  # "dl" alone means download
    "license number ABC",  # no digits
    "MIT license 2024",
]


@pytest.mark.parametrize("text", LICENSE_NEAR_MISSES)
def test_license_near_misses_are_ignored(text: str) -> None:
    assert [f for f in found(text) if f[0] == "US_DRIVER_LICENSE"] == []


ADDRESS_HITS = [
    # US: number, name, street word, then unit, city, state and ZIP.
    ("at 1600 Pennsylvania Avenue NW, Washington, DC 20500.",
     ["1600 Pennsylvania Avenue NW, Washington, DC 20500"]),
    ("221B Baker Street", ["221B Baker Street"]),
    ("350 Fifth Avenue, Suite 3300, New York, NY 10118",
     ["350 Fifth Avenue, Suite 3300, New York, NY 10118"]),
    ("1 Hacker Way, Menlo Park, CA 94025-1456", ["1 Hacker Way, Menlo Park, CA 94025-1456"]),
    ("ship to 42 W 34th St Apt 4B", ["42 W 34th St Apt 4B"]),
    ("12 Oak Dr.", ["12 Oak Dr."]),
    # Street word glued to the name, or its own word, then the number.
    ("Hauptstraße 5, 10115 Berlin", ["Hauptstraße 5, 10115 Berlin"]),
    ("Augsburger Strasse 36", ["Augsburger Strasse 36"]),
    ("Koskikatu 25", ["Koskikatu 25"]),
    ("Ringvej 144", ["Ringvej 144"]),
    ("Kossuth Lajos utca 12.", ["Kossuth Lajos utca 12"]),
    ("Þórunnarstræti 31", ["Þórunnarstræti 31"]),
    # Street word first, number last; or the French order.
    ("Rue de la Paix 12", ["Rue de la Paix 12"]),
    ("12 rue de la Paix, 75002 Paris", ["12 rue de la Paix, 75002 Paris"]),
    ("Via Roma 10", ["Via Roma 10"]),
    ("ul. Marszałkowska 10", ["ul. Marszałkowska 10"]),
    ("Avenue d'Ouchy 109", ["Avenue d'Ouchy 109"]),
    # Boxes.
    ("P.O. Box 1234", ["P.O. Box 1234"]),
    ("PSC 1234, Box 5678\nAPO AE 09012", ["PSC 1234, Box 5678\nAPO AE 09012"]),
    # No street word, but a label, a unit or a postcode line vouches for it.
    ("He lives at Maneeži 75.", ["Maneeži 75"]),
    ("address: 5366 Pivovarská 276", ["5366 Pivovarská 276"]),
    ("Allika 46\n Suite 501\n Riisa\n Estonia 62488",
     ["Allika 46\n Suite 501\n Riisa\n Estonia 62488"]),
    ("Kaevu 94\n10115 Tallinn", ["Kaevu 94\n10115 Tallinn"]),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), ADDRESS_HITS)
def test_street_addresses_are_found(text: str, expected: list[str]) -> None:
    assert found(text) == [("LOCATION", value) for value in expected]


ADDRESS_NEAR_MISSES = [
    "Windows 10 Pro, Python 3, Route 66, Area 51",
    "Chapter 5 Section 3",
    "uses 12 Worker Threads",
    "Top 10 Best Ways to save",
    "Aggregate 3 rows; String 5; Delegate 2",
    "we moved to Kubernetes 1.28 last week",
    "ship to Python 3.11 runtime",
    "the address space is 4096 bytes",
    "IP address 10.0.0.1 bound",
    "Address change detected. Old: msra-sa-41/10.190.173.170:8030 New: msra-sa-41:8030",
    "Found child 6333 in scoreboard slot 8",
    "Boarding gate 12",
    "2024-01-15 10:22:33 INFO Worker 3 Street cleanup done",
    "retry 3 of 5",
    "Step 3 Dry Run finished; added 2 Static Route; 4 Event Loop threads; 5 Random Walk",
]


@pytest.mark.parametrize("text", ADDRESS_NEAR_MISSES)
def test_address_near_misses_are_ignored(text: str) -> None:
    assert [f for f in found(text) if f[0] == "LOCATION"] == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("221B Baker Street, London NW1 6XE, UK", ["NW1 6XE"]),
        ("Westminster SW1A 1AA", ["SW1A 1AA"]),
        ("Ottawa ON K1A 0B6", ["K1A 0B6"]),
        ("zip code 94107", ["94107"]),
        ("GET /v1/items?page=2 200 12ms", []),
        ("build A1-2BC done", []),
        ("postal code: W1", []),
    ],
)
def test_postcodes_in_their_printed_form_or_after_a_label(text: str, expected: list[str]) -> None:
    assert [value for kind, value in found(text) if kind == "POSTAL_CODE"] == expected
