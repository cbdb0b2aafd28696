"""Two `scrubber gateway` replicas on one real PostgreSQL vault (issue 10, "What it must show"
4): a conversation whose turns alternate between the replicas restores every token, through the
official openai SDK; a token of another conversation (or of the same id under another API key)
is still not revealed; the shared table holds no value, no conversation id and no API key.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import openai
import psycopg
import pytest

from tests.integration.conftest import PG_DSN, fresh_pg_schema
from tests.keys import key
from tests.unit.gateway.fake_upstream import FakeUpstream, Script
from tests.unit.gateway.processes import GatewayProcess

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
ENV = {"SCRUBBER_TOKEN_KEY": key("gateway replicas"), "SCRUBBER_VAULT_KEY_V1": key("gw vault"),
       "SCRUBBER_AUDIT_KEY": key("gw audit")}  # fmt: skip
API_KEY = "sk-test-" + key("replica client", 24)
HEADER = "x-scrubber-conversation"
TEXT = "Write to Maria Garcia at maria.garcia@example.org and to John Smith about the invoice."
VALUES = ["Maria Garcia", "maria.garcia@example.org", "John Smith"]
TOKEN = re.compile(r"<[A-Z_]+_[0-9a-f]{8}>")


@pytest.fixture(scope="module")
def schema() -> Iterator[tuple[str, str]]:
    """(DSN whose tables live in a fresh schema, the schema's name); dropped afterwards."""
    with fresh_pg_schema("it_gateway") as found:
        yield found


@pytest.fixture(scope="module")
def replicas(
    schema: tuple[str, str], upstream: FakeUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    config = {
        "keys": {"default": {"env": "SCRUBBER_TOKEN_KEY"}},
        "vault": {"store": "postgres", "postgres_dsn": {"env": "SCRUBBER_VAULT_DSN"},
                  "encryption_keys": {1: {"env": "SCRUBBER_VAULT_KEY_V1"}}, "active_key": 1,
                  "audit": {"key": {"env": "SCRUBBER_AUDIT_KEY"}}},
        "gateway": {"upstream": upstream.url, "scope": "conversation",
                    "conversation_store": "vault"},
    }  # fmt: skip
    folder = tmp_path_factory.mktemp("replicas")
    env = {**ENV, "SCRUBBER_VAULT_DSN": schema[0]}
    started = [GatewayProcess(config, folder, env, name) for name in ("a", "b")]
    try:
        a, b = (process.wait_ready() for process in started)
        yield a.url, b.url
    finally:
        for process in started:
            process.stop()
    for process in started:
        log = process.log.read_text()
        for secret in [*VALUES, API_KEY]:
            assert secret not in log


def _say(
    url: str, conversation: str, text: str, stream: bool = False, api_key: str = API_KEY
) -> str:
    """One turn through the official SDK (a client per turn, as two pods' callers would be)."""
    messages = [{"role": "user", "content": text}]
    with openai.OpenAI(base_url=f"{url}/v1", api_key=api_key, max_retries=0,
                       default_headers={HEADER: conversation}) as client:  # fmt: skip
        if not stream:
            answer = client.chat.completions.create(model="m", messages=messages)  # type: ignore[arg-type]
            return answer.choices[0].message.content or ""
        chunks = client.chat.completions.create(model="m", messages=messages, stream=True)  # type: ignore[arg-type]
        return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def test_turns_alternating_between_replicas_restore_every_token(
    replicas: tuple[str, str], upstream: FakeUpstream, schema: tuple[str, str]
) -> None:
    a, b = replicas
    conversation = f"conv-{uuid.uuid4().hex[:8]}"
    # Turn 1 on A mints the tokens (the fake model echoes them back: restored on A).
    upstream.script = Script()
    assert _say(a, conversation, TEXT) == f"You said: {TEXT}"
    minted = TOKEN.findall(upstream.received[-1].raw.decode())
    assert len(minted) == 3, minted
    for value in VALUES:
        assert value not in upstream.received[-1].raw.decode()
    # Turn 2 on B: the request names nobody; the model names everyone of turn 1.
    upstream.script = Script(reply=f"Remember {minted[0]}, {minted[1]} and {minted[2]}?")
    assert _say(b, conversation, "Who was it?") == (
        "Remember Maria Garcia, maria.garcia@example.org and John Smith?"
    )
    # Turn 3 on B mints a new token; turn 4 on A (streamed, 3-character deltas) restores it
    # beside one of turn 1.
    upstream.script = Script()
    _say(b, conversation, "Also copy ana.lopez@example.net please.")
    (new,) = TOKEN.findall(upstream.received[-1].raw.decode())
    upstream.script = Script(reply=f"Sent to {new} for {minted[0]}.", piece=3)
    assert _say(a, conversation, "Done?", stream=True) == (
        "Sent to ana.lopez@example.net for Maria Garcia."
    )
    # Another conversation, on either replica, and the same id under another API key: the
    # tokens stay tokens.
    upstream.script = Script(reply=f"It is {minted[0]} ({new})")
    for url in (a, b):
        assert _say(url, f"other-{uuid.uuid4().hex[:6]}", "who?") == (f"It is {minted[0]} ({new})")
        stranger = "sk-other-" + key("stranger", 24)
        assert _say(url, conversation, "who?", api_key=stranger) == f"It is {minted[0]} ({new})"
    # What the replicas share holds sealed values under a digest: no value, id or key.
    with psycopg.connect(PG_DSN) as conn:
        rows = conn.execute(
            f"SELECT conversation, token, sealed FROM {schema[1]}.scrubber_gateway_conversation"
        ).fetchall()
    assert len(rows) >= 4
    dumped = repr(rows)
    for secret in [*VALUES, "ana.lopez@example.net", conversation, API_KEY]:
        assert secret not in dumped
