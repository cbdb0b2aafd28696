"""`spans` (raw RE2 calls on the UTF-8) must give exactly the matches of the wrapper's finditer."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from recognizers import default_recognizers
from recognizers.base import PatternRecognizer

RECOGNIZERS = default_recognizers()
FRAGMENTS = (
    "password=Winter2024!", "jane.roe@example.org", "+44 20 7946 0958", "4111 1111 1111 1111",
    "078-05-1120", "10.1.2.3", "fe80::1%eth0", "AKIAIOSFODNN7EXAMPLE", "ghp_" + "a1B2" * 9,
    "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "user=jroe", "tel: 555-123-4567",
    "Zoë Ångström", "東京都", "😀", " ", "\t", "=", ":", '"', "-", "/", "host.example.com:8443",
)  # fmt: skip
texts = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=8)), max_size=12).map(
    "".join
)


def _wrapper_spans(recognizer: PatternRecognizer, text: str) -> list[list[tuple[int, int]]]:
    groups = range(recognizer._compiled.groups + 1)
    return [[m.span(g) for g in groups] for m in recognizer._compiled.finditer(text)]


@settings(max_examples=300, deadline=None)
@given(texts)
def test_spans_are_the_wrappers_matches(text: str) -> None:
    try:
        text.encode()
    except UnicodeEncodeError:
        return  # lone surrogates: both refuse them
    for recognizer in RECOGNIZERS:
        ours = [list(s) for s in recognizer.spans(text)]
        assert ours == _wrapper_spans(recognizer, text), recognizer.name


def test_empty_matches_step_whole_characters() -> None:
    optional = PatternRecognizer("x_run", "X", r"(x*)")
    for text in ("", "é", "éxxé😀x", "xé", "東x京"):
        assert [list(s) for s in optional.spans(text)] == _wrapper_spans(optional, text)


def test_offsets_are_code_points() -> None:
    email = next(r for r in RECOGNIZERS if r.name == "email_address")
    text = "Zoë Ångström 😀 writes from jane.roe@example.org"
    [finding] = email.find(text)
    assert text[finding.start : finding.end] == "jane.roe@example.org"
