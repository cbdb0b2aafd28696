"""Hypothesis properties of structured text and propagation: a value found once never survives
at another position in any case; logfmt in gives logfmt out; a line with no PII is unchanged."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scrubber.config import parse_config
from scrubber.engine import Scrubber
from scrubber.engine.structured import logfmt_slots, text_slots

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
emails = st.builds(
    "{}.{}@{}.example.org".format,
    st.from_regex(r"[a-z]{2,8}", fullmatch=True),
    st.from_regex(r"[a-z]{2,8}[0-9]{0,2}", fullmatch=True),
    st.sampled_from(["mail", "corp", "shop"]),
)
ipv4 = st.ip_addresses(v=4).filter(lambda ip: ip.is_global).map(str)

WORDS = st.sampled_from(
    "the request failed retry ok status done cache warm queue job took ms with for from and at "
    "on level info warn error GET POST /api/v1/orders 200 404 3.2.1 took=34ms n=12".split()
)
SAFE_VALUES = st.sampled_from(
    ["ok", "warm", "200", "3.2.1", "34ms", "GET", "true", "cache", "cache warmed", "retry later",
     "/api/v1/orders", "n/a", "eu-west-1", "0.25"]
)  # fmt: skip
SAFE_KEY_NAMES = ("level", "status", "n", "took", "path", "page", "sort", "mode", "region", "step")
SAFE_KEYS = st.sampled_from(SAFE_KEY_NAMES)
# Full names the engine finds as PERSON when they fill a `customer=` value.
NAMES = st.sampled_from(
    ["Maria Okafor", "Aisha Haddad", "Kenji Tanaka", "Priya Patel", "Fatima Nasser",
     "Mateo Rossi", "Zara Nakamura", "Ivan Ivanov"]
)  # fmt: skip
CASES: st.SearchStrategy[Callable[[str], str]] = st.sampled_from(
    [str, str.lower, str.upper, str.title, str.swapcase]
)
# Passwords with no shape a pattern knows: only the key says what they are.
secrets = st.from_regex(r"[a-z]{3,6}[0-9]{2,4}[a-z]{1,4}", fullmatch=True)


@st.composite
def found_then_mentioned(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A logfmt line where a value is found (by its key, its pattern or as a name), and the same
    value (or a part of the name) again at any position, in any case."""
    kind = draw(st.sampled_from(["secret", "email", "ip", "name"]))
    words = draw(st.lists(WORDS, max_size=10))
    if kind == "name":
        name = draw(NAMES)
        found = f'customer="{name}"'
        mentions = [draw(st.sampled_from([name, *name.split()]))]
    else:
        value = draw({"secret": secrets, "email": emails, "ip": ipv4}[kind])
        found = {"secret": f"password={value}", "email": f"email={value}", "ip": f"ip={value}"}[
            kind
        ]
        mentions = [value]
    position = draw(st.integers(0, len(words)))
    words.insert(position, found)
    mention = draw(CASES)(mentions[0])
    words.insert(draw(st.integers(position + 1, len(words))), mention)
    return " ".join(words), [mentions[0], mention]


@SETTINGS
@given(found_then_mentioned())
def test_a_found_value_never_survives_elsewhere_in_the_record(
    engine: Scrubber, case: tuple[str, list[str]]
) -> None:
    line, values = case
    out = engine.scrub_text(line)
    for value in values:
        assert value.lower() not in out.lower(), (line, out)


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


logfmt_values = st.one_of(SAFE_VALUES, secrets, emails, ipv4, NAMES.map(lambda n: f"{n} called"))
logfmt_keys = st.one_of(
    SAFE_KEYS, st.sampled_from(["password", "email", "customer", "msg", "user_name", "token"])
)


@st.composite
def logfmt_lines(draw: st.DrawFn) -> tuple[str, list[str]]:
    keys = draw(st.lists(logfmt_keys, min_size=1, max_size=6, unique=True))
    pairs = []
    for key in keys:
        value = draw(logfmt_values)
        quote = " " in value or draw(st.booleans())
        pairs.append(f"{key}={_quoted(value) if quote else value}")
    return " ".join(pairs), keys


ODD = Scrubber(
    parse_config({"policy": {"default": {"type": "redact", "placeholder": 'x "y" z'}},
                  "detection": {"ner": {"enabled": False}}})
)  # fmt: skip


def _skeleton(text: str) -> str:
    """The line without its logfmt values: keys, `=`, quotes and what lies between."""
    pieces, cursor = [], 0
    for slot in logfmt_slots(text):
        pieces.append(text[cursor : slot.start])
        cursor = slot.end
    return "|".join([*pieces, text[cursor:]])


@SETTINGS
@given(logfmt_lines())
def test_logfmt_in_gives_logfmt_out(engine: Scrubber, case: tuple[str, list[str]]) -> None:
    line, keys = case
    for scrubber in (engine, ODD):  # ODD writes replacements with spaces and quotes in them
        out = scrubber.scrub_text(line)
        before, after = logfmt_slots(line), logfmt_slots(out)
        assert [s.key for s in after] == keys, (line, out)
        assert _skeleton(out) == _skeleton(line), (line, out)
        # A value that is also under a secret's key is found, and so replaced everywhere.
        found = {s.value(line) for s in before if s.key not in SAFE_KEY_NAMES}
        for old, new in zip(before, after, strict=True):
            value = old.value(line)
            if old.key in SAFE_KEY_NAMES and value in {"ok", "200", "3.2.1", "34ms"} - found:
                assert new.value(out) == old.value(line)


@st.composite
def clean_structured_lines(draw: st.DrawFn) -> str:
    pairs = draw(st.lists(st.tuples(SAFE_KEYS, SAFE_VALUES), min_size=1, max_size=5))
    shape = draw(st.sampled_from(["logfmt", "query", "pairs", "syslog"]))
    if shape == "logfmt":
        return " ".join(f"{k}={_quoted(v) if ' ' in v else v}" for k, v in pairs)
    if shape == "query":
        query = "&".join(f"{k}={v.replace(' ', '%20')}" for k, v in pairs)
        return f"GET /api/v1/orders?{query} HTTP/1.1"
    if shape == "pairs":
        return "; ".join(f"{k.title()}: {v}" for k, v in pairs)
    params = " ".join(f"{k}={_quoted(v)}" for k, v in pairs)
    return f"<165>1 2026-11-24T08:15:03Z web01 app - ID47 [meta@32473 {params}] cache warmed"


@SETTINGS
@given(clean_structured_lines())
def test_a_structured_line_without_pii_is_unchanged(engine: Scrubber, line: str) -> None:
    assert text_slots(line), "the line is read as structured"
    [result] = engine.scrub_batch([line], "text")
    assert result.output == line and not result.replacements
