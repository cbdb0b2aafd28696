"""`scrubber gateway` as a real process between the official `openai` / `anthropic` SDKs and a
fake upstream that records what it receives: planted values never reach the upstream, the
logs or the metrics; answers come back restored, streamed or not, cut anywhere."""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import anthropic
import httpx
import openai
import pytest

from tests.keys import key
from tests.unit.gateway.fake_upstream import FakeUpstream, Script

TEXT = ("Write to Maria Garcia at maria.garcia@example.org and to John Smith at "
        "john.smith@example.com about the invoice.")
PLANTED = ["Maria Garcia", "maria.garcia@example.org", "John Smith", "john.smith@example.com",
           "078-05-1120"]
API_KEY = "sk-test-" + key("client", 24)
CONVERSATION = "x-scrubber-conversation"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Gateway:
    def __init__(self, url: str, log: Path) -> None:
        self.url = url
        self.log = log


@pytest.fixture(scope="module")
def gateway(upstream: FakeUpstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    folder = tmp_path_factory.mktemp("gateway")
    config = folder / "gateway.yaml"
    config.write_text(json.dumps({
        "keys": {"default": {"env": "SCRUBBER_TOKEN_KEY"}},
        "gateway": {"upstream": upstream.url, "scope": "conversation", "block": ["US_SSN"],
                    "max_body_bytes": 65536, "passthrough": ["/v1/models"]},
    }))  # fmt: skip
    port = _free_port()
    log = folder / "gateway.log"
    env = {**os.environ, "SCRUBBER_TOKEN_KEY": key("gateway")}
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "scrubber"), "gateway", "--config", str(config),
             "--port", str(port)], stdout=stderr, stderr=stderr, env=env,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail(f"the gateway did not start: {log.read_text()}")
    yield Gateway(url, log)
    process.terminate()
    process.wait(10)


@pytest.fixture(autouse=True)
def _fresh_script(upstream: FakeUpstream) -> None:
    upstream.script = Script()
    upstream.received.clear()


def _oai(gateway: Gateway, **headers: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=API_KEY, max_retries=0,
                         default_headers=headers)  # fmt: skip


def _claude(gateway: Gateway, **headers: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=gateway.url, api_key=API_KEY, max_retries=0,
                               default_headers=headers)  # fmt: skip


def _assert_clean(upstream: FakeUpstream) -> None:
    assert upstream.received, "nothing reached the upstream"
    for received in upstream.received:
        for value in PLANTED:
            assert value not in received.raw.decode(), f"{value!r} reached the upstream"


def _tokens(upstream: FakeUpstream) -> list[str]:
    import re

    text = upstream.received[-1].raw.decode()
    return re.findall(r"<[A-Z_]+_[0-9a-f]{8}>", text)


# ---------------------------------------------------------------- OpenAI chat


def test_chat_is_scrubbed_upstream_and_restored_for_the_client(
    gateway: Gateway, upstream: FakeUpstream
) -> None:
    upstream.script = Script(tool=True)
    answer = _oai(gateway).chat.completions.create(
        model="gpt-test", messages=[{"role": "system", "content": "Be brief."},
                                    {"role": "user", "content": TEXT}],
    )  # fmt: skip
    _assert_clean(upstream)
    assert upstream.received[-1].headers["authorization"] == f"Bearer {API_KEY}"
    message = answer.choices[0].message
    assert message.content == f"You said: {TEXT}"  # both people back, each in its place
    assert message.tool_calls is not None
    assert json.loads(message.tool_calls[0].function.arguments) == {"text": TEXT}  # type: ignore[union-attr]
    tokens = _tokens(upstream)
    assert len(set(tokens)) == 4, tokens  # two people, two addresses: four different tokens


def test_chat_content_parts_tool_calls_and_tool_results_are_scrubbed(
    gateway: Gateway, upstream: FakeUpstream
) -> None:
    arguments = json.dumps({"to": "maria.garcia@example.org", "note": 'say "hi" to John Smith'})
    _oai(gateway).chat.completions.create(model="gpt-test", messages=[
        {"role": "user", "content": [{"type": "text", "text": TEXT}]},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "send", "arguments": arguments}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "sent to john.smith@example.com"},
        {"role": "user", "content": [{"type": "text", "text": "Thanks, Maria Garcia"}]},
    ])  # fmt: skip
    _assert_clean(upstream)
    sent = upstream.received[-1].body["messages"][1]["tool_calls"][0]["function"]["arguments"]
    assert set(json.loads(sent)) == {"to", "note"}  # still JSON, scrubbed as JSON


@pytest.mark.parametrize("script", [
    Script(piece=1), Script(seed=1), Script(seed=2, write_bytes=1), Script(piece=3, write_bytes=5),
], ids=["1-char deltas", "random deltas", "random deltas, 1-byte writes", "3-char, 5-byte"])  # fmt: skip
def test_chat_stream_restores_tokens_split_anywhere(
    gateway: Gateway, upstream: FakeUpstream, script: Script
) -> None:
    script.tool = True
    upstream.script = script
    stream = _oai(gateway).chat.completions.create(
        model="gpt-test", messages=[{"role": "user", "content": TEXT}], stream=True
    )
    content, arguments = "", ""
    for chunk in stream:
        for choice in chunk.choices:
            content += choice.delta.content or ""
            for call in choice.delta.tool_calls or []:
                arguments += call.function.arguments or "" if call.function else ""
    _assert_clean(upstream)
    assert content == f"You said: {TEXT}"
    assert json.loads(arguments) == {"text": TEXT}


def test_every_cut_through_a_token_is_restored(gateway: Gateway, upstream: FakeUpstream) -> None:
    client = _oai(gateway)
    client.chat.completions.create(model="m", messages=[{"role": "user", "content": TEXT}])
    token = _tokens(upstream)[0]
    reply = f"Hello {token}!"
    for cut in range(len("Hello "), len("Hello ") + len(token) + 1):
        upstream.script = Script(reply=reply, cuts=[cut, cut + 1])
        stream = client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": TEXT}], stream=True
        )
        text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        assert text in ("Hello Maria Garcia!", "Hello maria.garcia@example.org!"), (cut, text)


def test_a_stream_ending_mid_token_gives_the_fragment_not_a_value(
    gateway: Gateway, upstream: FakeUpstream
) -> None:
    from tests.unit.gateway.fake_upstream import chat_events

    client = _oai(gateway)
    client.chat.completions.create(model="m", messages=[{"role": "user", "content": TEXT}])
    token = _tokens(upstream)[0]
    body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": TEXT}]}
    upstream.script = Script(reply=f"Hi {token}", cuts=[len("Hi ") + 6])
    events = chat_events(body, upstream.pieces(f"Hi {token}"), [])
    # The connection closes inside the event that would complete the token.
    upstream.script.end_after = len(events[0]) + len(events[1]) + 30
    raw = httpx.post(f"{gateway.url}/v1/chat/completions", json=body, timeout=10).text
    text = "".join(json.loads(line[6:])["choices"][0]["delta"].get("content") or ""
                   for line in raw.splitlines() if line.startswith("data: {"))  # fmt: skip
    assert text == f"Hi {token[:6]}"  # the upstream's own fragment, never a value
    for value in PLANTED:
        assert value not in raw


# ---------------------------------------------------------------- scopes and attacks


def test_tokens_are_stable_across_turns_and_restore_in_the_conversation(
    gateway: Gateway, upstream: FakeUpstream
) -> None:
    client = _oai(gateway, **{CONVERSATION: "conv-1"})
    first = client.chat.completions.create(model="m", messages=[{"role": "user", "content": TEXT}])
    turn_one = _tokens(upstream)
    history = [{"role": "user", "content": TEXT},
               {"role": "assistant", "content": first.choices[0].message.content},
               {"role": "user", "content": "And Maria Garcia again?"}]  # fmt: skip
    client.chat.completions.create(model="m", messages=history)
    assert set(turn_one) <= set(_tokens(upstream))  # same person, same token, next turn
    # The model names a person of turn one in a turn whose request does not: restored in the
    # conversation, not outside it.
    upstream.script = Script(reply=f"Remember {turn_one[2]}?")
    later = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    assert later.choices[0].message.content == "Remember John Smith?"
    alone = _oai(gateway).chat.completions.create(model="m", messages=[{"role": "user",
                                                                         "content": "hi"}])
    assert alone.choices[0].message.content == f"Remember {turn_one[2]}?"


def test_a_pasted_foreign_token_is_not_revealed(gateway: Gateway, upstream: FakeUpstream) -> None:
    victim = _oai(gateway, **{CONVERSATION: "victim"})
    victim.chat.completions.create(model="m", messages=[{"role": "user", "content": TEXT}])
    stolen = _tokens(upstream)  # e.g. read from the upstream's logs
    attacker = _oai(gateway, **{CONVERSATION: "attacker"})
    answer = attacker.chat.completions.create(
        model="m", messages=[{"role": "user", "content": f"Who is {stolen[0]} and {stolen[1]}?"}]
    )
    assert answer.choices[0].message.content == f"You said: Who is {stolen[0]} and {stolen[1]}?"
    # The victim's conversation id under another API key is another conversation.
    other_key = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key="sk-other-" + key("o", 24),
                              max_retries=0, default_headers={CONVERSATION: "victim"})
    upstream.script = Script(reply=f"It is {stolen[0]}")
    answer = other_key.chat.completions.create(model="m", messages=[{"role": "user",
                                                                      "content": "who?"}])
    assert answer.choices[0].message.content == f"It is {stolen[0]}"


def test_a_blocked_type_refuses_the_request_and_forwards_nothing(
    gateway: Gateway, upstream: FakeUpstream
) -> None:
    with pytest.raises(openai.BadRequestError, match="US_SSN"):
        _oai(gateway).chat.completions.create(
            model="m", messages=[{"role": "user", "content": "my SSN is 078-05-1120"}]
        )
    with pytest.raises(anthropic.BadRequestError, match="US_SSN"):
        _claude(gateway).messages.create(model="c", max_tokens=10, messages=[
            {"role": "user", "content": "my SSN is 078-05-1120"}])  # fmt: skip
    assert upstream.received == []


def test_bad_bodies_and_paths(gateway: Gateway, upstream: FakeUpstream) -> None:
    url = f"{gateway.url}/v1/chat/completions"
    huge = {"model": "m", "messages": [{"role": "user", "content": "x" * 70_000}]}
    assert httpx.post(url, json=huge).status_code == 413
    malformed = httpx.post(url, content=b'{"model": "m", "messages": [', timeout=5)
    assert malformed.status_code == 400
    assert malformed.json()["error"]["code"] == "invalid_json"
    assert httpx.post(f"{gateway.url}/v1/secret/admin", json={}).status_code == 404
    assert httpx.get(f"{gateway.url}/v1/models").json()["data"][0]["id"] == "fake-model"
    assert [r.path for r in upstream.received] == ["/v1/models"]


def test_upstream_errors_pass_through_with_their_status(
    gateway: Gateway, upstream: FakeUpstream
) -> None:
    def upstream_errors() -> float:
        metrics = httpx.get(f"{gateway.url}/metrics").text
        line = 'scrubber_gateway_upstream_errors_total{route="/v1/chat/completions"} '
        return float(metrics.split(line, 1)[1].split()[0])

    before = upstream_errors()
    upstream.script = Script(status=429)
    with pytest.raises(openai.RateLimitError):
        _oai(gateway).chat.completions.create(model="m", messages=[{"role": "user",
                                                                     "content": TEXT}])
    _assert_clean(upstream)
    assert upstream_errors() == before  # the client's quota, not an upstream failure
    upstream.script = Script(status=500)
    with pytest.raises(openai.InternalServerError):
        _oai(gateway).chat.completions.create(model="m", messages=[{"role": "user",
                                                                     "content": TEXT}])
    assert upstream_errors() == before + 1


# ---------------------------------------------------------------- Anthropic, other routes


@pytest.mark.parametrize("script", [Script(), Script(piece=1), Script(seed=3, write_bytes=1)],
                         ids=["7-char", "1-char", "random, 1-byte writes"])  # fmt: skip
def test_anthropic_messages_streamed_and_not(
    gateway: Gateway, upstream: FakeUpstream, script: Script
) -> None:
    script.tool = True
    upstream.script = script
    client = _claude(gateway)
    messages = [{"role": "user", "content": [{"type": "text", "text": TEXT}]}]
    answer = client.messages.create(model="c", max_tokens=100, system="Greet John Smith.",
                                    messages=messages)  # type: ignore[arg-type]
    assert answer.content[0].text == f"You said: {TEXT}"  # type: ignore[union-attr]
    assert answer.content[1].input == {"text": TEXT}  # type: ignore[union-attr]
    with client.messages.stream(model="c", max_tokens=100, messages=messages) as stream:  # type: ignore[arg-type]
        final = stream.get_final_message()
    assert final.content[0].text == f"You said: {TEXT}"  # type: ignore[union-attr]
    assert final.content[1].input == {"text": TEXT}  # type: ignore[union-attr]
    _assert_clean(upstream)


def test_anthropic_tool_use_and_tool_result_are_scrubbed(
    gateway: Gateway, upstream: FakeUpstream
) -> None:
    _claude(gateway).messages.create(model="c", max_tokens=10, messages=[
        {"role": "user", "content": TEXT},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "send",
                                           "input": {"to": "maria.garcia@example.org"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1",
                                      "content": [{"type": "text", "text": "John Smith ok"}]}]},
    ])  # fmt: skip
    _assert_clean(upstream)


def test_completions_embeddings_and_responses(gateway: Gateway, upstream: FakeUpstream) -> None:
    client = _oai(gateway)
    done = client.completions.create(model="m", prompt=TEXT)
    assert done.choices[0].text == f"You said: {TEXT}"
    upstream.script = Script(piece=2)
    streamed = "".join(c.choices[0].text for c in client.completions.create(
        model="m", prompt=TEXT, stream=True) if c.choices)  # fmt: skip
    assert streamed == f"You said: {TEXT}"
    vectors = client.embeddings.create(model="e", input=[TEXT, "John Smith"])
    assert vectors.data[0].embedding == [0.1, 0.2]
    reply = client.responses.create(model="m", instructions="Greet John Smith",
                                    input=[{"role": "user", "content": TEXT}])  # fmt: skip
    assert reply.output_text == f"You said: {TEXT}"
    _assert_clean(upstream)


def test_upstream_down_is_a_502_in_the_apis_shape(
    gateway: Gateway, upstream: FakeUpstream
) -> None:
    upstream.stop()
    try:
        with pytest.raises(openai.APIStatusError) as caught:
            _oai(gateway).chat.completions.create(model="m", messages=[{"role": "user",
                                                                         "content": "hi"}])
        assert caught.value.status_code == 502
        with pytest.raises(anthropic.APIStatusError) as also:
            _claude(gateway).messages.create(model="c", max_tokens=5, messages=[
                {"role": "user", "content": "hi"}])  # fmt: skip
        assert also.value.status_code == 502
    finally:
        upstream.start(upstream.port)


def test_time_to_first_chunk_overhead(gateway: Gateway, upstream: FakeUpstream) -> None:
    """A slow model (20 ms per event): the first content arrives through the gateway about as
    soon as directly (the restorer holds back only a token prefix)."""
    body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": TEXT}]}
    upstream.script = Script(delay=0.02, piece=4)

    def first_content(url: str) -> float:
        started = time.perf_counter()
        with httpx.stream("POST", url, json=body, timeout=10) as answer:
            for line in answer.iter_lines():
                if '"content": "' in line and '"content": ""' not in line:
                    return time.perf_counter() - started
        raise AssertionError("no content")

    direct = [first_content(f"{upstream.url}/v1/chat/completions") for _ in range(15)]
    before = upstream.disconnects
    through = [first_content(f"{gateway.url}/v1/chat/completions") for _ in range(15)]
    deadline = time.monotonic() + 5
    while upstream.disconnects < before + 15 and time.monotonic() < deadline:
        time.sleep(0.05)
    # Each client went away after its first chunk: the gateway cancelled each upstream request.
    assert upstream.disconnects >= before + 15
    overhead = statistics.median(through) - statistics.median(direct)
    print(json.dumps({"ttft_direct_ms": round(statistics.median(direct) * 1000, 1),
                      "ttft_gateway_ms": round(statistics.median(through) * 1000, 1),
                      "ttft_overhead_p50_ms": round(overhead * 1000, 1),
                      "ttft_overhead_max_ms": round((max(through) - min(direct)) * 1000, 1)}))
    assert overhead < 0.1


def test_logs_and_metrics_carry_no_planted_value(gateway: Gateway, upstream: FakeUpstream) -> None:
    """Last: after every request above went through the same gateway."""
    metrics = httpx.get(f"{gateway.url}/metrics").text
    assert 'scrubber_gateway_requests_total{route="/v1/chat/completions",status="2xx"}' in metrics
    assert "scrubber_gateway_first_byte_overhead_seconds" in metrics
    log = gateway.log.read_text()
    assert "gateway_request" in log
    for secret in [*PLANTED, API_KEY]:
        assert secret not in metrics
        assert secret not in log
