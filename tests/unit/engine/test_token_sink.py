"""The engine is handed its TokenSink: it opens no vault itself, and fails closed on what the
sink could not store. Tested with the in-memory fake that ships beside the protocol."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from scrubber.engine import Scrubber
from scrubber.errors import ConfigError
from scrubber.models import Outcome, Reason
from scrubber.operators import MemoryTokenSink
from tests.keys import key

EMAIL = "jane.roe@example.com"
VAULTED = {
    "detection": {"ner": {"enabled": False}},
    "policy": {"entities": {"EMAIL_ADDRESS": {"type": "vault"}}},
    "keys": {"default": {"env": "K"}},
    "vault": {
        "encryption_keys": {1: {"env": "V1"}},
        "active_key": 1,
        "audit": {"key": {"env": "A"}},
    },
}
ENV = {"K": key("k"), "V1": key("v1"), "A": key("audit")}


def test_a_vault_policy_without_a_sink_is_refused_at_start(
    make_engine: Callable[..., Scrubber],
) -> None:
    with pytest.raises(ConfigError, match="vault operator needs a token vault"):
        make_engine(VAULTED, ENV)


def test_tokens_go_to_the_sink_once_per_batch_and_survive(
    make_engine: Callable[..., Scrubber],
) -> None:
    sink = MemoryTokenSink()
    engine = make_engine(VAULTED, ENV, token_sink=sink)
    [result] = engine.scrub_batch([f"mail {EMAIL} now"])
    assert result.outcome is Outcome.OK
    assert EMAIL not in result.output
    [token] = sink.stored
    assert sink.stored[token] == ("pipeline", EMAIL) and token in result.output
    assert [(r.entity_type, r.operator) for r in result.replacements] == [
        ("EMAIL_ADDRESS", "vault")
    ]


def test_what_the_sink_could_not_store_never_leaves(make_engine: Callable[..., Scrubber]) -> None:
    sink = MemoryTokenSink()
    sink.available = False
    engine = make_engine(VAULTED, ENV, token_sink=sink)
    results = engine.scrub_batch([f"mail {EMAIL}", json.dumps({"to": EMAIL}), "no one here"])
    assert [r.reason for r in results] == [Reason.VAULT_UNAVAILABLE] * 2 + [None]
    assert all(EMAIL not in r.output and "EMAIL_ADDRESS_V1" not in r.output for r in results)
    assert results[2].output == "no one here"
    assert sink.stored == {}


def test_field_rules_and_key_hints_name_their_own_operator(
    make_engine: Callable[..., Scrubber],
) -> None:
    engine = make_engine(
        {
            "detection": {"ner": {"enabled": False}},
            "policy": {
                "default": {"type": "replace"},
                "entities": {"SECRET": {"type": "redact"}},
                "fields": {"user.ssn": {"type": "hash"}},
            },
            "keys": {"default": {"env": "K"}},
        },
        ENV,
    )
    record = json.dumps({"user": {"ssn": "123-45-6789", "password": "hunter2!x"}, "msg": EMAIL})
    [result] = engine.scrub_batch([record])
    applied = sorted((r.path, r.entity_type, r.operator) for r in result.replacements)
    assert applied == [
        ("msg", "EMAIL_ADDRESS", "replace"),
        ("user.password", "SECRET", "redact"),
        ("user.ssn", "FIELD", "hash"),
    ]
