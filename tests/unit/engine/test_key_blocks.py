"""A private key logged one line per record: every body line is replaced, whatever the batch
boundaries, the line width, the log prefix or the record format; what follows END is not."""

from __future__ import annotations

import base64
import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scrubber.config import parse_config
from scrubber.engine import Scrubber
from scrubber.engine.key_blocks import MAX_BLOCK_RECORDS, KeyBlocks, PositionedKeyBlocks

KINDS = ("RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY",
         "ENCRYPTED PRIVATE KEY", "PGP PRIVATE KEY BLOCK")  # fmt: skip
PREFIXES = ("", "2024-05-01 12:00:00,123 ERROR [main] ", "Dec  1 10:00:01 host app[42]: ",
            "time=2024-05-01T12:00:00Z level=debug msg=", "+ echo '", "    ")  # fmt: skip


def key_lines(seed: int, width: int, kind: str) -> tuple[list[str], list[str]]:
    """BEGIN, body lines, END of a random key; and the body lines alone."""
    rng = random.Random(seed)
    body = base64.b64encode(rng.randbytes(rng.randrange(100, 1800))).decode()
    lines = [body[i : i + width] for i in range(0, len(body), width)]
    return [f"-----BEGIN {kind}-----", *lines, f"-----END {kind}-----"], lines


@pytest.fixture(scope="module")
def engine() -> Scrubber:
    return Scrubber(parse_config({}))


def _scrub(engine: Scrubber, records: list[str], cuts: list[int]) -> list[str]:
    blocks, out, start = KeyBlocks(), [], 0
    for end in [*sorted(cuts), len(records)]:
        batch = records[start:end]
        out += [r.output for r in engine.scrub_batch(batch, key_blocks=blocks.windows(batch))]
        start = end
    return out


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    width=st.sampled_from([64, 70, 76, 40]),
    kind=st.sampled_from(KINDS),
    prefix=st.sampled_from(PREFIXES),
    as_json=st.booleans(),
    cuts=st.lists(st.integers(0, 60), max_size=4),
)
def test_no_body_line_survives(
    engine: Scrubber, seed: int, width: int, kind: str, prefix: str, as_json: bool,
    cuts: list[int],
) -> None:  # fmt: skip
    block, body = key_lines(seed, width, kind)
    after = "2024-05-01 12:00:01 INFO request done id=Q2hhbmdlTWU"
    records = ["2024-05-01 12:00:00 INFO loading key", *(prefix + line for line in block), after]
    if as_json:
        records = [json.dumps({"msg": r}) for r in records]
    out = _scrub(engine, records, [c for c in cuts if c < len(records)])
    text = "\n".join(out)
    for line in body:
        assert line not in text
    assert out[-1] == records[-1]  # after END: untouched
    assert out[0] == records[0]


@pytest.mark.parametrize("tail", ["k=", "Qw==", "==", "="], ids=["1+pad", "2+pad", "pad", "one"])
def test_the_wraps_shortest_last_lines_are_body_too(engine: Scrubber, tail: str) -> None:
    """A body wrapped at a fixed width can end in one character and its padding, or in padding
    alone (found by the property above): the line is key material all the same."""
    body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7" * 2
    records = ["-----BEGIN PRIVATE KEY-----", body[:64], body[64:], tail,
               "-----END PRIVATE KEY-----"]  # fmt: skip
    out = _scrub(engine, [f"2024-05-01 step: {r}" for r in records], [])
    assert all(tail not in line.removeprefix("2024-05-01 step: ") for line in out[1:4]), out


def test_windows_follow_begin_and_end_inside_one_record() -> None:
    blocks = KeyBlocks()
    begin = "key: -----BEGIN PRIVATE KEY-----"
    assert blocks.windows(["before", begin, "MIIEvQ", "x -----END PRIVATE KEY----- y"]) == [
        None, (len(begin), -1), (0, -1), (0, 2),
    ]  # fmt: skip
    assert not blocks.open
    whole = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----"
    assert blocks.windows([whole, "after"]) == [(27, whole.index("-----END")), None]


def test_an_unterminated_block_closes_after_the_bound() -> None:
    blocks = KeyBlocks()
    blocks.windows(["-----BEGIN RSA PRIVATE KEY-----"])
    flags = blocks.windows(["QUJD" * 16] * (MAX_BLOCK_RECORDS + 3))
    assert all(w is not None for w in flags[:MAX_BLOCK_RECORDS])
    assert flags[-1] is None and not blocks.open


def test_public_material_and_mentions_do_not_open_a_block() -> None:
    blocks = KeyBlocks()
    lines = ["-----BEGIN CERTIFICATE-----", "MIIDdzCCAl+gAwIBAgIE", "-----END CERTIFICATE-----",
             "the PRIVATE KEY file is missing", "MIIDdzCCAl+gAwIBAgIE"]  # fmt: skip
    assert blocks.windows(lines) == [None] * len(lines)


def test_reset_forgets_an_open_block() -> None:
    blocks = KeyBlocks()
    blocks.windows([b"-----BEGIN EC PRIVATE KEY-----"])
    blocks.reset()
    assert blocks.windows([b"MHcCAQEEIBkg"]) == [None]


def test_a_batch_read_again_gets_the_state_it_had_the_first_time() -> None:
    """An aborted batch [body, body, END] read again: its body lines are still inside."""
    blocks = PositionedKeyBlocks()
    first = ["-----BEGIN PRIVATE KEY-----", "QUJDREVGR0hJSktMTU5PUA", "QUJD"]
    assert blocks.windows(first, [("p0", o) for o in (10, 11, 12)])[1:] == [(0, -1)] * 2
    again = ["QUJDREVGR0hJSktMTU5PUB", "QUJE", "-----END PRIVATE KEY-----"]
    assert blocks.windows(again, [("p0", o) for o in (14, 15, 16)]) == [(0, -1), (0, -1), (0, 0)]
    # aborted: offsets 14-16 come again, after END was seen
    assert blocks.windows(again, [("p0", o) for o in (14, 15, 16)]) == [(0, -1), (0, -1), (0, 0)]
    assert blocks.windows(["after"], [("p0", 17)]) == [None]
    # another partition has its own state
    assert blocks.windows(["QUJDREVGR0hJSktMTU5PUA"], [("p1", 14)]) == [None]
