"""`scrubber run` on the real broker, no faults: every record counted by its sequence number,
every planted canary hunted for in the output, the quarantine topic, the logs and /metrics.

These run in the default suite; the fault-injection runs live in test_pipeline_chaos.py.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from benchmarks.corpus import canary_value, mixed_corpus
from scrubber.config import parse_config
from scrubber.pipeline.records import CONFIG_HEADER, ENTITIES_HEADER, REASON_HEADER, SOURCE_HEADER
from tests.integration.conftest import (
    LARGE_MESSAGE_BYTES,
    Kafka,
    ScrubberProcess,
    canaries_in,
    header,
    message_canaries,
    metric_value,
    pipeline_config,
    seq_of,
    tally,
)

pytestmark = pytest.mark.integration

Start = Callable[..., ScrubberProcess]


def _config(kafka: Kafka, source: str, output: str, quarantine: str, **kw: Any) -> dict[str, Any]:
    group = f"it-group-{source}"
    return pipeline_config(kafka.bootstrap, group, source, output, quarantine, **kw)


def _assert_no_leaks(*found: list[str]) -> None:
    leaks = sorted({c for where in found for c in where})
    assert leaks == [], f"{len(leaks)} canaries leaked, e.g. {leaks[:5]}"


def test_20k_mixed_records_each_out_exactly_once_and_no_canary_anywhere(
    kafka: Kafka, scrubbers: Start
) -> None:
    count = 20_000
    source = kafka.topic("mixed-in", partitions=3)
    output = kafka.topic("mixed-out", partitions=3)
    quarantine = kafka.topic("mixed-q")
    records: list[tuple[bytes | None, bytes, list[tuple[str, bytes]]]] = []
    for seq, text in enumerate(mixed_corpus(count, seed=101)):
        # Keys and headers carry canaries too: both are scrubbed by policy.
        key = f"reply {canary_value(seq)}".encode() if seq % 7 == 0 else None
        headers = [("reply-to", canary_value(seq).encode())] if seq % 5 == 0 else []
        records.append((key, text.encode(), headers))
    kafka.produce(source, records)

    config = _config(kafka, source, output, quarantine)
    scrubber = scrubbers(config)
    ready = scrubber.wait_ready()
    took = kafka.wait_committed(config["kafka"]["group_id"], source, alive=scrubber.assert_alive)
    metrics = scrubber.metrics_text()
    assert scrubber.terminate() == 0

    out = kafka.read_all(output)
    quarantined = kafka.read_all(quarantine)
    seen = tally(out)
    print(f"\n20k run: ready after {ready:.1f}s, {count} records in {took:.1f}s "
          f"({count / took:.0f} rec/s), {len(out)} out, {len(quarantined)} quarantined")  # fmt: skip
    assert seen.missing(range(count)) == []
    assert seen.duplicates() == {}
    assert seen.without_seq == []  # no placeholders: nothing in this corpus fails closed
    assert len(out) == count
    assert quarantined == []
    digest = parse_config(config).digest()
    assert {header(m, CONFIG_HEADER) for m in out} == {digest.encode()}
    assert metric_value(metrics, "scrubber_build_info", config_hash=digest) == 1
    _assert_no_leaks(seen.leaks, canaries_in(scrubber.logs()), canaries_in(metrics))


# ---------------------------------------------------------------- poison records

FIVE_MB = 5 * 1024 * 1024


def _poison_records() -> list[tuple[str, bytes]]:
    """(expected reason, record): each one carries a canary that must not come out."""
    c = [canary_value(9_000_000 + i).encode() for i in range(5)]
    return [
        # Latin-1 bytes where UTF-8 is expected.
        ("invalid_utf8", b'{"seq": -1, "msg": "caf\xe9 for ' + c[0] + b'"}'),
        # Cut off mid-document, as a truncated write would leave it.
        ("malformed_json", b'{"msg": "contact ' + c[1] + b'", "seq": '),
        # Bigger than limits.max_record_bytes (1 MiB by default).
        ("too_large", b'{"msg": "' + c[2] + b" " + b"x" * FIVE_MB + b'"}'),
        # A lone surrogate escape is valid JSON syntax but no text: the pattern pass (RE2
        # works on UTF-8) raises on it, and the record fails closed.
        ("detection_error", b'{"msg": "write to ' + c[3] + b' \\ud800 please"}'),
        # Nested deeper than limits.max_json_depth.
        ("too_deep", b"[" * 100 + b'"' + c[4] + b'"' + b"]" * 100),
    ]


def test_poison_records_are_quarantined_with_their_reason_and_the_rest_flows(
    kafka: Kafka, scrubbers: Start
) -> None:
    big = {"max.message.bytes": str(LARGE_MESSAGE_BYTES)}
    source = kafka.topic("poison-in", config=big)
    output = kafka.topic("poison-out")
    quarantine = kafka.topic("poison-q")
    good = [t for t in mixed_corpus(1200, seed=202) if t.startswith("{")]
    poisons = _poison_records()
    stride = len(good) // (len(poisons) + 1)
    plan: list[tuple[str | None, bytes]] = []
    for i, text in enumerate(good):
        plan.append((None, text.encode()))
        if i % stride == stride - 1 and i // stride < len(poisons):
            plan.append(poisons[i // stride])
    where = kafka.produce(source, [value for _, value in plan], partition=0)
    expected_reason = {
        offset: reason
        for (reason, _), (_, offset) in zip(plan, where, strict=True)
        if reason is not None
    }
    assert len(expected_reason) == len(poisons)

    config = _config(
        kafka,
        source,
        output,
        quarantine,
        route_format="json",
        # Large fetches for the 5 MB record; the output side only ever sees the placeholder.
        kafka_settings={"message.max.bytes": LARGE_MESSAGE_BYTES},
    )
    scrubber = scrubbers(config)
    scrubber.wait_ready()
    kafka.wait_committed(config["kafka"]["group_id"], source, alive=scrubber.assert_alive)
    metrics = scrubber.metrics_text()
    assert scrubber.terminate() == 0
    out = kafka.read_all(output)
    quarantined = kafka.read_all(quarantine)

    # Quarantine: one record per poison, with its reason and source, and no payload.
    found = {}
    for message in quarantined:
        _, _, offset = (header(message, SOURCE_HEADER) or b"").decode().split("/")
        found[int(offset)] = (header(message, REASON_HEADER) or b"").decode()
        assert message.value() is None  # include_payload is false by default
    assert found == expected_reason
    # Output: every good record once, in input order, a placeholder where each poison was.
    expected_order = [seq_of(value) if reason is None else reason for reason, value in plan]
    actual_order = [
        seq_of(m.value()) if header(m, REASON_HEADER) is None else header(m, REASON_HEADER).decode()
        for m in out
    ]
    assert actual_order == expected_order
    for message in out:
        if header(message, REASON_HEADER) is not None:
            assert json.loads(message.value() or b"")["scrubber_quarantined"] is True
    reasons = Counter(expected_reason.values())
    for reason, n in reasons.items():
        assert metric_value(metrics, "scrubber_records_quarantined_total", reason=reason) == n
    _assert_no_leaks(
        [c for m in out for c in message_canaries(m)],
        [c for m in quarantined for c in message_canaries(m)],
        canaries_in(scrubber.logs()),
        canaries_in(metrics),
    )


# ---------------------------------------------------------------- metrics


def test_metrics_after_a_run_equal_what_was_produced_and_consumed(
    kafka: Kafka, scrubbers: Start
) -> None:
    source = kafka.topic("metrics-in", 2, {"max.message.bytes": str(LARGE_MESSAGE_BYTES)})
    output = kafka.topic("metrics-out", partitions=2)
    quarantine = kafka.topic("metrics-q")
    values = [t.encode() for t in mixed_corpus(3000, seed=303)]
    values[100] = b"broken \xff\xfe utf-8 " + canary_value(8_000_001).encode()
    values[2000] = b'{"msg": "' + canary_value(8_000_002).encode() + b' \\udc00"}'
    values[2500] = b"seq=2500 " + b"y" * (2 << 20)  # 2 MiB: over max_record_bytes
    kafka.produce(source, values, spread=2)

    config = _config(
        kafka, source, output, quarantine, kafka_settings={"message.max.bytes": LARGE_MESSAGE_BYTES}
    )
    scrubber = scrubbers(config)
    scrubber.wait_ready()
    kafka.wait_committed(config["kafka"]["group_id"], source, alive=scrubber.assert_alive)
    time.sleep(1.5)  # one more loop turn: the lag gauge is refreshed with the commits
    metrics = scrubber.metrics_text()
    assert scrubber.terminate() == 0
    out = kafka.read_all(output)
    quarantined = kafka.read_all(quarantine)

    placeholders = [m for m in out if header(m, REASON_HEADER) is not None]
    scrubbed = [m for m in out if header(m, REASON_HEADER) is None]
    by_reason = Counter((header(m, REASON_HEADER) or b"").decode() for m in quarantined)
    assert by_reason == {"invalid_utf8": 1, "detection_error": 1, "too_large": 1}
    entity_total = sum(
        sum(json.loads(header(m, ENTITIES_HEADER) or b"{}").values()) for m in scrubbed
    )

    def value(name: str, **labels: str) -> float:
        return metric_value(metrics, name, route="it", **labels)

    assert value("scrubber_records_in_total") == len(values)
    assert value("scrubber_bytes_in_total") == sum(len(v) for v in values)
    assert value("scrubber_records_out_total", outcome="ok") == len(scrubbed)
    assert value("scrubber_records_out_total", outcome="quarantined") == len(placeholders)
    assert value("scrubber_bytes_out_total") == sum(len(m.value() or b"") for m in out)
    for reason, n in by_reason.items():
        assert value("scrubber_records_quarantined_total", reason=reason) == n
    assert value("scrubber_records_quarantined_total") == len(quarantined)
    assert value("scrubber_entities_total") == entity_total
    assert value("scrubber_delivery_errors_total") == 0
    assert value("scrubber_consumer_lag_records") == 0
    assert metric_value(metrics, "scrubber_end_to_end_seconds_count") == len(out)
    assert len(scrubbed) + len(placeholders) == len(values)
    _assert_no_leaks(
        [c for m in out + quarantined for c in message_canaries(m)],
        canaries_in(scrubber.logs()),
        canaries_in(metrics),
    )
