"""`scrubber explain` on ten tricky lines: each replacement with its sources (recognizer,
pattern, score, context words, field rule or key hint, operator), and what was let go, why."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scrubber.engine import Scrubber
from scrubber.engine.explain import SCHEMA, explain, render_text
from scrubber.operators import MemoryTokenSink
from tests.keys import key

ROOT = Path(__file__).resolve().parents[3]
CONFIG: dict[str, Any] = {
    "detection": {"allow_list": ["support@example.com"]},
    "recognizers": [
        {"name": "employee_number", "entity_type": "EMPLOYEE_ID", "validators": ["luhn"],
         "patterns": [{"name": "badge", "regex": r"\bEMP-\d{8}\b", "score": 0.9}]},
        {"name": "order_number", "entity_type": "ORDER_ID", "context": ["order"],
         "patterns": [{"name": "bare", "regex": r"\b\d{10}\b", "score": 0.3}]},
        {"name": "vip_names", "entity_type": "PERSON", "deny_list": ["Project Nightjar"]},
    ],
    "policy": {
        "entities": {"EMPLOYEE_ID": {"type": "token", "key": "default"}},
        "fields": {"user.email": {"type": "redact"}, "trace.note": {"type": "keep"}},
    },
    "keys": {"default": {"env": "SCRUBBER_TOKEN_KEY"}},
}  # fmt: skip
ENV = {"SCRUBBER_TOKEN_KEY": key("explain")}


@pytest.fixture(scope="module")
def engine(make_engine: Callable[..., Scrubber]) -> Scrubber:
    return make_engine(CONFIG, ENV, token_sink=MemoryTokenSink())


def _explained(engine: Scrubber, line: str, fmt: Any = "auto") -> dict[str, Any]:
    data = explain(engine, line, fmt).as_dict()
    json.dumps(data)  # JSON all the way down
    assert data["schema"] == SCHEMA
    return data


def _finding(data: dict[str, Any], text: str) -> dict[str, Any]:
    return next(f for f in data["findings"] if f["text"] == text)


def _dropped(data: dict[str, Any], text: str) -> list[dict[str, Any]]:
    return [c for c in data["suppressed"] if c["text"] == text]


def test_1_a_custom_pattern_with_its_validator_and_operator(engine: Scrubber) -> None:
    data = _explained(engine, "badge EMP-12345674 and EMP-12345675")
    found = _finding(data, "EMP-12345674")
    assert found["operator"] == "token"
    [source] = found["sources"]
    assert source["recognizer"] == "employee_number"
    assert source["pattern"] == "badge"
    assert source["regex"] == r"\bEMP-\d{8}\b"
    assert source["origin"] == "recognizers"
    [dropped] = _dropped(data, "EMP-12345675")
    assert dropped["reason"] == "validator"


def test_2_context_words_raise_a_weak_pattern(engine: Scrubber) -> None:
    data = _explained(engine, "ref 9988776655; the order 4711000042 shipped")
    [source] = _finding(data, "4711000042")["sources"]
    assert source["context_words"] == ["order"]
    assert source["score"] == pytest.approx(0.65)
    [weak] = _dropped(data, "9988776655")
    assert weak["reason"] == "below_threshold"
    assert "0.30 < detection.score_threshold 0.4" in weak["detail"]


def test_3_a_deny_list_term(engine: Scrubber) -> None:
    data = _explained(engine, "status of project nightjar")
    [source] = _finding(data, "project nightjar")["sources"]
    assert (source["recognizer"], source["pattern"]) == ("vip_names", "deny_list")


def test_4_the_allow_list_wins(engine: Scrubber) -> None:
    data = _explained(engine, "write to support@example.com or jane.doe@example.org")
    assert _finding(data, "jane.doe@example.org")["entity_type"] == "EMAIL_ADDRESS"
    [allowed] = _dropped(data, "support@example.com")
    assert allowed["reason"] == "allow_list"
    assert "support@example.com" in data["output"]


def test_5_a_field_rule_and_a_keep_rule(engine: Scrubber) -> None:
    record = '{"user": {"email": "a.person@example.net"}, "trace": {"note": "10.1.2.3"}}'
    data = _explained(engine, record)
    assert data["format"] == "json"
    found = _finding(data, "a.person@example.net")
    assert found["operator"] == "redact"
    assert found["entity_type"] == "FIELD"
    assert found["sources"][0]["kind"] == "field_rule"
    assert found["sources"][0]["rule"] == "user.email"
    assert "10.1.2.3" in data["output"]  # kept by its rule, never scanned


def test_6_a_key_hint_in_a_log_line(engine: Scrubber) -> None:
    data = _explained(engine, "level=warn user_password=Winter2024x retry=3")
    kinds = {s["kind"] for s in _finding(data, "Winter2024x")["sources"]}
    assert "key_hint" in kinds
    hint = next(s for s in _finding(data, "Winter2024x")["sources"] if s["kind"] == "key_hint")
    assert hint["field"] == "user_password"


def test_7_a_name_in_prose_and_its_later_mention(engine: Scrubber) -> None:
    data = _explained(engine, "User Maria Garcia logged in; later maria garcia's session ended")
    first = _finding(data, "Maria Garcia")
    assert first["sources"][0]["kind"] in {"proper_nouns", "ner"}
    assert _finding(data, "maria garcia")["sources"][0]["kind"] == "mention"


def test_8_loopback_and_versions_are_let_go(engine: Scrubber) -> None:
    data = _explained(engine, "bound to 127.0.0.1 by build 10.2.3.4-rc1 from 203.0.113.9")
    assert _finding(data, "203.0.113.9")["entity_type"] == "IP_ADDRESS"
    assert any(c["reason"] == "validator" for c in _dropped(data, "127.0.0.1"))
    assert "127.0.0.1" in data["output"]


def test_9_a_server_host_name_is_a_skipped_type(engine: Scrubber) -> None:
    data = _explained(engine, "connect to db01.prod.example.com:5432 failed")
    dropped = _dropped(data, "db01.prod.example.com")
    assert dropped and {c["reason"] for c in dropped} == {"skipped_entity"}
    assert "detection.skip_entities" in dropped[0]["detail"]
    assert data["findings"] == []


def test_10_our_own_placeholders_and_plain_lines(engine: Scrubber) -> None:
    data = _explained(engine, "GET /health 200 in 3 ms; user <EMAIL_ADDRESS> [REDACTED]")
    assert data["findings"] == []
    assert data["output"] == "GET /health 200 in 3 ms; user <EMAIL_ADDRESS> [REDACTED]"


def test_the_text_form_reads_as_a_report(engine: Scrubber) -> None:
    text = render_text(explain(engine, "ref 9988776655; order 4711000042 by EMP-12345674"))
    assert "output: ref 9988776655; order <ORDER_ID> by <EMPLOYEE_ID_" in text
    assert "pattern order_number/bare [recognizers] score 0.65, context order" in text
    assert "'9988776655' ORDER_ID" in text and "below_threshold" in text


def test_the_command_line(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(json.dumps(CONFIG), "utf-8")  # JSON is YAML
    command = [sys.executable, "-m", "scrubber.cli", "explain", "--config", str(config)]
    env = {**os.environ, **ENV}
    lines = "order 4711000042\nmail jane.doe@example.org\n"
    result = subprocess.run([*command, "--json", "-"], input=lines, capture_output=True,
                            text=True, check=False, cwd=ROOT, env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    outputs = [json.loads(line)["output"] for line in result.stdout.splitlines()]
    assert outputs == ["order <ORDER_ID>", "mail <EMAIL_ADDRESS>"]
    result = subprocess.run([*command, "order 4711000042"], capture_output=True, text=True,
                            check=False, cwd=ROOT, env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("output: order <ORDER_ID>\nfindings (1):\n")
