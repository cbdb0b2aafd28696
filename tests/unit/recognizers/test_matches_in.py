"""`matches_in` (one raw RE2 call on the UTF-8) must never say no where `find` would find."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from recognizers import default_recognizers

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


@settings(max_examples=300, deadline=None)
@given(texts)
def test_matches_in_is_never_no_where_find_finds(text: str) -> None:
    try:
        encoded = text.encode()
    except UnicodeEncodeError:
        return  # lone surrogates: the RE2 wrapper refuses them as well
    for recognizer in RECOGNIZERS:
        if not recognizer.matches_in(encoded):
            assert list(recognizer.find(text)) == [], recognizer.name


def test_matches_in_says_yes_and_no() -> None:
    [email] = [r for r in RECOGNIZERS if r.name == "email_address"]
    assert email.matches_in(b"write to jane.roe@example.org")
    assert not email.matches_in(b"nothing to see here")
