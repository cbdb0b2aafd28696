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
    # One worker: its own process metrics, unlabelled; the build info with the config hash.
    for name in ("process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds"):
        assert metric_value(metrics, name) > 0, name
    assert 'worker="' not in metrics
    assert metric_value(metrics, "scrubber_build_info", config_hash=parse_config(config).digest())
    _assert_no_leaks(
        [c for m in out + quarantined for c in message_canaries(m)],
        canaries_in(scrubber.logs()),
        canaries_in(metrics),
    )


# ---------------------------------------------------------------- Kafka fidelity


def java_partition(key: bytes, partitions: int) -> int:
    """The partition Kafka's Java producer picks for a key: murmur2 (Utils.murmur2), positive."""
    m, length = 0x5BD1E995, len(key)
    h = (0x9747B28C ^ length) & 0xFFFFFFFF
    for i in range(0, length - length % 4, 4):
        k = (int.from_bytes(key[i : i + 4], "little") * m) & 0xFFFFFFFF
        k = ((k ^ (k >> 24)) * m) & 0xFFFFFFFF
        h = ((h * m) & 0xFFFFFFFF) ^ k
    tail, rest = length - length % 4, length % 4
    if rest == 3:
        h ^= key[tail + 2] << 16
    if rest >= 2:
        h ^= key[tail + 1] << 8
    if rest >= 1:
        h = ((h ^ key[tail]) * m) & 0xFFFFFFFF
    h = ((h ^ (h >> 13)) * m) & 0xFFFFFFFF
    h ^= h >> 15
    return (h & 0x7FFFFFFF) % partitions


def test_java_partitioning_input_timestamps_and_keys_on_quarantined_records(
    kafka: Kafka, scrubbers: Start
) -> None:
    """Keyed records land where the Java clients would put them, every output keeps its input's
    timestamp, and a quarantined record's placeholder and quarantine copy keep its key
    (scrubbed: a canary in the key never comes out)."""
    source = kafka.topic("fidelity-in")
    output = kafka.topic("fidelity-out", partitions=4)
    quarantine = kafka.topic("fidelity-q")
    keys = [f"order-{n}".encode() for n in range(1, 14)]
    planted = f"mail {canary_value(7_000_001)}".encode()  # a key that holds PII
    sent: dict[int, tuple[bytes, int]] = {}  # seq -> (key, timestamp)
    producer = kafka.producer()
    for seq in range(260):
        key = planted if seq == 259 else keys[seq % len(keys)]
        value = f'{{"seq": {seq}, "msg": "order shipped"}}'.encode()
        if seq % 50 == 7:  # invalid UTF-8: quarantined, placeholder under the same key
            value = b'{"seq": %d, "msg": "caf\xe9"}' % seq
        stamp = 1_600_000_000_000 + seq * 1000
        sent[seq] = (key, stamp)
        producer.produce(source, value=value, key=key, timestamp=stamp)
    assert producer.flush(30) == 0

    config = _config(kafka, source, output, quarantine)
    scrubber = scrubbers(config)
    scrubber.wait_ready()
    kafka.wait_committed(config["kafka"]["group_id"], source, alive=scrubber.assert_alive)
    assert scrubber.terminate() == 0
    out, copies = kafka.read_all(output), kafka.read_all(quarantine)

    poison_stamps = {stamp for seq, (_, stamp) in sent.items() if seq % 50 == 7}
    placeholders = 0
    for message in out:
        if header(message, REASON_HEADER) is not None:
            placeholders += 1
            assert message.key() in keys  # the key kept
            assert message.timestamp()[1] in poison_stamps
        else:
            seq = seq_of(message.value())
            assert seq is not None
            key, stamp = sent[seq]
            assert message.timestamp() == (1, stamp)  # CreateTime, the input's
            if key in keys:
                assert message.key() == key
        key = message.key() or b""
        assert message.partition() == java_partition(key, 4), (key, message.partition())
    assert placeholders == len(copies) == 6
    for message in copies:
        offset = int((header(message, SOURCE_HEADER) or b"").decode().rsplit("/", 1)[1])
        assert (message.key(), message.timestamp()) == (sent[offset][0], (1, sent[offset][1]))
    scrubbed_key = next(m.key() for m in out if seq_of(m.value()) == 259)
    assert scrubbed_key and canaries_in(scrubbed_key) == []
    _assert_no_leaks([c for m in out + copies for c in message_canaries(m)])


# ---------------------------------------------------------------- one endpoint for all workers


def test_two_workers_serve_one_endpoint_log_at_the_level_given_and_an_idle_one_is_not_ready(
    kafka: Kafka, scrubbers: Start
) -> None:
    """`--workers 2` on a one-partition topic: one worker holds the partition, the other none.
    The parent's /metrics sums both; /readyz says not ready (a worker without partitions),
    /healthz says alive; `--log-level warning` reaches the workers (no info line at all)."""
    source = kafka.topic("workers-in")
    output = kafka.topic("workers-out")
    quarantine = kafka.topic("workers-q")
    kafka.produce(source, [t.encode() for t in mixed_corpus(500, seed=909)])
    config = _config(kafka, source, output, quarantine)
    scrubber = scrubbers(config, workers=2, log_level="warning")
    group = config["kafka"]["group_id"]
    kafka.wait_committed(group, source, alive=scrubber.assert_alive)
    deadline = time.monotonic() + 30
    while scrubber.metric("scrubber_workers", state="reporting") < 2:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    metrics = scrubber.metrics_text()
    ready, alive = scrubber.readyz(), scrubber.healthz()
    assert scrubber.terminate() == 0

    assert metric_value(metrics, "scrubber_records_in_total", route="it") == 500
    assert metric_value(metrics, "scrubber_assigned_partitions") == 1
    assert metric_value(metrics, "scrubber_workers", state="expected") == 2
    assert metric_value(metrics, "scrubber_build_info") == 1  # not summed
    assert (ready, alive) == (503, 200)
    lines = [line for line in scrubber.logs().splitlines() if line.strip()]
    levels = {json.loads(line)["level"] for line in lines}  # every line JSON, librdkafka's too
    assert "info" not in levels, lines[:5]
