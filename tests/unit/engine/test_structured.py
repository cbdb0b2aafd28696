"""Structured text: logfmt, `key: value`, query strings, cookies, syslog structured data and
combined access logs are read like JSON, so keys say what values are; the rest of the line is
scanned as before, and a line with nothing to replace comes out byte for byte."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from scrubber.config import parse_config
from scrubber.engine import Scrubber, structured
from scrubber.engine.structured import logfmt_slots, text_slots
from scrubber.models import Outcome

SYSLOG = "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
CLF = '203.0.113.9 - frank [10/Oct/2000:13:55:36 -0700] "GET /a.gif?user_name=jdoe&lang=en HTTP/1.0" 200 2326'


def _slots(line: str) -> list[tuple[str, str]]:
    return [(slot.path, slot.value(line)) for slot in text_slots(line)]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # logfmt, quoted values with escaped quotes, trailing punctuation off a bare value
        ('level=info user=jane msg="say \\"hi\\"" n=12',
         [("level", "info"), ("user", "jane"), ("msg", 'say \\"hi\\"'), ("n", "12")]),
        ("authentication failure; logname= uid=0, euid=0",
         [("uid", "0"), ("euid", "0")]),
        # empty and unterminated values give no slot; the rest of the line still does
        ('ruser= rhost=1.2.3.4 msg="open', [("rhost", "1.2.3.4")]),
        # `key: value` pairs: at a line start, more after a separator, keys of up to 3 words
        ("Password: hunter2", [("Password", "hunter2")]),
        ("Email: a@b.example; Phone: 123", [("Email", "a@b.example"), ("Phone", "123")]),
        ("Status: ok  Detail: cache warmed", [("Status", "ok"), ("Detail", "cache warmed")]),
        ("Name: Jane\nBilling address: Sara Schwarz",
         [("Name", "Jane"), ("Billing address", "Sara Schwarz")]),
        ("Password: hunter2 user=jane", [("Password", "hunter2"), ("user", "jane")]),
        # query strings: after `?`, or a bare `a=1&b=2` token; names percent-decoded
        ("GET /a?email=jane%40example.com&page=2 HTTP/1.1",
         [("query.email", "jane%40example.com"), ("query.page", "2")]),
        ("email=x%40y.example&pass%77ord=p", [("query.email", "x%40y.example"),
                                              ("query.password", "p")]),
        # cookies: every value; a Set-Cookie line's attributes are not values
        ("Cookie: session=abc123; uid=42", [("cookie.session", "abc123"), ("cookie.uid", "42")]),
        ("Set-Cookie: sid=abc123; Path=/; HttpOnly; Expires=Wed, 21 Oct 2026 07:28:00 GMT",
         [("cookie.sid", "abc123"), ("Path", "/"), ("Expires", "Wed")]),  # these two as logfmt
        ("f(user=root) x=${VAR} y=[a]", [("user", "root"), ("x", "${VAR}"), ("y", "[a]")]),
        # RFC 5424 structured data, escapes included
        (SYSLOG + '[exampleSDID@32473 iut="3" eventSource="Application"] An event',
         [("exampleSDID@32473.iut", "3"), ("exampleSDID@32473.eventSource", "Application")]),
        (SYSLOG + '[a@1 k="x\\]y"][b@2 ip="192.0.2.1"]', [("a@1.k", "x\\]y"), ("b@2.ip", "192.0.2.1")]),
        # combined log format: positional fields, and the query inside the request
        (CLF, [("remote_addr", "203.0.113.9"), ("remote_ident", "-"), ("remote_user", "frank"),
               ("request", "GET /a.gif?user_name=jdoe&lang=en HTTP/1.0"),
               ("query.user_name", "jdoe"), ("query.lang", "en")]),
    ],
)  # fmt: skip
def test_each_format_is_recognised(line: str, expected: list[tuple[str, str]]) -> None:
    assert _slots(line) == expected


@pytest.mark.parametrize(
    "line",
    [
        "Server environment:user.name=zookeeper",  # a key does not start after `:`
        "Nov 24 08:15:12 bastion sshd[1234]: Failed password for root",  # not a line-start key
        "what? no",  # a question mark is not a query string
        "a = b",  # spaced `=` is prose
        "plain words only",
        SYSLOG[:-1],  # a syslog header alone: no structured data
        '<165>1 2003-10-11T22:14:15Z host app - - [broken password="s3cret" no close',
        '203.0.113.9 - frank [10/Oct/2000:13:55:36 -0700] "GET /x HTTP/1.0',  # no status
    ],
)
def test_near_misses_give_no_slot_of_that_format(line: str) -> None:
    paths = [path for path, _ in _slots(line)]
    assert not any(p.startswith(("remote_", "cookie.", "query.")) or "@" in p for p in paths)
    assert "user.name" not in paths and "sshd[1234]" not in paths


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('ts=2026-11-24T08:15:03Z level=info customer="Jane Roe" action=login',
         'ts=2026-11-24T08:15:03Z level=info customer="<PERSON>" action=login'),
        ('level=warn msg="user jane.roe@example.com failed" pwd=hunter2',
         'level=warn msg="user <EMAIL_ADDRESS> failed" pwd=<SECRET>'),
        ('level=info password="p@ss \\"word\\"" n=1', 'level=info password="<SECRET>" n=1'),
        ("Password: correct horse battery staple", "Password: <SECRET>"),
        ("Email: jane.roe@example.com; Phone: +1 415 555 0199",
         "Email: <EMAIL_ADDRESS>; Phone: <PHONE_NUMBER>"),
        ("Name: Jane Roe", "Name: <PERSON>"),
        ("GET /login?email=jane%40example.com&token=f3Kq81vZc0Wd&page=2 HTTP/1.1",
         "GET /login?email=<EMAIL_ADDRESS>&token=<SECRET>&page=2 HTTP/1.1"),
        ("email=jane%40example.com&password=hunter22", "email=<EMAIL_ADDRESS>&password=<SECRET>"),
        ("Cookie: session=8f3a9c1e2b4d4e8f; uid=4711", "Cookie: session=<SECRET>; uid=<SECRET>"),
        ("Set-Cookie: sid=abcdef123456; Path=/; HttpOnly",
         "Set-Cookie: sid=<SECRET>; Path=/; HttpOnly"),
        (SYSLOG + '[auth@32473 user_name="jdoe" password="s3cr\\"et\\]x"][origin ip="192.0.2.1"] ok',
         SYSLOG + '[auth@32473 user_name="<USERNAME>" password="<SECRET>"][origin ip="<IP_ADDRESS>"] ok'),
        (CLF + ' "http://www.example.com/start?email=jane%40example.com" "Mozilla/4.08 [en]"',
         '<IP_ADDRESS> - <USERNAME> [10/Oct/2000:13:55:36 -0700] "GET /a.gif?user_name=<USERNAME>'
         '&lang=en HTTP/1.0" 200 2326 "http://www.example.com/start?email=<EMAIL_ADDRESS>" '
         '"Mozilla/4.08 [en]"'),
        # a key hint names a value only when nothing more precise was found in it
        ("pam_unix(sshd:auth): authentication failure; logname= uid=0 rhost=173.234.31.186",
         "pam_unix(sshd:auth): authentication failure; logname= uid=0 rhost=<IP_ADDRESS>"),
    ],
)  # fmt: skip
def test_keys_decide_values_and_the_rest_is_kept_byte_for_byte(
    engine: Scrubber, line: str, expected: str
) -> None:
    assert engine.scrub_text(line) == expected


@pytest.mark.parametrize(
    "line",
    [
        'level=info msg="cache warmed" n=12 took=34ms',
        "GET /search?q=shoes&page=2&sort=price%20asc HTTP/1.1",
        "Status: ok  Detail: cache warmed",
        "password=*** token=${API_TOKEN} secret=",
        SYSLOG + '[exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] An event',
        "Last login: Wed Dec 10 08:15:07 2026 on tty1",  # a sentence, not a `login` value
        "warning: can't get client address: Connection reset by peer",
    ],
)
def test_structured_lines_without_pii_come_out_identical(engine: Scrubber, line: str) -> None:
    [result] = engine.scrub_batch([line], "text")
    assert result.output == line and not result.replacements


@pytest.mark.parametrize(
    ("line", "gone", "kept"),
    [
        ('<165>1 2003-10-11T22:14:15Z host app - - [sd user="jane.roe@example.com" no close',
         "jane.roe@example.com", "[sd user="),
        ('203.0.113.9 - frank [10/Oct/2000:13:55:36 -0700] "GET /x HTTP/1.0',
         "203.0.113.9", '"GET /x HTTP/1.0'),
        ('msg="unterminated password=hunter22', "hunter22", 'msg="unterminated password='),
    ],
)  # fmt: skip
def test_malformed_lines_fall_back_to_text(
    engine: Scrubber, line: str, gone: str, kept: str
) -> None:
    [result] = engine.scrub_batch([line], "text")
    assert result.outcome is Outcome.OK
    assert gone not in result.output and kept in result.output


def test_a_parser_that_raises_loses_no_record(
    engine: Scrubber, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(text: str) -> list[structured.Slot]:
        raise RuntimeError(text)

    monkeypatch.setattr(structured, "logfmt_slots", boom)
    [result] = engine.scrub_batch(["level=info user=jane.roe@example.com"], "text")
    assert result.outcome is Outcome.OK
    assert result.output == "level=info user=<EMAIL_ADDRESS>"


def test_replacements_are_reported_at_their_place_in_the_line(engine: Scrubber) -> None:
    line = "level=info pwd=hunter2 email=jane.roe@example.com"
    [result] = engine.scrub_batch([line], "text")
    found = {(line[r.start : r.end], r.entity_type, r.path) for r in result.replacements}
    assert found == {("hunter2", "SECRET", ""), ("jane.roe@example.com", "EMAIL_ADDRESS", "")}
    assert result.entity_counts == {"SECRET": 1, "EMAIL_ADDRESS": 1}


def test_field_rules_apply_to_text_keys(make_engine: Callable[..., Scrubber]) -> None:
    engine = make_engine({"policy": {"fields": {
        "*.ticket": {"type": "redact"}, "query.page": {"type": "redact"},
        "trace_note": {"type": "keep"},
    }}})  # fmt: skip
    line = 'ticket=T-1234 trace_note="mail jane.roe@example.com" url=/a?page=2 mail=jane.roe@x.io'
    assert engine.scrub_text(line) == (
        'ticket=[REDACTED] trace_note="mail jane.roe@example.com" url=/a?page=[REDACTED] '
        "mail=<EMAIL_ADDRESS>"
    )


def test_replacements_are_written_so_the_format_still_parses(
    make_engine: Callable[..., Scrubber],
) -> None:
    odd = 'x "y" z&w'
    engine = make_engine(
        {"policy": {"entities": {"SECRET": {"type": "redact", "placeholder": odd}}}}
    )
    line = 'password="a b" pwd=abc next=1'
    out = engine.scrub_text(line)
    assert out == 'password="x \\"y\\" z&w" pwd=x__y__z&w next=1'
    assert [s.key for s in logfmt_slots(out)] == ["password", "pwd", "next"]
    query = engine.scrub_text("GET /a?token=abc123&page=2 HTTP/1.1")
    assert query == "GET /a?token=x%20%22y%22%20z%26w&page=2 HTTP/1.1"


def test_structured_text_can_be_switched_off(make_engine: Callable[..., Scrubber]) -> None:
    engine = make_engine({"detection": {"structured_text": False}})
    assert (
        engine.scrub_text("Cookie: session=8f3a9c1e2b4d4e8f") == "Cookie: session=8f3a9c1e2b4d4e8f"
    )


def test_the_new_settings_leave_the_config_hash_alone_unless_set() -> None:
    base = parse_config({}).digest()
    assert (
        parse_config({"detection": {"structured_text": True, "propagate": True}}).digest() == base
    )
    assert parse_config({"detection": {"structured_text": False}}).digest() != base
    assert parse_config({"detection": {"propagate": False}}).digest() != base


@pytest.mark.parametrize(
    "line",
    ["a&" * 30000 + "=", " a&b" * 15000 + " x=", "?a=1" * 15000, 'a="' * 20000, "a." * 30000 + "=",
     "Key: v;  " * 7000, "K: " + "  a" * 20000 + "=", "Cookie: " + "a=b; " * 12000,
     SYSLOG + '[x k="v"' * 5000, 'k="' + "\\" * 60000, "A b c" + " " * 60000 + ": x="],
)  # fmt: skip
def test_parsing_stays_linear_on_hostile_lines(line: str) -> None:
    started = time.perf_counter()
    slots = text_slots(line)
    assert time.perf_counter() - started < 1.0
    assert len(slots) <= structured.MAX_SLOTS
