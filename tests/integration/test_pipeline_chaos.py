"""`scrubber run` under faults: kill -9 and restart, a broker outage, a worker joining and
leaving. Every record is counted by its sequence number; no canary may come out anywhere.

Slow (tens of seconds each): `pytest -m slow tests/integration/test_pipeline_chaos.py`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, TopicPartition

from benchmarks.corpus import mixed_corpus
from tests.integration.conftest import (
    KAFKA_SCRIPT,
    Kafka,
    ScrubberProcess,
    Tally,
    canaries_in,
    free_port,
    pipeline_config,
    tally,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

Start = Callable[..., ScrubberProcess]


def _config(kafka: Kafka, source: str, output: str, quarantine: str, **kw: Any) -> dict[str, Any]:
    return pipeline_config(kafka.bootstrap, f"it-group-{source}", source, output, quarantine, **kw)


def _topics(kafka: Kafka, stem: str, partitions: int) -> tuple[str, str, str]:
    return (
        kafka.topic(f"{stem}-in", partitions),
        kafka.topic(f"{stem}-out", partitions),
        kafka.topic(f"{stem}-q"),
    )


def _produce_corpus(kafka: Kafka, topic: str, count: int, seed: int, partitions: int) -> None:
    kafka.produce(topic, [t.encode() for t in mixed_corpus(count, seed=seed)], spread=partitions)


def _produced_so_far(kafka: Kafka, topic: str) -> int:
    return sum(kafka.high_watermarks(topic).values())


def _wait_for_output(
    kafka: Kafka, topic: str, at_least: int, scrubber: ScrubberProcess, timeout: float = 120
) -> int:
    deadline = time.monotonic() + timeout
    while (seen := _produced_so_far(kafka, topic)) < at_least:
        scrubber.assert_alive()
        assert time.monotonic() < deadline, f"only {seen} of {at_least} records out"
        time.sleep(0.1)
    return seen


def _report(name: str, seen: Tally, count: int) -> None:
    duplicates = seen.duplicates()
    extra = sum(n - 1 for n in duplicates.values())
    print(
        f"\n{name}: {count} in, {sum(seen.seqs.values())} out, "
        f"{len(seen.missing(range(count)))} missing, {len(duplicates)} sequence numbers "
        f"duplicated ({extra} extra records)"
    )
    if duplicates:
        runs = _runs(sorted(duplicates))
        print(f"{name}: duplicated sequence numbers (ranges): {runs[:20]}")


def _runs(numbers: list[int]) -> list[str]:
    """[1, 2, 3, 7] -> ['1-3', '7']: duplicates come in runs (one batch, one partition)."""
    out: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        out.append(f"{start}-{prev}" if prev != start else str(start))
        if n is not None:
            start = prev = n
    return out


def _assert_clean(seen: Tally, count: int, *processes: ScrubberProcess) -> None:
    assert seen.missing(range(count)) == []
    assert seen.without_seq == []
    leaks = set(seen.leaks)
    for process in processes:
        leaks |= set(canaries_in(process.logs()))
    assert sorted(leaks) == []


# ---------------------------------------------------------------- kill -9 and restart


def _kill_at_half_and_restart(
    kafka: Kafka, scrubbers: Start, exactly_once: bool, stem: str
) -> tuple[Tally, Tally, int]:
    count = 12_000
    source, output, quarantine = _topics(kafka, stem, 3)
    _produce_corpus(kafka, source, count, 404, 3)
    config = _config(kafka, source, output, quarantine, pipeline={"exactly_once": exactly_once})
    first = scrubbers(config, name="first")
    first.wait_ready()
    killed_at = _wait_for_output(kafka, output, count // 2, first)
    if exactly_once:
        killed_at, open_records = _wait_for_open_transaction(kafka, output, first)
        print(f"\n{stem}: {open_records} records of an open transaction in the log at the kill")
    first.kill()
    print(f"\n{stem}: kill -9 after {killed_at} of {count} records were written out")
    second = scrubbers(config, name="second")
    second.wait_ready()
    kafka.wait_committed(config["kafka"]["group_id"], source, alive=second.assert_alive)
    assert second.terminate() == 0
    committed_view = tally(kafka.read_all(output, read_committed=True))
    raw_view = tally(kafka.read_all(output, read_committed=False))
    assert kafka.read_all(quarantine) == []
    _assert_clean(committed_view, count, first, second)
    _assert_clean(raw_view, count)
    return committed_view, raw_view, count


def _wait_for_open_transaction(
    kafka: Kafka, topic: str, scrubber: ScrubberProcess, timeout: float = 30
) -> tuple[int, int]:
    """Until the log holds records of a transaction not yet committed (high watermark above
    the last stable offset), so that the kill has something to abort; (written, open)."""
    readers = {
        level: Consumer(
            {"bootstrap.servers": kafka.bootstrap, "group.id": "it-lso", "isolation.level": level}
        )
        for level in ("read_uncommitted", "read_committed")
    }
    partitions = [TopicPartition(topic, p) for p in kafka.high_watermarks(topic)]
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            scrubber.assert_alive()
            ends = {
                level: sum(reader.get_watermark_offsets(tp, timeout=5)[1] for tp in partitions)
                for level, reader in readers.items()
            }
            if ends["read_uncommitted"] > ends["read_committed"]:
                return ends["read_uncommitted"], ends["read_uncommitted"] - ends["read_committed"]
        pytest.fail("never saw an open transaction in the output log")
    finally:
        for reader in readers.values():
            reader.close()


def test_kill_9_at_half_and_restart_loses_nothing(kafka: Kafka, scrubbers: Start) -> None:
    committed, _, count = _kill_at_half_and_restart(kafka, scrubbers, False, "kill9")
    _report("at-least-once, kill -9", committed, count)


def test_kill_9_with_exactly_once_gives_no_duplicates_under_read_committed(
    kafka: Kafka, scrubbers: Start
) -> None:
    committed, raw, count = _kill_at_half_and_restart(kafka, scrubbers, True, "kill9eos")
    _report("exactly-once, kill -9, read_committed", committed, count)
    _report("exactly-once, kill -9, read_uncommitted (aborted writes visible)", raw, count)
    assert committed.duplicates() == {}


# ---------------------------------------------------------------- broker outage


@pytest.fixture
def private_kafka(tmp_path: Path) -> Iterator[Kafka]:
    """A broker of our own on free ports, so stopping it cannot disturb other suites."""
    port = free_port(2)
    env = {"KAFKA_PORT": str(port), "KAFKA_DATA_DIR": str(tmp_path / "kafka")}

    def script(command: str) -> str:
        done = subprocess.run(
            ["bash", str(KAFKA_SCRIPT), command],
            capture_output=True, text=True, check=False, env={**os.environ, **env},
        )  # fmt: skip
        if done.returncode != 0:
            pytest.fail(f"kafka.sh {command}: {done.stderr[-2000:]}")
        return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""

    helper = Kafka(script("up"), control=script)
    try:
        yield helper
    finally:
        script("down")


@pytest.mark.parametrize("exactly_once", [False, True], ids=["at-least-once", "exactly-once"])
def test_broker_down_for_20s_is_waited_out_and_lag_recovers(
    private_kafka: Kafka, scrubbers: Start, exactly_once: bool
) -> None:
    kafka = private_kafka
    count = 10_000
    source, output, quarantine = _topics(kafka, "outage", 2)
    _produce_corpus(kafka, source, count, 505, 2)
    config = _config(kafka, source, output, quarantine, pipeline={"exactly_once": exactly_once})
    scrubber = scrubbers(config)
    scrubber.wait_ready()
    _wait_for_output(kafka, output, count // 4, scrubber)
    lag_before = scrubber.metric("scrubber_consumer_lag_records")

    assert kafka.control is not None
    kafka.control("pause")
    paused_at = time.monotonic()
    health = set()
    while time.monotonic() - paused_at < 20:
        scrubber.assert_alive()
        health.add(scrubber.healthz())
        time.sleep(1)
    kafka.control("resume")
    outage = time.monotonic() - paused_at
    scrubber.assert_alive()

    lags: list[float] = []
    started = time.monotonic()
    group = config["kafka"]["group_id"]
    while True:
        scrubber.assert_alive()
        lags.append(scrubber.metric("scrubber_consumer_lag_records"))
        committed = kafka.committed(group, source, range(2))
        if sum(committed.values()) >= count and lags[-1] == 0:
            break
        if time.monotonic() - started > 180:
            os.kill(scrubber.process.pid, signal.SIGUSR1)  # the worker prints its stacks
            time.sleep(1)
            pytest.fail(f"lag stuck: {lags[-10:]}, {committed}\n{scrubber.logs()[-6000:]}")
        time.sleep(0.5)
    recovered = time.monotonic() - started
    assert scrubber.terminate() == 0
    seen = tally(kafka.read_all(output, read_committed=exactly_once))
    _report(f"broker outage, exactly_once={exactly_once}", seen, count)
    if exactly_once:
        assert seen.duplicates() == {}
    print(
        f"outage: broker down {outage:.1f}s (pause+20s+resume); lag {lag_before:.0f} before, "
        f"max {max(lags):.0f} after resume, 0 after {recovered:.1f}s; /healthz codes {health}"
    )
    _assert_clean(seen, count, scrubber)
    assert health == {200}
    assert max(lags) > 0 and lags[-1] == 0


# ---------------------------------------------------------------- a worker joins and leaves


def _produce_steadily(
    kafka: Kafka, topic: str, values: list[bytes], partitions: int, per_second: float
) -> threading.Thread:
    """Produce in chunks at about `per_second`, so that every partition keeps getting work."""
    chunk = 250

    def run() -> None:
        started = time.monotonic()
        for first in range(0, len(values), chunk):
            time.sleep(max(0.0, started + first / per_second - time.monotonic()))
            kafka.produce(topic, values[first : first + chunk], spread=partitions)

    thread = threading.Thread(target=run, name="steady-producer")
    thread.start()
    return thread


def test_a_second_worker_joins_and_leaves_mid_run_without_loss(
    kafka: Kafka, scrubbers: Start
) -> None:
    count = 16_000
    source, output, quarantine = _topics(kafka, "join", 4)
    config = _config(kafka, source, output, quarantine)
    first = scrubbers(config, name="first")
    first.wait_ready()
    values = [t.encode() for t in mixed_corpus(count, seed=606)]
    producer = _produce_steadily(kafka, source, values, 4, per_second=1000)
    joined_at = _wait_for_output(kafka, output, count // 5, first)
    second = scrubbers(config, name="second")
    second.wait_ready()
    deadline = time.monotonic() + 60
    while (second_share := second.metric("scrubber_records_in_total")) < count // 10:
        first.assert_alive()
        assert time.monotonic() < deadline, f"the second worker took only {second_share} records"
        time.sleep(0.1)
    left_at = _produced_so_far(kafka, output)
    assert second.terminate() == 0
    producer.join(120)
    kafka.wait_committed(config["kafka"]["group_id"], source, alive=first.assert_alive)
    rebalances = first.metrics_text()
    assert first.terminate() == 0
    seen = tally(kafka.read_all(output))
    _report("join and leave", seen, count)
    print(
        f"join and leave: second worker joined at {joined_at}, left at {left_at} records out, "
        f"scrubbed {second_share:.0f} records; first worker's rebalances: "
        + ", ".join(
            line for line in rebalances.splitlines() if line.startswith("scrubber_rebalances_total")
        )
    )
    _assert_clean(seen, count, first, second)
