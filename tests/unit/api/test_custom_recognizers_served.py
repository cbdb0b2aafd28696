"""A real `scrubber serve` process with the five configured recognizers of
benchmarks/bench_custom_recognizers.py (`write_config`) and `api.presidio` on, over plain HTTP:
/v1/scrub replaces each one's values (PROJECT_CODE tokenized, one token per value) and keeps
the near-misses; /analyze reports them in Presidio's shape, named by their recognizers; no
planted value is in the server's logs or /metrics. A Python plug-in configured beside them has
its calls counted in /metrics."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from benchmarks.bench_custom_recognizers import TOKEN_KEY_ENV
from tests.custom_recognizers import (
    NEAR_MISSES,
    PLUGIN,
    RECORDS,
    assert_tokens_per_value,
    five_recognizers,
    leaked,
    project_tokens,
)
from tests.keys import key

ROOT = Path(__file__).resolve().parents[3]
APP_KEY = key("custom recognizers serve")
# Presidio's RecognizerResult and AnalysisExplanation, as its server writes them.
RESULT_FIELDS = {"entity_type", "start", "end", "score", "analysis_explanation"}
EXPLANATION_FIELDS = {"recognizer", "pattern_name", "pattern", "original_score", "score",
                      "textual_explanation", "score_context_improvement",
                      "supportive_context_word", "validation_result", "regex_flags"}  # fmt: skip
# What /analyze finds in RECORDS: (record, value, entity type, recognizer, score). The order
# number scores 0.3 + 0.35 with `purchase` before it; nothing is found in the near-misses.
ANALYZED = [
    (0, "EMP-12345674", "EMPLOYEE_ID", "employee_number", 0.9),
    (2, "4711000042", "ORDER_ID", "order_number", 0.65),
    (2, "Project Nightjar", "PERSON", "vip_names", 1.0),
    (4, "aurelio quintanilla-voss", "PERSON", "vip_names", 1.0),
    (4, "PRJ-QRS-0042", "PROJECT_CODE", "project_code", 0.85),
    (5, "PRJ-QRS-0042", "PROJECT_CODE", "project_code", 0.85),
    (5, "web3.corp.example.net", "INTERNAL_HOST", "Internal host Recognizer", 0.8),
    (6, "PRJ-XYZ-0007", "PROJECT_CODE", "project_code", 0.85),
]


@dataclass
class Served:
    url: str
    log_path: Path

    def post(self, path: str, body: Any) -> httpx.Response:
        auth = {"Authorization": f"Bearer {APP_KEY}"}
        return httpx.post(self.url + path, json=body, headers=auth, timeout=30)

    def metrics(self) -> str:
        return httpx.get(self.url + "/metrics", timeout=10).text

    def logs(self) -> str:
        time.sleep(0.5)  # let the server flush its log lines
        return self.log_path.read_text("utf-8", "replace")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("custom")
    config = five_recognizers(tmp, plugin=True)
    config |= {
        "access": {"roles": {"app": {"scrub": True}},
                   "api_keys": {"app": {"role": "app", "env": "APP_KEY"}}},
        "api": {"presidio": {"enabled": True}, "limits": {"large_record_bytes": None}},
    }  # fmt: skip
    (tmp / "served.yaml").write_text(yaml.safe_dump(config))
    port, log_path = _free_port(), tmp / "serve.log"
    command = [sys.executable, "-m", "scrubber.cli", "--log-format", "json", "--log-level",
               "debug", "serve", "--config", str(tmp / "served.yaml"), "--port", str(port)]  # fmt: skip
    env = {**os.environ, TOKEN_KEY_ENV: key("custom recognizers token"), "APP_KEY": APP_KEY}
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert process.poll() is None, log_path.read_text()[-2000:]
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.25)
        else:
            pytest.fail("scrubber serve did not answer /health within 120 s")
        yield Served(url, log_path)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _scrubbed(served: Served, record: str) -> str:
    body = {"json": json.loads(record)} if record.startswith("{") else {"text": record}
    answer = served.post("/v1/scrub", body)
    assert answer.status_code == 200, answer.text
    done = answer.json()
    return done["text"] if "text" in done else json.dumps(done["json"])


def test_scrub_and_analyze_use_the_five_recognizers_and_nothing_leaks(served: Served) -> None:
    outputs = [_scrubbed(served, text) for text, _ in RECORDS]
    assert_tokens_per_value(project_tokens(outputs))
    assert all(any(near in o for o in outputs) for near in NEAR_MISSES)

    found = []
    for index, (text, _) in enumerate(RECORDS):
        answer = served.post("/analyze", {"text": text, "language": "en",
                                          "return_decision_process": True})  # fmt: skip
        assert answer.status_code == 200, answer.text
        results = answer.json()
        assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)
        for result in results:
            assert set(result) == RESULT_FIELDS
            explanation = result["analysis_explanation"]
            assert set(explanation) == EXPLANATION_FIELDS
            assert explanation["pattern"] is None  # a configured pattern is never shown
            value = text[result["start"] : result["end"]]
            name, score = explanation["recognizer"], round(result["score"], 2)
            found.append((index, value, result["entity_type"], name, score))
    assert sorted(found) == sorted(ANALYZED)
    assert leaked(served.logs(), served.metrics()) == []


def _plugin_metric(metrics: str, field: str) -> float:
    name = f"scrubber_recognizer_plugin_{field}_total"
    for family in text_string_to_metric_families(metrics):
        for sample in family.samples:
            if sample.name == name and sample.labels == {"recognizer": PLUGIN["name"]}:
                return sample.value
    raise AssertionError(f"no {name} for the plug-in in /metrics")


def test_a_python_plugins_calls_are_in_metrics(served: Served) -> None:
    before = served.metrics()
    answer = served.post("/v1/scrub", {"text": "the zorblax launch slipped again"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["text"] == "the <CODENAME> launch slipped again"
    after = served.metrics()
    assert _plugin_metric(after, "calls") >= _plugin_metric(before, "calls") + 1
    assert _plugin_metric(after, "seconds") > _plugin_metric(before, "seconds")
    assert _plugin_metric(after, "failures") == 0
    assert "zorblax" not in after and "zorblax" not in served.logs()
