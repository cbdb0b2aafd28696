"""api.limits over HTTP (httpx on the ASGI app): rates per caller, bad-key attempts per address,
the token cap of a restore, subject requests, the docs pages; and the buckets on a clock."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from scrubber.api.app import REFUSALS
from scrubber.api.limits import AttemptWindows, TokenBuckets
from scrubber.api.serve import build_app
from scrubber.config import parse_config
from scrubber.errors import ConfigError
from tests.keys import key
from tests.unit.api.test_app import EMAIL, ENV, Client, vaulted

OPS = {"Authorization": f"Bearer {ENV['OPS_KEY']}"}
WRONG = {"Authorization": f"Bearer {key('wrong')}"}


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def api_with(
    tmp_path: Path, limits: dict[str, Any], policy: dict[str, Any] | None = None, **access: Any
) -> tuple[Client, Path]:
    """A vaulted app with these api.limits and its audit log in a JSONL file."""
    data = vaulted(tmp_path, **access)
    if policy is not None:
        data["policy"] = policy
    data["access"]["roles"]["admin"]["subject_rights"] = True
    data["vault"]["audit_log"] = str(tmp_path / "audit.jsonl")
    data["api"] = {"limits": limits}
    config = parse_config({"detection": {"ner": {"enabled": False}}, **data})
    return Client(build_app(config, ENV)), tmp_path / "audit.jsonl"


def audit(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]


def metric(api: Client, name: str, **labels: str) -> float:
    """The sample's value in /metrics (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in api.get("/metrics").text.splitlines():
        if line.startswith(f"{name}{{{wanted}}} ") or (not labels and line.startswith(name + " ")):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def assert_refused(response: Any, status: int, error: str, reason: str) -> None:
    assert response.status_code == status, response.text
    assert response.json() == {"error": error, "reason": reason, "message": REFUSALS[error]}
    assert int(response.headers["retry-after"]) >= 1


def test_buckets_refill_at_their_rate_and_hold_a_burst() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate=2.0, burst=3, clock=clock)
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == pytest.approx(0.5)
    assert buckets.take("b") == 0.0  # every key its own bucket
    clock.now += 0.5
    assert buckets.take("a") == 0.0
    assert buckets.take("a") > 0
    clock.now += 3600  # refills to the burst, no further
    assert [buckets.take("a") for _ in range(4)][-1] > 0


def test_attempt_windows_refuse_beyond_the_limit_and_reset_each_window() -> None:
    clock = Clock()
    windows = AttemptWindows(limit=2, window=60.0, clock=clock)
    seen = [windows.attempt("10.0.0.1") for _ in range(5)]
    assert [a.allowed for a in seen] == [True, True, False, False, False]
    assert [a.first_refused for a in seen] == [False, False, True, False, False]
    assert seen[-1].retry_after == 60.0 and windows.attempt("10.0.0.2").allowed
    clock.now += 60.0
    assert windows.attempt("10.0.0.1").allowed


def test_restore_over_the_rate_is_429_with_retry_after_and_no_audit_record(
    tmp_path: Path,
) -> None:
    api, log = api_with(tmp_path, {"restore_per_second": 0.01, "restore_burst": 2})
    text = api.post("/v1/scrub", json={"text": f"mail {EMAIL}"}, headers=OPS).json()["text"]
    assert [api.post("/v1/restore", json={"text": text}, headers=OPS).status_code
            for _ in range(2)] == [200, 200]  # fmt: skip
    records = len(audit(log))
    refused = api.post("/v1/restore", json={"text": text}, headers=OPS)
    assert_refused(refused, 429, "rate_limited", "restore_per_second")
    assert int(refused.headers["retry-after"]) in range(99, 102)  # one token at 0.01/s
    assert EMAIL not in refused.text and len(audit(log)) == records
    assert metric(api, "scrubber_http_rate_limited_total", route="/v1/restore",
                  limit="restore_per_second") == 1  # fmt: skip
    assert metric(api, "scrubber_http_requests_total", route="/v1/restore", status="429") == 1


def test_scrub_rates_are_per_key_and_callers_without_one_share_their_address(
    tmp_path: Path,
) -> None:
    # Without keyed operators anyone may scrub (the output reveals nothing to test guesses on).
    replace = {"default": {"type": "replace"}}
    api, _ = api_with(tmp_path, {"scrub_per_second": 0.01, "scrub_burst": 2}, policy=replace)
    body = {"text": "nothing personal"}
    assert [api.post("/v1/scrub", json=body).status_code for _ in range(3)] == [200, 200, 429]
    assert_refused(api.post("/v1/scrub", json=body, headers=WRONG), 429, "rate_limited",
                   "scrub_per_second")  # an unknown key scrubs as its address  # fmt: skip
    assert api.post("/v1/scrub", json=body, headers=OPS).status_code == 200


def test_bad_keys_beyond_the_limit_get_429_before_the_audit_log_is_touched(
    tmp_path: Path,
) -> None:
    api, log = api_with(tmp_path, {"bad_keys_per_minute": 3})
    token = {"text": "<EMAIL_ADDRESS_V1_0123456789abcdef>"}
    statuses = [api.post("/v1/restore", json=token, headers=WRONG).status_code for _ in range(3)]
    statuses.append(api.post("/v1/subjects/access", json={"identifiers": [EMAIL]}).status_code)
    statuses += [api.post("/v1/restore", json=token).status_code for _ in range(6)]
    assert statuses == [401] * 3 + [429] * 7
    records = audit(log)
    assert [(r["actor"], r["outcome"]) for r in records] == [("anonymous", "unauthenticated")] * 4
    assert [r["detail"] for r in records[:3]] == [{}] * 3
    assert records[3]["action"] == "access"
    assert records[3]["detail"] == {"rate_limited": "bad_keys_per_minute", "attempts": 4,
                                    "window_seconds": 60.0}  # fmt: skip
    refused = api.post("/v1/restore", json=token, headers=WRONG)
    assert_refused(refused, 429, "rate_limited", "bad_keys_per_minute")
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert len(audit(log)) == 4  # one aggregated record for eight refusals
    assert metric(api, "scrubber_http_unauthenticated_total", route="/v1/restore") == 10
    assert metric(api, "scrubber_http_rate_limited_total", route="/v1/restore",
                  limit="bad_keys_per_minute") == 7  # fmt: skip
    # A valid key from the same address is not held back by the others' bad keys.
    assert api.post("/v1/restore", json=token, headers=OPS).status_code == 200


def test_scrub_that_requires_a_key_limits_bad_keys_without_an_audit_log(tmp_path: Path) -> None:
    api, log = api_with(tmp_path, {"bad_keys_per_minute": 2}, scrub_requires_key=True)
    body = {"text": f"mail {EMAIL}"}
    statuses = [api.post("/v1/scrub", json=body, headers=WRONG).status_code for _ in range(4)]
    assert statuses == [401, 401, 429, 429]
    assert audit(log) == []
    assert api.post("/v1/scrub", json=body, headers=OPS).status_code == 200


def test_a_restore_over_the_token_cap_is_413_and_nothing_is_looked_up(tmp_path: Path) -> None:
    api, log = api_with(tmp_path, {"max_tokens_per_restore": 3})
    emails = [f"user{i}@example.org" for i in range(4)]
    scrubbed = [api.post("/v1/scrub", json={"text": e}, headers=OPS).json()["text"] for e in emails]
    three = api.post("/v1/restore", json={"text": " ".join(scrubbed[:3] * 5)}, headers=OPS)
    assert three.status_code == 200 and len(three.json()["tokens"]) == 3  # distinct tokens count
    records = len(audit(log))
    four = api.post("/v1/restore", json={"json": {"a": scrubbed[:2], "b": scrubbed[2:]}},
                    headers=OPS)  # fmt: skip
    assert four.status_code == 413
    assert four.json()["error"] == "invalid_request"
    assert four.json()["reason"] == "max_tokens_per_restore"
    assert not any(e in four.text for e in emails) and len(audit(log)) == records


def test_subject_requests_are_rate_limited_and_audited_with_their_count(tmp_path: Path) -> None:
    api, log = api_with(tmp_path, {"subjects_per_minute": 1, "subjects_burst": 2})
    api.post("/v1/scrub", json={"text": f"mail {EMAIL}"}, headers=OPS)
    asked = {"identifiers": [EMAIL, "nobody@example.org", "+1 415 555 0199"]}
    assert api.post("/v1/subjects/access", json=asked, headers=OPS).status_code == 200
    assert api.post("/v1/subjects/erase", json=asked, headers=OPS).status_code == 200
    refused = api.post("/v1/subjects/access", json=asked, headers=OPS)
    assert_refused(refused, 429, "rate_limited", "subjects_per_minute")
    assert int(refused.headers["retry-after"]) in range(59, 62)
    records = [r for r in audit(log) if r["action"] in ("access", "erase")]
    assert [(r["action"], r["detail"]["identifiers"]) for r in records] == [
        ("access", 3), ("erase", 3)]  # fmt: skip
    assert EMAIL not in log.read_text("utf-8")


def test_docs_pages_are_off_by_default_and_the_openapi_document_stays(tmp_path: Path) -> None:
    quiet = Client(build_app(parse_config({"detection": {"ner": {"enabled": False}}}), ENV))
    for path in ("/docs", "/redoc", "/docs/oauth2-redirect"):
        page = quiet.get(path)
        assert page.status_code == 404 and "cdn" not in page.text.lower(), path
    schema = quiet.get("/openapi.json").json()
    assert {"429", "503"} <= set(schema["paths"]["/v1/restore"]["post"]["responses"])
    docs = parse_config({"detection": {"ner": {"enabled": False}}, "api": {"docs": True}})
    shown = Client(build_app(docs, ENV))
    assert shown.get("/docs").status_code == 200 and shown.get("/redoc").status_code == 200


@pytest.mark.parametrize(("limits", "path"), [
    ({"restore_per_second": 0}, "api.limits.restore_per_second"),
    ({"max_queue": -1}, "api.limits.max_queue"),
    ({"large_record_bytes": 10}, "api.limits.large_record_bytes"),
    ({"request_deadline_seconds": "soon"}, "api.limits.request_deadline_seconds"),
    ({"per_hour": 3}, "api.limits.per_hour"),
])  # fmt: skip
def test_limits_are_validated_with_their_key_path(limits: dict[str, Any], path: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(path)):
        parse_config({"api": {"limits": limits}})


def test_audit_records_carry_the_client_address_and_request_id(tmp_path: Path) -> None:
    api, log = api_with(tmp_path, {})
    api.post("/v1/restore", json={"text": "x"}, headers={**OPS, "X-Request-ID": "req-42"})
    api.post("/v1/restore", json={"text": "x"}, headers={"X-Request-ID": "mail jane@x.org"})
    first, second = audit(log)[-2:]
    assert (first["client"], first["request_id"]) == ("127.0.0.1", "req-42")
    assert second["outcome"] == "unauthenticated" and second["request_id"] == "(invalid)"
    assert "jane" not in log.read_text("utf-8")


def test_refusal_series_exist_at_zero_before_the_first_refusal(tmp_path: Path) -> None:
    """Ratio panels and alerts read 0, not "no data", on a server that never refused."""
    api, _ = api_with(tmp_path, {})
    text = api.get("/metrics").text
    for line in (
        'scrubber_http_rate_limited_total{limit="scrub_per_second",route="/v1/scrub"} 0.0',
        'scrubber_http_rate_limited_total{limit="bad_keys_per_minute",route="/v1/restore"} 0.0',
        'scrubber_http_busy_total{limit="max_queue",route="/v1/scrub"} 0.0',
        'scrubber_http_unauthenticated_total{route="/v1/restore"} 0.0',
    ):
        assert line in text, line
    assert 'route="/healthz"' not in "".join(
        x for x in text.splitlines() if x.startswith("scrubber_http_busy_total")
    )
