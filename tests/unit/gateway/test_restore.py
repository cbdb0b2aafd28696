"""The restorer: only the book's tokens, tolerated forms, and a stream cut anywhere gives the
same text as restoring the whole, with nothing emitted that is not final."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from scrubber.gateway.restore import (
    Escape,
    Restorer,
    StreamRestorer,
    TokenBook,
    json_escaped,
    plain,
)

PERSON, EMAIL, OTHER = "<PERSON_1a2b3c4d>", "<EMAIL_ADDRESS_deadbeef>", "<PERSON_99999999>"


def _restorer() -> Restorer:
    book = TokenBook()
    book.add(PERSON, "Maria Garcia")
    book.add(EMAIL, 'maria "mg" @example.org')
    return Restorer(book)


def _streamed(restorer: Restorer, pieces: list[str], escape=None) -> tuple[str, list[str]]:
    stream = StreamRestorer(restorer) if escape is None else StreamRestorer(restorer, escape)
    outs = []
    for piece in pieces:
        outs.append(stream.feed(piece))
        assert len(stream.held) <= restorer.longest  # at most one token's length held back
    outs.append(stream.flush())
    return "".join(outs), outs


def test_only_the_books_tokens_are_restored_in_every_tolerated_form() -> None:
    restorer = _restorer()
    text = (
        f"{PERSON} PERSON_1a2b3c4d person_1A2B3C4D <person_1a2b3c4d PERSON_1a2b3c4d> "
        f"{OTHER} xPERSON_1a2b3c4d PERSON_1a2b3c4d9"
    )
    assert restorer.restore(text) == (
        "Maria Garcia Maria Garcia Maria Garcia Maria Garcia Maria Garcia "
        f"{OTHER} xPERSON_1a2b3c4d PERSON_1a2b3c4d9"
    )
    assert restorer.restored == 5


def test_an_empty_book_restores_nothing_and_holds_nothing() -> None:
    restorer = Restorer(TokenBook())
    assert restorer.restore(PERSON) == PERSON
    assert StreamRestorer(restorer).feed("<PERS") == "<PERS"


def test_json_escaping_keeps_arguments_valid() -> None:
    arguments = json.dumps({"to": EMAIL, "name": PERSON})
    restored = _restorer().restore(arguments, json_escaped)
    assert json.loads(restored) == {"to": 'maria "mg" @example.org', "name": "Maria Garcia"}


def test_every_single_cut_through_a_token_is_restored() -> None:
    restorer = _restorer()
    text = f"Dear {PERSON}, write to {EMAIL}."
    whole = restorer.restore(text)
    for cut in range(len(text) + 1):
        assert _streamed(restorer, [text[:cut], text[cut:]])[0] == whole


def test_one_character_chunks_and_only_a_token_prefix_is_held() -> None:
    restorer = _restorer()
    stream = StreamRestorer(restorer)
    assert stream.feed("Hello ") == "Hello "  # nothing that could start a token: out at once
    assert stream.feed("<PER") == ""
    assert stream.held == "<PER"
    assert stream.feed("SON_1a2b3c4d>!") == "Maria Garcia!"
    assert stream.feed("<b>bold") == "<b>bold"  # a prefix of no token of the book
    text = f"x {PERSON} y"
    assert _streamed(restorer, list(text))[0] == "x Maria Garcia y"


def test_a_stream_cut_off_inside_a_token_emits_the_fragment_as_text() -> None:
    assert _streamed(_restorer(), ["see <PERSON_1a2b"])[0] == "see <PERSON_1a2b"


def test_a_pasted_foreign_token_is_never_restored() -> None:
    assert _streamed(_restorer(), [OTHER[:5], OTHER[5:]])[0] == OTHER


_ALPHABET = st.sampled_from(
    [
        "<",
        ">",
        "_",
        " ",
        "x",
        "P",
        "PERSON_",
        "1a2b",
        "3c4d",
        "person_",
        PERSON,
        EMAIL,
        OTHER,
        "EMAIL_ADDRESS_",
        "dead",
        "beef",
        "9",
        "é",
    ]
)


def _resolved_spans(
    restorer: Restorer, text: str, escape: Escape = plain
) -> list[tuple[int, int, int]]:
    """(start, end, where its value starts in the whole restored text) of each token the whole
    text resolves (the reference: restoring the whole, not the stream)."""
    reference = Restorer(restorer.book)
    return [(m.start(), m.end(), len(reference.restore(text[: m.start()], escape)))
            for m in restorer.matches(text)]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(_ALPHABET, max_size=30).map("".join), st.data(), st.booleans())
def test_any_cut_gives_the_whole_restored_text_and_emits_no_token_prefix(
    text: str, data, as_json: bool
) -> None:
    """For any way to cut a stream into chunks: the reassembled text equals the whole text
    restored, and at no chunk boundary has any part of a token gone out before it resolved."""
    restorer = _restorer()
    escape = json_escaped if as_json else plain
    whole = restorer.restore(text, escape)
    cuts = sorted(data.draw(st.sets(st.integers(0, len(text)), max_size=12)))
    pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    joined, outs = _streamed(restorer, pieces, escape)
    assert joined == whole
    spans = _resolved_spans(restorer, text, escape)
    emitted, consumed = "", 0
    for piece, out in zip([*pieces, ""], outs, strict=True):
        emitted += out
        consumed += len(piece)
        # What has gone out is never taken back: always a prefix of the restored answer...
        assert whole.startswith(emitted)
        # ...and a token the input has only begun (its first characters read, not its last)
        # has not started to go out: nothing at or after its start is emitted yet.
        for start, end, value_at in spans:
            if start < consumed < end:
                assert len(emitted) <= value_at, (text, pieces, emitted)
