"""Table tests for e-mail addresses and phone numbers (synthetic values only)."""

from __future__ import annotations

import pytest

from recognizers.contact import CONTACT_RECOGNIZERS, is_email, is_strong_phone
from tests.unit.recognizers import tables


def found(text: str) -> list[tuple[str, str]]:
    """(entity type, exact value) per span the contact recognizers report."""
    return tables.found(CONTACT_RECOGNIZERS, text)


EMAIL = "EMAIL_ADDRESS"
EMAIL_HITS = [
    ("contact alice@example.com today", [("EMAIL_ADDRESS", "alice@example.com")]),
    ("<bob.smith+news@mail.example.co.uk>", [(EMAIL, "bob.smith+news@mail.example.co.uk")]),
    ("user=carol_99@example.org;", [("EMAIL_ADDRESS", "carol_99@example.org")]),
    ('{"email":"Dave.O-Neil@Example.COM"}', [("EMAIL_ADDRESS", "Dave.O-Neil@Example.COM")]),
    ("mailto:erin%ops@sub-domain.example.io", [(EMAIL, "erin%ops@sub-domain.example.io")]),
    ("reply to frank@example.museum.", [("EMAIL_ADDRESS", "frank@example.museum")]),
    ("root@build-01.example.net ran it", [("EMAIL_ADDRESS", "root@build-01.example.net")]),
    ("a@b.co, c@d.co", [("EMAIL_ADDRESS", "a@b.co"), ("EMAIL_ADDRESS", "c@d.co")]),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), EMAIL_HITS)
def test_emails_are_found(text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text) == expected


EMAIL_NEAR_MISSES = [
    "From: noreply@github.com",
    "bounce to no-reply@example.com",
    "user@localhost",  # no top-level domain: a login, not a mailbox
    "icon@2x.png and logo@1.5x.webp",  # retina asset names
    "main@abc123.js",
    "git@github.com:example/repo.git",  # the code host's service account
    "lodash@4.17.21",  # npm package@version
    "@types/node@20.1.0",
    "getty@tty1.service started",
    "LANG=sd_IN@devanagari.UTF-8",
    "image@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "foo@bar",
    "a @ b.com",
]


@pytest.mark.parametrize("text", EMAIL_NEAR_MISSES)
def test_email_near_misses_are_ignored(text: str) -> None:
    assert [f for f in found(text) if f[0] == "EMAIL_ADDRESS"] == []


def test_email_validator_keeps_ordinary_mailboxes() -> None:
    assert is_email("git.user@example.com")
    assert not is_email("git@example.com")


PHONE_HITS = [
    # North American, with and without the country prefix.
    ("call (555) 123-4567 now", [("PHONE_NUMBER", "(555) 123-4567")]),
    ("555-123-4567", [("PHONE_NUMBER", "555-123-4567")]),
    ("555.123.4567", [("PHONE_NUMBER", "555.123.4567")]),
    ("(415)555-0100x123", [("PHONE_NUMBER", "(415)555-0100x123")]),
    ("415-555-0100 ext. 42", [("PHONE_NUMBER", "415-555-0100 ext. 42")]),
    ("1-800-555-0199", [("PHONE_NUMBER", "1-800-555-0199")]),
    ("+1 (212) 555-0147", [("PHONE_NUMBER", "+1 (212) 555-0147")]),
    ("001-212-555-0147", [("PHONE_NUMBER", "001-212-555-0147")]),
    # International and national formats.
    ("+44 20 7946 0958", [("PHONE_NUMBER", "+44 20 7946 0958")]),
    ("+447700900123", [("PHONE_NUMBER", "+447700900123")]),
    ("0044 20 7946 0958", [("PHONE_NUMBER", "0044 20 7946 0958")]),
    ("020 7946 0958", [("PHONE_NUMBER", "020 7946 0958")]),
    ("+49 30 12345678", [("PHONE_NUMBER", "+49 30 12345678")]),
    ("030 12345678", [("PHONE_NUMBER", "030 12345678")]),
    ("+33 1 42 68 53 00", [("PHONE_NUMBER", "+33 1 42 68 53 00")]),
    ("01 42 68 53 00", [("PHONE_NUMBER", "01 42 68 53 00")]),
    ("06.12.34.56.78", [("PHONE_NUMBER", "06.12.34.56.78")]),
    ("+41 (0)44 668 18 00", [("PHONE_NUMBER", "+41 (0)44 668 18 00")]),
    ("(02) 9374 4000", [("PHONE_NUMBER", "(02) 9374 4000")]),
    ("+91 98765 43210", [("PHONE_NUMBER", "+91 98765 43210")]),
    ("+81 3-1234-5678", [("PHONE_NUMBER", "+81 3-1234-5678")]),
    # Weak shapes, believable only next to a phone word.
    ("Phone: 5403926876", [("PHONE_NUMBER", "5403926876")]),
    ("Phone:\n358 0594", [("PHONE_NUMBER", "358 0594")]),
    ("call me on 450 0840?", [("PHONE_NUMBER", "450 0840")]),
    ("tel. (37) 788-063", [("PHONE_NUMBER", "(37) 788-063")]),
    ("mobile=99 577450", [("PHONE_NUMBER", "99 577450")]),
    ("781 1704 office", [("PHONE_NUMBER", "781 1704")]),
    ("28-64-66-98 fax", [("PHONE_NUMBER", "28-64-66-98")]),
    ("whatsapp +1 555 010 0199", [("PHONE_NUMBER", "+1 555 010 0199")]),
    ("a: 555-123-4567, b: 555-987-6543", [
        ("PHONE_NUMBER", "555-123-4567"),
        ("PHONE_NUMBER", "555-987-6543"),
    ]),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), PHONE_HITS)
def test_phones_are_found(text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text) == expected


PHONE_NEAR_MISSES = [
    # timestamps, dates and durations
    "2024-01-15T10:22:33.123Z",
    "2024-01-15 10:22:33,123 INFO started",
    "on 15/01/2024 and 01-15-2024 and 2024/01/15",
    "15.01.2024 12:30 backup done",
    "elapsed 00:01:02.345",
    "took 1234 ms",
    "call took 1234567 ms",
    # epoch values, ids and counters
    "ts=1700000000000",
    "epoch 1700000000",
    "pid=12345 tid=67890",
    "order_id=9876543210 status=shipped",
    "bytes=1048576 rx=123456789 tx=9876543210",
    "Connection broken for id 188978561024, my id = 3",
    "session 0x24edfaa8717002d",
    "processed 12 345 678 records",
    # network
    '"GET /index.html HTTP/1.1" 200 1532',
    "listening on 0.0.0.0:8080",
    "peer 192.168.100.200 port 5432",
    "from 10.0.0.5 port 52222 ssh2",
    # versions, hashes, uuids
    "upgraded to v2.10.3",
    "kernel 5.15.0-91-generic",
    "version 1.2.3-4.el8",
    "id 550e8400-e29b-41d4-a716-446655440000",
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    # numbers that only look phone-like
    "ratio=+35236450.6",
    "offset +0100, zone UTC+02:00",
    "SSN 123-45-6789",
    "Boston, MA 02110-1301",
    "order #123-456-7890 shipped",
    "0000 000 0000",
    "555-123 4567",
]


@pytest.mark.parametrize("text", PHONE_NEAR_MISSES)
def test_phone_near_misses_are_ignored(text: str) -> None:
    assert [f for f in found(text) if f[0] == "PHONE_NUMBER"] == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("+44 20 7946 0958", True),
        ("+999 1234 5678", False),  # no such country code
        ("(555) 123-4567", True),
        ("(155) 123-4567", False),  # area codes never start with 0 or 1
        ("01.15.2024", False),
        ("01.12.20.24.55", True),  # five groups: a French number, not a date
    ],
)
def test_strong_phone_validator(value: str, expected: bool) -> None:
    assert is_strong_phone(value) is expected
