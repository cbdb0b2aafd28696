"""A Presidio client, unchanged (plain `requests`, the calls of Presidio's e2e-tests/common/
methods.py), against a real `scrubber serve` process with `api.presidio` on: one base URL for
both ANALYZER_BASE_URL and ANONYMIZER_BASE_URL. Then no planted value is in the server's logs or
its /metrics."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

ROOT = Path(__file__).resolve().parents[3]
HEADERS = {"Content-Type": "application/json"}  # all Presidio's e2e client sends
NAME, EMAIL, PHONE = "Ophelia Vantongeren", "ophelia.vantongeren@leakcheck.example", "415-555-0173"
SSN, KEY, TERM = "078-05-1120", "Qm7#vR2!pL9$wX4&", "Zorblax"
PLANTED = (NAME, EMAIL, PHONE, SSN, KEY, TERM, "Vantongeren")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """`scrubber serve` on loopback, Presidio routes open as Presidio's containers are."""
    tmp = tmp_path_factory.mktemp("presidio")
    config = {"api": {"presidio": {"enabled": True, "require_scrub_role": False},
                      "limits": {"large_record_bytes": None}}}  # fmt: skip
    (tmp / "scrubber.yaml").write_text(yaml.safe_dump(config))
    port, log_path = _free_port(), tmp / "serve.log"
    command = [sys.executable, "-m", "scrubber.cli", "--log-format", "json", "--log-level",
               "debug", "serve", "--config", str(tmp / "scrubber.yaml"), "--port", str(port)]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=dict(os.environ), stdout=log,
                                   stderr=subprocess.STDOUT)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert process.poll() is None, log_path.read_text()[-2000:]
            try:
                if requests.get(url + "/health", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.25)
        else:
            pytest.fail("scrubber serve did not answer /health within 120 s")
        yield url, log_path
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def analyze(url: str, data: str) -> tuple[int, Any]:
    response = requests.post(f"{url}/analyze", data=data, headers=HEADERS, timeout=30)
    return response.status_code, json.loads(response.content)


def anonymize(url: str, data: str) -> tuple[int, Any]:
    response = requests.post(f"{url}/anonymize", data=data, headers=HEADERS, timeout=30)
    return response.status_code, json.loads(response.content)


def deanonymize(url: str, data: str) -> tuple[int, Any]:
    response = requests.post(f"{url}/deanonymize", data=data, headers=HEADERS, timeout=30)
    return response.status_code, json.loads(response.content)


def test_a_presidio_client_works_unchanged_and_nothing_leaks(served: tuple[str, Path]) -> None:
    url, log_path = served
    text = f"{NAME} wrote from {EMAIL}, call {PHONE}, ssn {SSN}; {TERM} says hi"
    status, found = analyze(url, json.dumps({
        "text": text, "language": "en", "score_threshold": 0.3, "correlation_id": "c-1",
        "ad_hoc_recognizers": [{"name": "Codename", "supported_language": "en",
                                "deny_list": [TERM], "supported_entity": "CODENAME"}],
    }))  # fmt: skip
    assert status == 200
    assert {"PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "US_SSN", "CODENAME"} <= {
        r["entity_type"] for r in found
    }
    assert all(set(r) == {"entity_type", "start", "end", "score", "analysis_explanation"}
               for r in found)  # fmt: skip
    # Presidio's analyze-then-anonymize flow (e2e test_api_e2e_integration_flows.py).
    status, done = anonymize(url, json.dumps({
        "text": text, "analyzer_results": found,
        "anonymizers": {"DEFAULT": {"type": "replace", "new_value": "ANONYMIZED"},
                        "PHONE_NUMBER": {"type": "mask", "masking_char": "*", "chars_to_mask": 4,
                                         "from_end": True},
                        "PERSON": {"type": "encrypt", "key": KEY}},
    }))  # fmt: skip
    assert status == 200
    assert set(done) == {"text", "items"}
    assert EMAIL not in done["text"] and SSN not in done["text"] and TERM not in done["text"]
    assert "415-555-****" in done["text"]
    person = [i for i in done["items"] if i["entity_type"] == "PERSON"]
    status, back = deanonymize(url, json.dumps({
        "text": done["text"], "anonymizer_results": person,
        "deanonymizers": {"PERSON": {"type": "decrypt", "key": KEY}},
    }))  # fmt: skip
    assert status == 200
    assert NAME in back["text"]
    assert requests.get(f"{url}/supportedentities?language=en", timeout=10).status_code == 200
    assert requests.get(f"{url}/anonymizers", timeout=10).json() == [
        "encrypt", "hash", "keep", "mask", "redact", "replace"
    ]  # fmt: skip
    refused = requests.post(f"{url}/anonymize", data="{}", headers=HEADERS, timeout=10)
    assert (refused.status_code, refused.json()) == (400, {"error": "Invalid request json"})
    bad = requests.post(f"{url}/anonymize", headers=HEADERS, timeout=10, data=json.dumps(
        {"text": text, "anonymizers": {"DEFAULT": {"type": NAME}}, "analyzer_results": found}))
    assert bad.status_code == 422  # names the operator: in the answer only, never in a log
    metrics = requests.get(f"{url}/metrics", timeout=10).text
    assert 'scrubber_http_requests_total{route="/analyze",status="200"} 1.0' in metrics
    time.sleep(0.5)  # let the server flush its log lines
    logs = log_path.read_text("utf-8", "replace")
    assert "serve_ready" in logs
    for value in PLANTED:
        assert value not in logs
        assert value not in metrics
