"""Fail closed: when scrubbing fails or overruns its deadline the request is refused in the
API's own error shape and nothing reaches the upstream; the config section and its checks."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from scrubber.config import load_config, parse_config
from scrubber.engine import Scrubber
from scrubber.errors import ConfigError
from scrubber.gateway.app import Gateway, create_app
from scrubber.gateway.scrubbing import Conversations
from scrubber.gateway.serve import gateway_config
from scrubber.gateway.upstream import Upstream
from tests.keys import key

ENV = {"SCRUBBER_TOKEN_KEY": key("fail-closed")}
RAW = {"keys": {"default": {"env": "SCRUBBER_TOKEN_KEY"}},
       "gateway": {"upstream": "http://upstream.invalid", "timeouts": {"scrub_seconds": 0.2}}}


@pytest.fixture(scope="module")
def engine() -> Scrubber:
    return Scrubber(gateway_config(parse_config(RAW)), environ=ENV)


@pytest.fixture
def sent() -> list[httpx.Request]:
    return []


@pytest.fixture
def client(engine: Scrubber, sent: list[httpx.Request]) -> httpx.AsyncClient:
    config = gateway_config(parse_config(RAW))

    def upstream(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"choices": []})

    gateway = Gateway(config, engine, Upstream(config.gateway, httpx.MockTransport(upstream)))
    transport = httpx.ASGITransport(app=create_app(gateway))
    return httpx.AsyncClient(transport=transport, base_url="http://gateway")


def _post(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> httpx.Response:
    return asyncio.run(client.post(path, json=body))


CHAT = {"model": "m", "messages": [{"role": "user", "content": "mail maria@example.org"}]}
CLAUDE = {"model": "c", "max_tokens": 5, "messages": [{"role": "user", "content": "John Smith"}]}


def test_an_engine_failure_refuses_the_request(
    engine: Scrubber, client: httpx.AsyncClient, sent: list[httpx.Request],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("analyzer down")

    monkeypatch.setattr(engine, "scrub_batch", broken)
    answer = _post(client, "/v1/chat/completions", CHAT)
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "scrub_failed"
    claude = _post(client, "/v1/messages", CLAUDE)
    assert claude.status_code == 503
    assert claude.json()["type"] == "error"
    assert sent == []


def test_a_scrub_past_its_deadline_refuses_the_request(
    engine: Scrubber, client: httpx.AsyncClient, sent: list[httpx.Request],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    real = engine.scrub_batch

    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.5)
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "scrub_batch", slow)
    answer = _post(client, "/v1/chat/completions", CHAT)
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "scrub_deadline"
    assert sent == []


def test_a_record_the_engine_rejects_refuses_the_request(
    client: httpx.AsyncClient, sent: list[httpx.Request]
) -> None:
    deep = {"model": "m", "messages": [{"role": "user", "content": "[" * 200 + "]" * 200}]}
    answer = _post(client, "/v1/chat/completions", deep)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "scrub_failed"
    assert sent == []


def test_the_section_leaves_existing_hashes_and_needs_an_upstream() -> None:
    assert load_config(None).digest() == "53491c2bb5ad8482"
    assert parse_config({"gateway": {"scope": "request"}}).digest() == load_config(None).digest()
    with pytest.raises(ConfigError, match=r"gateway\.upstream"):
        gateway_config(load_config(None))
    with pytest.raises(ConfigError, match=r"gateway\.block.*did you mean 'US_SSN'"):
        parse_config({"gateway": {"block": ["us_ssn"]}})
    with pytest.raises(ConfigError, match=r"gateway\.upstream"):
        parse_config({"gateway": {"upstream": "api.openai.com"}})
    with pytest.raises(ConfigError, match=r"gateway\.key.*'default'"):
        gateway_config(parse_config({"gateway": {"upstream": "http://x"}}))


def test_the_default_policy_is_the_keyed_token_operator() -> None:
    config = gateway_config(parse_config(RAW))
    assert config.policy.default.type == "token"
    explicit = parse_config({**RAW, "policy": {"default": {"type": "redact"}}})
    assert gateway_config(explicit).policy.default.type == "redact"


def test_conversations_are_per_credential_expire_and_are_bounded() -> None:
    now = [0.0]
    conversations = Conversations(ttl=10, max_entries=2, clock=lambda: now[0])
    first = conversations.book(Conversations.key("key-a", "c1"))
    first.add("<PERSON_1a2b3c4d>", "Maria")
    assert conversations.book(Conversations.key("key-a", "c1")) is first
    assert conversations.book(Conversations.key("key-b", "c1")) is not first
    now[0] = 11
    assert len(conversations.book(Conversations.key("key-a", "c1"))) == 0
    conversations.book(Conversations.key("key-c", "c1"))
    assert len(conversations) == 2


def test_a_declared_recognizers_type_can_be_blocked() -> None:
    """`block` takes the types of the team's own recognizers too, not only ours; a typo in it
    is refused with a suggestion, whichever kind of type was meant."""
    raw = {**RAW, "recognizers": [{"name": "badge", "entity_type": "EMPLOYEE_ID",
                                   "patterns": [{"name": "b", "regex": r"\bEMP-\d{8}\b",
                                                 "score": 0.9}]}]}  # fmt: skip
    config = gateway_config(parse_config({**raw, "gateway": {**RAW["gateway"],
                                                            "block": ["EMPLOYEE_ID"]}}))  # fmt: skip
    with pytest.raises(ConfigError, match=r"gateway\.block.*did you mean 'EMPLOYEE_ID'"):
        parse_config({**raw, "gateway": {**RAW["gateway"], "block": ["EMPLOYE_ID"]}})
    sent: list[httpx.Request] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"choices": []})

    engine = Scrubber(config, environ=ENV)
    gateway = Gateway(config, engine, Upstream(config.gateway, httpx.MockTransport(upstream)))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(gateway)),
                               base_url="http://gateway")  # fmt: skip
    badge = {"model": "m", "messages": [{"role": "user", "content": "badge EMP-12345678 lost"}]}
    answer = _post(client, "/v1/chat/completions", badge)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "blocked"
    assert "EMP-12345678" not in answer.text
    assert sent == []
    assert _post(client, "/v1/chat/completions", CHAT).status_code == 200
    assert len(sent) == 1
