"""What one consumed record turns into, without a broker: the pure functions of
scrubber.pipeline.records over KafkaRecord values, with real configs and engine result types."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pytest
from confluent_kafka import KafkaError, Message

from connectors.kafka.clients import ConsumerFailed, KafkaRecord, records_of
from scrubber.config import Config, parse_config
from scrubber.engine.formats import placeholder
from scrubber.models import Format, Outcome, Reason, RecordResult, Replacement
from scrubber.pipeline.records import (
    CONFIG_HEADER,
    ENTITIES_HEADER,
    REASON_HEADER,
    SOURCE_HEADER,
    Output,
    Scrubbed,
    delivered_outcome,
    entity_counts,
    needs_retry,
    scrub_parts,
    shape,
)

HASH = "c0ffee1234567890"
PLACEHOLDER = placeholder(Reason.MALFORMED_JSON, True)  # what the engine puts out


def _config(route: dict[str, Any] | None = None, **quarantine: Any) -> Config:
    return parse_config(
        {
            "routes": [{"name": "r", "input": "in", "output": "out", **(route or {})}],
            "quarantine": {"topic": "q", **quarantine},
        }
    )


def _record(
    value: bytes | None = b'{"mail": "a@b.example"}',
    key: bytes | None = b"user-1",
    headers: tuple[tuple[str, bytes | None], ...] = (("trace", b"t-1"),),
    offset: int = 42,
) -> KafkaRecord:
    return KafkaRecord("in", 3, offset, key, value, headers, 1_700_000_000_000)


def _shape(config: Config, scrubbed: Scrubbed, record: KafkaRecord | None = None) -> Any:
    return shape(config.routes[0], record or _record(), scrubbed, config.quarantine, HASH)


def _quarantine_meta(reason: str, offset: int = 42) -> tuple[tuple[str, bytes], ...]:
    return (
        (REASON_HEADER, reason.encode()),
        (CONFIG_HEADER, HASH.encode()),
        (SOURCE_HEADER, f"in/3/{offset}".encode()),
    )


# ---------------------------------------------------------------- OK records


def test_ok_record_goes_to_output_with_key_source_headers_and_ours_last() -> None:
    result = RecordResult(
        '{"mail": "<EMAIL_ADDRESS>"}',
        Outcome.OK,
        entity_counts={"PHONE_NUMBER": 1, "EMAIL_ADDRESS": 2},  # out of order on purpose
    )
    headers = (("trace", b"t-1"), ("empty", b""))
    shaped = _shape(_config(), Scrubbed(result, b"<KEY>", headers))
    assert shaped.reason is None
    assert shaped.outputs == (
        Output(
            "out",
            b"<KEY>",
            b'{"mail": "<EMAIL_ADDRESS>"}',
            (
                ("trace", b"t-1"),
                ("empty", b""),
                (CONFIG_HEADER, HASH.encode()),
                (ENTITIES_HEADER, b'{"EMAIL_ADDRESS": 2, "PHONE_NUMBER": 1}'),
            ),
        ),
    )


def test_ok_record_without_key_or_findings() -> None:
    shaped = _shape(_config(), Scrubbed(RecordResult("plain", Outcome.OK), None, ()))
    [output] = shaped.outputs
    assert output.key is None
    assert output.value == b"plain"
    assert output.headers == ((CONFIG_HEADER, HASH.encode()), (ENTITIES_HEADER, b"{}"))
    assert shaped.entities == Counter()


def test_ok_output_is_never_affected_by_quarantine_settings() -> None:
    scrubbed = Scrubbed(RecordResult("x", Outcome.OK), b"k", ())
    outputs = {
        _shape(_config(include_payload=p, placeholder_to_output=o), scrubbed).outputs
        for p in (True, False)
        for o in (True, False)
    }
    assert len(outputs) == 1


# ---------------------------------------------------------------- quarantined records


@pytest.mark.parametrize(
    ("settings", "output", "expected"),
    [
        pytest.param(
            {}, PLACEHOLDER,
            [("q", None, _quarantine_meta("malformed_json")),
             ("out", PLACEHOLDER.encode(), _quarantine_meta("malformed_json")[:2])],
            id="defaults: metadata to quarantine, placeholder to output",
        ),
        pytest.param(
            {"include_payload": True}, PLACEHOLDER,
            [("q", b"{not json", _quarantine_meta("malformed_json")),
             ("out", PLACEHOLDER.encode(), _quarantine_meta("malformed_json")[:2])],
            id="payload allowed",
        ),
        pytest.param(
            {"placeholder_to_output": False}, PLACEHOLDER,
            [("q", None, _quarantine_meta("malformed_json"))],
            id="placeholder off",
        ),
        pytest.param(
            {"include_payload": True, "placeholder_to_output": False}, PLACEHOLDER,
            [("q", b"{not json", _quarantine_meta("malformed_json"))],
            id="payload, no placeholder",
        ),
        pytest.param(
            {}, "",
            [("q", None, _quarantine_meta("malformed_json"))],
            id="placeholder on but the engine gave none",
        ),
    ],
)  # fmt: skip
def test_quarantined_record(
    settings: dict[str, Any],
    output: str,
    expected: list[tuple[str, bytes | None, tuple[tuple[str, bytes], ...]]],
) -> None:
    record = _record(value=b"{not json", key=b"secret-key", headers=(("h", b"source"),))
    result = RecordResult(output, Outcome.QUARANTINED, Reason.MALFORMED_JSON)
    shaped = _shape(_config(**settings), Scrubbed(result, b"<KEY>", (("h", b"x"),)), record)
    assert shaped.reason is Reason.MALFORMED_JSON
    assert shaped.entities == Counter()
    # Both copies keep the scrubbed key (the placeholder lands on its key's partition, never
    # the raw key); no source header ever leaves with a quarantined record.
    assert shaped.outputs == tuple(Output(t, b"<KEY>", v, h) for t, v, h in expected)


def test_quarantined_without_a_reason_counts_as_a_detection_error() -> None:
    shaped = _shape(_config(), Scrubbed(RecordResult("", Outcome.QUARANTINED), None, ()))
    assert shaped.reason is Reason.DETECTION_ERROR
    assert shaped.outputs == (Output("q", None, None, _quarantine_meta("detection_error")),)


@pytest.mark.parametrize(
    ("key", "headers", "reason", "kept_key"),
    [
        pytest.param(Reason.TOO_LARGE, (("h", b"ok"),), Reason.TOO_LARGE, None, id="key"),
        pytest.param(
            b"<KEY>", Reason.DEADLINE_EXCEEDED, Reason.DEADLINE_EXCEEDED, b"<KEY>", id="header"
        ),
        pytest.param(
            Reason.TOO_LARGE, Reason.DEADLINE_EXCEEDED, Reason.TOO_LARGE, None, id="key first"
        ),
    ],
)
def test_a_key_or_header_that_failed_quarantines_the_whole_record(
    key: bytes | Reason,
    headers: tuple[tuple[str, bytes], ...] | Reason,
    reason: Reason,
    kept_key: bytes | None,
) -> None:
    ok_value = RecordResult("fine", Outcome.OK, entity_counts={"EMAIL_ADDRESS": 1},
                            replacements=[Replacement("", 0, 4, "EMAIL_ADDRESS", "replace")])  # fmt: skip
    config = _config(include_payload=True)
    shaped = _shape(config, Scrubbed(ok_value, key, headers))
    assert shaped.reason is reason
    assert shaped.entities == Counter()  # nothing of it went out scrubbed
    # The scrubbed value is not sent as a placeholder: only the quarantine copy, with the raw
    # payload since this config allows it, and the key only if it was scrubbed (a key that
    # failed is dropped: the raw key `user-1` never leaves).
    meta = _quarantine_meta(reason.value)
    assert shaped.outputs == (Output("q", kept_key, _record().value, meta),)


# ---------------------------------------------------------------- scrubbing the parts


class TextEngine:
    """Scrubs by wrapping the text in the format's name; a text holding FAIL or VAULT fails as
    the engine would. Records every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[bytes | str], Format]] = []

    def scrub_batch(
        self,
        records: Sequence[bytes | str],
        fmt: Format = "auto",
        *,
        key_blocks: Sequence[tuple[int, int] | None] | None = None,
    ) -> list[RecordResult]:
        self.calls.append((list(records), fmt))
        out = []
        for raw in records:
            text = raw.decode() if isinstance(raw, bytes) else raw
            if "VAULT" in text:
                out.append(RecordResult("", Outcome.QUARANTINED, Reason.VAULT_UNAVAILABLE))
            elif "FAIL" in text:
                out.append(RecordResult("", Outcome.QUARANTINED, Reason.TOO_LARGE))
            elif "NOREASON" in text:
                out.append(RecordResult("", Outcome.QUARANTINED))
            else:
                out.append(RecordResult(f"{fmt}({text})", Outcome.OK))
        return out


@pytest.mark.parametrize(
    ("scrub", "raw", "expected"),
    [
        (True, b"alice@example.com", b"text(alice@example.com)"),
        (True, None, None),
        (True, b"", b""),
        (True, b"FAIL", Reason.TOO_LARGE),
        (True, b"NOREASON", Reason.DETECTION_ERROR),
        (False, b"alice@example.com", b"alice@example.com"),
        (False, b"FAIL", b"FAIL"),
        (False, None, None),
    ],
)
def test_keys(scrub: bool, raw: bytes | None, expected: bytes | Reason | None) -> None:
    route = _config({"scrub_keys": scrub}).routes[0]
    [parts] = scrub_parts([_record(key=raw)], route, TextEngine().scrub_batch)
    assert parts.key == expected


@pytest.mark.parametrize(
    ("scrub", "raw", "expected"),
    [
        (True, (("a", b"x"), ("b", None), ("c", b"y")),
         (("a", b"text(x)"), ("b", b""), ("c", b"text(y)"))),
        (True, (), ()),
        (True, (("a", b"x"), ("b", b"FAIL"), ("c", b"y")), Reason.TOO_LARGE),
        (True, (("a", b"VAULT"),), Reason.VAULT_UNAVAILABLE),
        (False, (("a", b"x"), ("b", None), ("c", b"FAIL")),
         (("a", b"x"), ("b", b""), ("c", b"FAIL"))),
    ],
)  # fmt: skip
def test_headers(
    scrub: bool,
    raw: tuple[tuple[str, bytes | None], ...],
    expected: tuple[tuple[str, bytes], ...] | Reason,
) -> None:
    route = _config({"scrub_headers": scrub}).routes[0]
    [parts] = scrub_parts([_record(headers=raw)], route, TextEngine().scrub_batch)
    assert parts.headers == expected


def test_scrub_parts_is_three_engine_calls_per_batch_and_keeps_records_apart() -> None:
    engine = TextEngine()
    records = [
        _record(b"v0", b"k0", (("h", b"FAIL"),), offset=0),
        _record(b"v1", None, (("h", b"one"), ("i", b"two")), offset=1),
        _record(None, b"k2", (), offset=2),
    ]
    route = _config({"format": "json"}).routes[0]
    parts = scrub_parts(records, route, engine.scrub_batch)
    assert engine.calls == [
        ([b"v0", b"v1", b""], "json"),
        ([b"k0", b"k2"], "text"),
        ([b"FAIL", b"one", b"two"], "text"),
    ]
    assert [p.result.output for p in parts] == ["json(v0)", "json(v1)", "json()"]
    assert [p.key for p in parts] == [b"text(k0)", None, b"text(k2)"]
    assert [p.headers for p in parts] == [
        Reason.TOO_LARGE,
        (("h", b"text(one)"), ("i", b"text(two)")),
        (),
    ]


def test_nothing_to_scrub_on_the_side_makes_no_extra_engine_call() -> None:
    engine = TextEngine()
    route = _config({"scrub_keys": True, "scrub_headers": False}).routes[0]
    scrub_parts([_record(key=None, headers=(("h", b"x"),))], route, engine.scrub_batch)
    assert engine.calls == [([b'{"mail": "a@b.example"}'], "auto")]


@pytest.mark.parametrize(
    ("value", "key", "headers", "retry"),
    [
        (b"VAULT", b"k", (), True),
        (b"v", b"VAULT", (), True),
        (b"v", b"k", (("h", b"VAULT"),), True),
        (b"FAIL", b"FAIL", (("h", b"FAIL"),), False),
        (b"v", b"k", (("h", b"x"),), False),
    ],
)
def test_a_vault_outage_anywhere_in_a_record_means_retry(
    value: bytes, key: bytes, headers: tuple[tuple[str, bytes], ...], retry: bool
) -> None:
    route = _config().routes[0]
    batch = [_record(), _record(value, key, headers, offset=43)]
    assert needs_retry(scrub_parts(batch, route, TextEngine().scrub_batch)) is retry


# ---------------------------------------------------------------- metrics and deliveries


def test_entities_are_counted_under_the_operator_that_applied_them() -> None:
    result = RecordResult(
        "scrubbed",
        Outcome.OK,
        entity_counts={"EMAIL_ADDRESS": 3, "FIELD": 1},
        replacements=[
            Replacement("user.ssn", 0, 11, "FIELD", "hash"),  # a field rule, not the default
            Replacement("msg", 0, 5, "EMAIL_ADDRESS", "replace"),
            Replacement("msg", 9, 15, "EMAIL_ADDRESS", "replace"),
            Replacement("contact", 0, 7, "EMAIL_ADDRESS", "token"),
        ],
    )
    expected = Counter(
        {("FIELD", "hash"): 1, ("EMAIL_ADDRESS", "replace"): 2, ("EMAIL_ADDRESS", "token"): 1}
    )
    assert entity_counts(result) == expected
    shaped = _shape(_config(), Scrubbed(result, None, ()))
    assert shaped.entities == expected
    [output] = shaped.outputs
    assert json.loads(dict(output.headers)[ENTITIES_HEADER]) == {"EMAIL_ADDRESS": 3, "FIELD": 1}


def test_delivered_outcome_counts_output_only() -> None:
    config = _config()
    ok = _shape(config, Scrubbed(RecordResult("x", Outcome.OK), None, ())).outputs
    failed = RecordResult(PLACEHOLDER, Outcome.QUARANTINED, Reason.MALFORMED_JSON)
    copy, placeholder = _shape(config, Scrubbed(failed, None, ())).outputs
    assert [delivered_outcome(o, "q") for o in (*ok, copy, placeholder)] == [
        "ok",
        None,
        "quarantined",
    ]


# ---------------------------------------------------------------- the edge: Message -> KafkaRecord


def test_a_message_becomes_a_record_once_with_header_values_as_bytes() -> None:
    message = Message(
        topic="in", partition=1, offset=9, key=b"k", value=b"v",
        headers=[("a", "text"), ("b", None), ("c", b"\xff"), ("a", "again")],
        timestamp=(1, 1_700_000_000_123),
    )  # fmt: skip
    assert KafkaRecord.of(message) == KafkaRecord(
        "in", 1, 9, b"k", b"v",
        (("a", b"text"), ("b", None), ("c", b"\xff"), ("a", b"again")), 1_700_000_000_123,
    )  # fmt: skip
    bare = KafkaRecord.of(Message(topic="in", partition=0, offset=0, headers={"x": "y"}))
    assert (bare.key, bare.value, bare.headers, bare.timestamp_ms) == (
        None,
        None,
        (("x", b"y"),),
        0,
    )
    assert (bare.where, bare.size) == (("in", 0, 0), 0)


def test_records_of_skips_errors_and_partition_ends() -> None:
    messages = [
        Message(topic="in", partition=0, offset=0, value=b"first"),
        Message(topic="in", partition=0, offset=1, error=KafkaError(KafkaError._PARTITION_EOF)),
        Message(topic="in", partition=0, offset=1, error=KafkaError(KafkaError._TRANSPORT)),
        Message(topic="in", partition=1, offset=5, value=b"second"),
    ]
    assert [r.where for r in records_of(messages)] == [("in", 0, 0), ("in", 1, 5)]


@pytest.mark.parametrize(
    "error",
    [
        KafkaError(KafkaError._FENCED, "static member fenced", fatal=True),
        KafkaError(KafkaError._FATAL),  # how consume() reports it: no fatal flag
    ],
)
def test_records_of_raises_a_fatal_consumer_error(error: KafkaError) -> None:
    messages = [
        Message(topic="in", partition=0, offset=0, value=b"first"),
        Message(topic="in", partition=0, offset=1, error=error),
    ]
    with pytest.raises(ConsumerFailed):
        records_of(messages)
