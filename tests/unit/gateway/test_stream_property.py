"""The streaming property through a running `scrubber gateway`: for any way the fake upstream
cuts an answer (its deltas, and the SSE bytes on the wire), the official SDK's reassembled text
equals the whole answer restored, and no chunk the client receives carries any part of a token.

tests/unit/gateway/test_restore.py holds the same property on the restorer alone (400 examples);
here each example is a real request through the gateway (OpenAI chat and Anthropic messages)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import anthropic
import openai
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.keys import key
from tests.unit.gateway.fake_upstream import FakeUpstream, Script
from tests.unit.gateway.processes import GatewayProcess

TEXT = ("Dear Maria Garcia, mail maria.garcia@example.org or call John Smith "
        "(john.smith@example.com) today.")  # fmt: skip
WHOLE = f"You said: {TEXT}"
ARGUMENTS = json.dumps({"text": TEXT})
API_KEY = "sk-test-" + key("property", 24)
TOKEN = re.compile(r"<[A-Z_]+_[0-9a-f]{8}>")


@pytest.fixture(scope="module")
def gateway(upstream: FakeUpstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    config = {"keys": {"default": {"env": "SCRUBBER_TOKEN_KEY"}},
              "gateway": {"upstream": upstream.url}}  # fmt: skip
    process = GatewayProcess(config, tmp_path_factory.mktemp("property"),
                             {"SCRUBBER_TOKEN_KEY": key("gateway-property")})  # fmt: skip
    yield process.wait_ready().url
    process.stop()


def _check_boundary(so_far: str, whole: str, tokens: list[str]) -> None:
    """At a chunk boundary: what the client holds is final (a prefix of the restored whole) and
    holds no part of a token (its first two characters or more, in any case)."""
    assert whole.startswith(so_far), (so_far, whole)
    lowered = so_far.lower()
    for token in tokens:
        for n in range(2, len(token) + 1):
            assert token[:n].lower() not in lowered, (token, so_far)


def _openai_stream(url: str) -> Iterator[tuple[str, str]]:
    client = openai.OpenAI(base_url=f"{url}/v1", api_key=API_KEY, max_retries=0)
    stream = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": TEXT}], stream=True
    )
    for chunk in stream:
        for choice in chunk.choices:
            yield "content", choice.delta.content or ""
            for call in choice.delta.tool_calls or []:
                yield "arguments", (call.function.arguments or "") if call.function else ""


def _anthropic_stream(url: str) -> Iterator[tuple[str, str]]:
    client = anthropic.Anthropic(base_url=url, api_key=API_KEY, max_retries=0)
    stream = client.messages.create(
        model="c", max_tokens=100, messages=[{"role": "user", "content": TEXT}], stream=True
    )
    for event in stream:
        if event.type == "content_block_delta":
            if event.delta.type == "text_delta":
                yield "content", event.delta.text
            elif event.delta.type == "input_json_delta":
                yield "arguments", event.delta.partial_json


_CUTS = st.lists(st.integers(1, len(WHOLE) - 1), max_size=25)
_BYTE_CUTS = st.lists(st.integers(1, 12_000), max_size=60)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shape=st.sampled_from(["openai", "anthropic"]), cuts=_CUTS, byte_cuts=_BYTE_CUTS,
       one_byte=st.booleans())  # fmt: skip
def test_any_cut_through_the_gateway_gives_the_restored_whole_and_no_token_part(
    gateway: str, upstream: FakeUpstream, shape: str, cuts: list[int], byte_cuts: list[int],
    one_byte: bool,
) -> None:  # fmt: skip
    upstream.received.clear()
    upstream.script = Script(cuts=cuts, tool=True, byte_cuts=None if one_byte else byte_cuts,
                             write_bytes=1 if one_byte else 0)  # fmt: skip
    wanted = {"content": WHOLE, "arguments": ARGUMENTS}
    got = {"content": "", "arguments": ""}
    stream = _openai_stream if shape == "openai" else _anthropic_stream
    tokens: list[str] = []
    for kind, piece in stream(gateway):
        if not tokens:  # the request reached the upstream before its first event came back
            tokens = sorted(set(TOKEN.findall(upstream.received[-1].raw.decode())))
            assert len(tokens) == 4, tokens
        got[kind] += piece
        _check_boundary(got[kind], wanted[kind], tokens)
    assert got == wanted
    for value in ("Maria Garcia", "maria.garcia@example.org", "John Smith"):
        assert value not in upstream.received[-1].raw.decode()
