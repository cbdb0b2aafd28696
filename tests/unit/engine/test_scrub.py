"""The engine end to end on one batch: structure kept, policy applied, failures closed."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest

from recognizers import default_recognizers
from recognizers.base import PatternRecognizer
from scrubber.engine import Scrubber
from scrubber.models import Outcome, Reason
from tests.keys import key

EMAIL = "maria.garcia@example.com"


def test_text_line_keeps_log_structure(engine: Scrubber) -> None:
    line = (
        "2026-11-24T08:15:03.402Z WARN charge failed for customer Maria Garcia "
        f"<{EMAIL}> request_id=7f3a9c1e-2b4d-4e8f-9a10-3c5d7e9f1a2b took 34 ms"
    )
    out = engine.scrub_text(line)
    assert EMAIL not in out and "Maria Garcia" not in out
    assert out.startswith("2026-11-24T08:15:03.402Z WARN charge failed for customer ")
    assert "request_id=7f3a9c1e-2b4d-4e8f-9a10-3c5d7e9f1a2b took 34 ms" in out
    assert "<EMAIL_ADDRESS>" in out


def test_json_record_stays_json_with_same_structure(engine: Scrubber) -> None:
    record = {
        "ts": "2026-11-24T08:15:05Z",
        "user": {"email": EMAIL, "id": 42, "password": "hunter2-horse"},
        "messages": [{"role": "user", "content": "I am John Smith, call +44 20 7946 0958"}],
        "card": 4111111111111111,
    }
    [result] = engine.scrub_batch([json.dumps(record)])
    out = json.loads(result.output)
    assert out["ts"] == record["ts"]
    assert out["user"]["id"] == 42
    assert out["user"]["email"] == "<EMAIL_ADDRESS>"
    assert out["user"]["password"] == "<SECRET>"
    assert "John Smith" not in out["messages"][0]["content"]
    assert "7946" not in out["messages"][0]["content"]
    assert out["messages"][0]["role"] == "user"
    assert out["card"] == "<CREDIT_CARD>"
    assert result.entity_counts["EMAIL_ADDRESS"] == 1


def test_chat_written_in_lower_case_is_read_for_names(engine: Scrubber) -> None:
    out = engine.scrub_text("i met sarah connor yesterday, her number is +44 20 7946 0958")
    assert "sarah" not in out and "connor" not in out and "7946" not in out
    assert out.startswith("i met <PERSON> yesterday")


def test_pii_free_records_are_byte_identical(engine: Scrubber) -> None:
    lines = [
        '{"ts":"2026-11-24T08:15:05Z","level":"info","msg":"cache warmed","n":12}',
        "2026-11-24 08:15:07,250 INFO GET /api/v1/orders 200 1532 bytes in 34 ms version=2.10.3",
    ]
    assert [r.output for r in engine.scrub_batch(lines)] == lines


def test_field_rules_decide_before_detection(make_engine: Callable[..., Scrubber]) -> None:
    engine = make_engine(
        {
            "policy": {
                "fields": {
                    "user.email": {"type": "token"},
                    "*.secretish": {"type": "redact"},
                    "http.headers": {"type": "redact"},
                    "trace.note": {"type": "keep"},
                }
            },
            "keys": {"default": {"env": "K"}},
        },
        {"K": key("q")},
    )
    record = {
        "user": {"email": EMAIL},
        "secretish": "plain words",
        "deep": {"secretish": "more"},
        "http": {"headers": {"authorization": "Basic abc", "x-id": "1"}},
        "trace": {"note": f"kept as is {EMAIL}"},
    }
    out = json.loads(engine.scrub_batch([json.dumps(record)])[0].output)
    assert out["user"]["email"].startswith("<FIELD_")
    assert out["secretish"] == "[REDACTED]"
    assert out["deep"]["secretish"] == "[REDACTED]"
    assert out["http"]["headers"] == {"authorization": "[REDACTED]", "x-id": "[REDACTED]"}
    assert out["trace"]["note"] == f"kept as is {EMAIL}"


def test_short_numbers_follow_field_rules_and_key_hints(
    make_engine: Callable[..., Scrubber],
) -> None:
    engine = make_engine({"policy": {"fields": {"*.pin": {"type": "redact"}}}})
    record = {"card": {"pin": 4821}, "login": {"password": 123456}, "retries": 3, "ratio": 0.5}
    out = json.loads(engine.scrub_batch([json.dumps(record)])[0].output)
    assert out["card"]["pin"] == "[REDACTED]"
    assert out["login"]["password"] == "<SECRET>"
    assert out["retries"] == 3 and out["ratio"] == 0.5  # still numbers: nothing said otherwise


def test_quasi_identifiers_are_generalised_not_removed(
    make_engine: Callable[..., Scrubber],
) -> None:
    generalize = {"type": "generalize"}
    engine = make_engine({"policy": {"entities": {"AGE": generalize, "POSTAL_CODE": generalize},
                                     "fields": {"*.age": generalize}}})  # fmt: skip
    line = "patient is a 34 year old from ZIP 94107, seen by Dr. Maria Garcia"
    assert engine.scrub_text(line) == (
        "patient is a 30-39 year old from ZIP 941**, seen by <PERSON>"
    )
    out = json.loads(engine.scrub_batch(['{"user": {"age": 93, "id": 7}}'])[0].output)
    assert out == {"user": {"age": "90+", "id": 7}}


def test_allow_list_wins_over_detection(make_engine: Callable[..., Scrubber]) -> None:
    engine = make_engine({"detection": {"allow_list": ["support@example.com"]}})
    out = engine.scrub_text(f"write to support@example.com or {EMAIL}")
    assert "support@example.com" in out and EMAIL not in out


def _raising(value: str) -> bool:
    raise RuntimeError(f"boom on {value}")


def _slow(value: str) -> bool:
    time.sleep(0.05)
    return True


def test_a_recognizer_that_raises_fails_the_record_closed(
    make_engine: Callable[..., Scrubber],
) -> None:
    bad = PatternRecognizer(
        "explodes", "THING", r"kaboom\d+", triggers=("kaboom",), validator=_raising
    )
    engine = make_engine(
        {"detection": {"ner": {"enabled": False}}}, recognizers=[bad, *default_recognizers()]
    )
    results = engine.scrub_batch(
        [f"secret kaboom123 {EMAIL}", f"mail {EMAIL}", '{"m": "kaboom7 x"}'], "auto"
    )
    assert results[0].outcome is Outcome.QUARANTINED
    assert results[0].reason is Reason.DETECTION_ERROR
    assert EMAIL not in results[0].output and "kaboom" not in results[0].output
    assert results[1].outcome is Outcome.OK and results[1].output == "mail <EMAIL_ADDRESS>"
    assert json.loads(results[2].output) == {
        "scrubber_quarantined": True,
        "reason": "detection_error",
    }


def test_deadline_exceeded_fails_closed(make_engine: Callable[..., Scrubber]) -> None:
    slow = PatternRecognizer("slow", "THING", r"slow\d", triggers=("slow",), validator=_slow)
    engine = make_engine(
        {"detection": {"ner": {"enabled": False}}, "limits": {"record_deadline_seconds": 0.01}},
        recognizers=[slow],
    )
    [result] = engine.scrub_batch(["slow1 slow2 slow3 slow4 " + EMAIL])
    assert result.reason is Reason.DEADLINE_EXCEEDED
    assert EMAIL not in result.output


def test_invalid_utf8_and_huge_records_fail_closed(engine: Scrubber) -> None:
    huge = ("x" * 1000 + f" {EMAIL} ") * 5000  # about 5 MB
    results = engine.scrub_batch([b"\xc3\x28 " + EMAIL.encode(), huge, '{"a": "' + huge + '"}'])
    assert [r.reason for r in results] == [Reason.INVALID_UTF8, Reason.TOO_LARGE, Reason.TOO_LARGE]
    assert all(EMAIL not in r.output for r in results)
    assert json.loads(results[2].output)["reason"] == "too_large"


def test_ner_failure_quarantines_only_the_failing_record(
    engine: Scrubber, monkeypatch: pytest.MonkeyPatch
) -> None:
    ner = engine.detector._ner
    assert ner is not None
    real = ner.detect_batch

    def flaky(texts: list[str]) -> object:
        if any("Poison" in t for t in texts):
            raise ValueError("model crashed")
        return real(texts)

    monkeypatch.setattr(ner, "detect_batch", flaky)
    # NER reads only words the lexical pass cannot decide: a capitalised English word mid-sentence.
    results = engine.scrub_batch(
        ["Yesterday John Smith met River at the Poison bar.", "Jane Doe met John Smith today"]
    )
    assert results[0].reason is Reason.DETECTION_ERROR
    assert "John Smith" not in results[0].output
    assert results[1].outcome is Outcome.OK and "John Smith" not in results[1].output
