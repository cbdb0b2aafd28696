"""`scrubber run` under faults: kill -9 and restart, a broker outage (a clean stop, and the
broker JVM killed with SIGKILL), a worker joining and leaving, and how fast a restarted worker
takes its partitions back. Every record is counted by its sequence number; no canary may come
out anywhere; and the books of every surviving process balance (`_assert_books_balance`):

    scrubber_records_in_total = scrubber_records_out_total{outcome="ok"}
                              + scrubber_records_quarantined_total
                              + scrubber_records_reprocessed_total,  records_in_flight = 0

Slow (tens of seconds each): `pytest -m slow tests/integration/test_pipeline_chaos.py`.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
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
    metric_value,
    pipeline_config,
    seq_of,
    tally,
    workers_of,
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


def _assert_books_balance(name: str, process: ScrubberProcess, timeout: float = 10) -> None:
    """in = out{ok} + quarantined + reprocessed once nothing is in flight (the last commit's
    records are finished just after the broker has it: wait a moment for them)."""
    deadline = time.monotonic() + timeout
    while True:
        text = process.metrics_text()
        books = {
            what: metric_value(text, f"scrubber_records_{what}", **labels)
            for what, labels in (
                ("in_total", {}), ("out_total", {"outcome": "ok"}), ("quarantined_total", {}),
                ("reprocessed_total", {}), ("in_flight", {}),
            )
        }  # fmt: skip
        if books["in_flight"] == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    print(
        f"\n{name}: books: in {books['in_total']:.0f} = out(ok) {books['out_total']:.0f} + "
        f"quarantined {books['quarantined_total']:.0f} + reprocessed "
        f"{books['reprocessed_total']:.0f} (in flight {books['in_flight']:.0f})"
    )
    assert books["in_flight"] == 0
    assert books["in_total"] == (
        books["out_total"] + books["quarantined_total"] + books["reprocessed_total"]
    )


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
    # The same instance id, as a restarted pod keeps its name: the second process takes the
    # partitions (static membership) and the transactional ids over at once.
    first = scrubbers(config, name="first", instance=f"{stem}-pod")
    first.wait_ready()
    killed_at = _wait_for_output(kafka, output, count // 2, first)
    if exactly_once:
        killed_at, open_records = _wait_for_open_transaction(kafka, output, first)
        print(f"\n{stem}: {open_records} records of an open transaction in the log at the kill")
    first.kill()
    print(f"\n{stem}: kill -9 after {killed_at} of {count} records were written out")
    second = scrubbers(config, name="second", instance=f"{stem}-pod")
    second.wait_ready()
    kafka.wait_committed(config["kafka"]["group_id"], source, alive=second.assert_alive)
    _assert_books_balance(f"{stem}, the restarted process", second)
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


@pytest.fixture(scope="module")
def _own_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kafka]:
    """A broker of our own on free ports, so stopping or killing it cannot disturb other
    suites (the shared one on 9092 is never touched); started once for this module."""
    port = free_port(2)
    data = tmp_path_factory.mktemp("kafka")
    env = {"KAFKA_PORT": str(port), "KAFKA_DATA_DIR": str(data / "kafka")}

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


@pytest.fixture
def private_kafka(_own_broker: Kafka) -> Iterator[Kafka]:
    """The module's broker, up (a test that failed mid-outage may have left it down)."""
    assert _own_broker.control is not None
    _own_broker.control("up")
    yield _own_broker
    _own_broker.delete_created()
    _own_broker.created.clear()


def _outage(kafka: Kafka, how: str, scrubber: ScrubberProcess) -> tuple[float, set[int], set[int]]:
    """Take the broker away for about 20 s: `pause` (a clean stop) or `kill` (SIGKILL of the
    JVM, then started again on the same data dir, recovering as after a crash). Seconds down,
    and the /healthz and /readyz codes seen meanwhile."""
    assert kafka.control is not None
    kafka.control(how)
    down_at = time.monotonic()
    health: set[int] = set()
    ready: set[int] = set()
    # A killed broker takes longer to come back (log recovery): start it again sooner.
    while time.monotonic() - down_at < (20 if how == "pause" else 8):
        scrubber.assert_alive()
        health.add(scrubber.healthz())
        ready.add(scrubber.readyz())
        time.sleep(1)
    kafka.control("resume" if how == "pause" else "up")
    return time.monotonic() - down_at, health, ready


@pytest.mark.parametrize("how", ["pause", "kill"], ids=["clean-stop", "sigkill"])
@pytest.mark.parametrize("exactly_once", [False, True], ids=["at-least-once", "exactly-once"])
def test_broker_down_for_20s_is_waited_out_and_lag_recovers(
    private_kafka: Kafka, scrubbers: Start, exactly_once: bool, how: str
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
    outage, health, ready = _outage(kafka, how, scrubber)
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
    name = f"broker {how}, exactly_once={exactly_once}"
    _assert_books_balance(name, scrubber)
    ready_after = scrubber.readyz()
    assert scrubber.terminate() == 0
    seen = tally(kafka.read_all(output, read_committed=exactly_once))
    _report(name, seen, count)
    if exactly_once:
        assert seen.duplicates() == {}
    logs = scrubber.logs()
    print(
        f"{name}: broker down {outage:.1f}s; lag {lag_before:.0f} before, "
        f"max {max(lags):.0f} after, 0 after {recovered:.1f}s; /healthz codes {health}, "
        f"/readyz codes {ready} during, {ready_after} after; producers replaced "
        f"{logs.count('producer_replaced')}"
    )
    _assert_clean(seen, count, scrubber)
    assert "producer_fatal_error" not in logs and "kafka_fatal_error" not in logs
    assert health == {200}
    assert 503 in ready and ready_after == 200  # not ready while the broker is away
    assert max(lags) > 0 and lags[-1] == 0


# ---------------------------------------------------------------- a worker joins and leaves


STEADY_CHUNK = 250  # records per produce call; each chunk is dealt over the partitions from 0


def _produce_steadily(
    kafka: Kafka, topic: str, values: list[bytes], partitions: int, per_second: float
) -> threading.Thread:
    """Produce in chunks at about `per_second`, so that every partition keeps getting work."""
    chunk = STEADY_CHUNK

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
    _assert_books_balance("join and leave, the first worker", first)
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


# ---------------------------------------------------------------- a restarted worker resumes


def _appended_by_partition(kafka: Kafka, output: str, partitions: int) -> dict[int, list[float]]:
    """Broker append times (s) of the output records, by the input partition they came from
    (`_produce_steadily` dealt each chunk over the partitions from partition 0)."""
    by_partition: dict[int, list[float]] = {p: [] for p in range(partitions)}
    for message in kafka.read_all(output):
        seq = seq_of(message.value())
        if seq is not None:
            by_partition[seq % STEADY_CHUNK % partitions].append(message.timestamp()[1] / 1000)
    return {p: sorted(times) for p, times in by_partition.items()}


SESSION_MS = 30_000


def _logged_at(process: ScrubberProcess, event: str) -> float:
    """Epoch seconds of the first log line of `event` (JSON logs, ISO timestamps in UTC)."""
    for line in process.logs().splitlines():
        if f'"event": "{event}"' in line:
            return datetime.fromisoformat(json.loads(line)["timestamp"]).timestamp()
    pytest.fail(f"no {event} in the log:\n{process.logs()[-2000:]}")


def test_a_restarted_worker_takes_its_partitions_back_at_once(
    kafka: Kafka, scrubbers: Start
) -> None:
    """Two pods, four partitions, records arriving steadily; pod-b is killed with -9 and started
    again under its name. With static membership (group.instance.id = instance id + worker) it
    gets its partitions back on joining, instead of waiting out the dead member's session
    timeout (10 s) and a rebalance."""
    count, partitions = 12_000, 4
    source, output, _ = _topics(kafka, "resume", partitions)
    admin_config = {"message.timestamp.type": "LogAppendTime"}
    output = kafka.topic("resume-out-appended", partitions, admin_config)
    quarantine = kafka.topic("resume-q")
    # A session timeout far longer than any start-up here: without static membership pod-b's
    # partitions would wait 30 s for the dead member to expire; with it, they come back when
    # the new consumer joins, however long the engine took to load.
    config = _config(
        kafka, source, output, quarantine, kafka_settings={"session.timeout.ms": SESSION_MS}
    )
    pod_a = scrubbers(config, name="pod-a", instance="pod-a")
    pod_b = scrubbers(config, name="pod-b", instance="pod-b")
    pod_a.wait_ready()
    pod_b.wait_ready()
    values = [t.encode() for t in mixed_corpus(count, seed=707)]
    producer = _produce_steadily(kafka, source, values, partitions, per_second=400)
    _wait_for_output(kafka, output, count // 4, pod_a)
    pod_b.kill()
    killed_at = time.time()
    restarted = scrubbers(config, name="pod-b-again", instance="pod-b")
    restarted_at = time.time()
    restarted.wait_ready()
    ready_at = time.time()
    producer.join(120)

    def both_alive() -> None:
        pod_a.assert_alive()
        restarted.assert_alive()

    kafka.wait_committed(config["kafka"]["group_id"], source, alive=both_alive)
    _assert_books_balance("resume, pod-a", pod_a)
    _assert_books_balance("resume, pod-b restarted", restarted)
    assert pod_a.terminate() == 0
    assert restarted.terminate() == 0
    seen = tally(kafka.read_all(output))
    _report("restart of one of two workers", seen, count)
    _assert_clean(seen, count, pod_a, pod_b, restarted)

    # Output of a partition of pod-b stops at the kill and resumes after the restart.
    joined_at = _logged_at(restarted, "worker_started")  # engine loaded, consumer subscribed
    resumed: dict[int, float] = {}  # pod-b's partitions: the end of their longest pause
    for partition, times in _appended_by_partition(kafka, output, partitions).items():
        around = [t for t in times if t > killed_at - 1.0]
        gaps = [(b - a, b) for a, b in itertools.pairwise(around)]
        if gaps:
            pause, end = max(gaps)
            print(f"\nrestart: input partition {partition}: longest output pause {pause:.1f}s, "
                  f"ending {end - killed_at:.1f}s after the kill")  # fmt: skip
            if pause > 2.0:  # pod-a's partitions never pause that long
                resumed[partition] = end
    assert resumed, "no partition paused at the kill: pod-b held none?"
    first_out, last_out = min(resumed.values()), max(resumed.values())
    print(
        f"\nrestart: pod-b's input partitions {sorted(resumed)}; the restarted process started "
        f"{restarted_at - killed_at:.1f}s after the kill and subscribed {joined_at - killed_at:.1f}s "
        f"after it (start-up, engine load); partitions assigned (ready) "
        f"{ready_at - joined_at:.2f}s after subscribing; output of its partitions resumed "
        f"{first_out - joined_at:.2f}s after subscribing ({first_out - killed_at:.1f}s after the "
        f"kill), the last of them {last_out - joined_at:.2f}s after (working off the backlog); "
        f"session timeout {SESSION_MS / 1000:.0f}s"
    )
    # The partitions come back as soon as the new consumer joins, not after the dead member's
    # session timeout and a rebalance; its first batch comes out right after.
    assert ready_at - joined_at <= 3.0
    assert first_out - joined_at <= 3.0
    assert last_out - killed_at < SESSION_MS / 1000


@pytest.mark.parametrize("exactly_once", [False, True], ids=["at-least-once", "exactly-once"])
def test_kill_9_of_one_of_two_workers_and_its_partitions_resume_within_3s(
    kafka: Kafka, scrubbers: Start, exactly_once: bool
) -> None:
    """`run --workers 2`, records arriving steadily on four partitions; one worker is killed
    with -9. Its supervisor forks it again at once from the loaded engine (no model to load),
    under its index (same group.instance.id, same transactional id): the broker gives it its
    partitions back when it joins, and their output resumes within 3 s of the kill. The process
    never exits, nothing is lost, the summed counters never go backwards."""
    count, partitions = 8_000, 4
    stem = "refork-eos" if exactly_once else "refork"
    source, _, _ = _topics(kafka, stem, partitions)
    output = kafka.topic(
        f"{stem}-out-appended", partitions, {"message.timestamp.type": "LogAppendTime"}
    )
    quarantine = kafka.topic(f"{stem}-q")
    config = _config(
        kafka, source, output, quarantine, pipeline={"exactly_once": exactly_once},
        kafka_settings={"session.timeout.ms": SESSION_MS},
    )  # fmt: skip
    pod = scrubbers(config, name=stem, instance=f"{stem}-pod", workers=2)
    pod.wait_ready()
    values = [t.encode() for t in mixed_corpus(count, seed=808)]
    producer = _produce_steadily(kafka, source, values, partitions, per_second=400)
    _wait_for_output(kafka, output, count // 4, pod)
    before = pod.metric("scrubber_records_in_total")
    workers = workers_of(pod)
    assert len(workers) == 2, workers
    os.kill(workers[1], signal.SIGKILL)
    killed_at = time.time()
    producer.join(120)
    kafka.wait_committed(config["kafka"]["group_id"], source, alive=pod.assert_alive)
    after = pod.metric("scrubber_records_in_total")
    assert after >= before
    assert pod.readyz() == 200
    assert "worker_killed_restarting" in pod.logs()
    new_workers = workers_of(pod)
    assert len(new_workers) == 2 and workers[1] not in new_workers
    assert pod.terminate() == 0
    seen = tally(kafka.read_all(output, read_committed=exactly_once))
    _report(f"{stem}: kill -9 of one of two workers", seen, count)
    _assert_clean(seen, count, pod)
    if exactly_once:
        assert seen.duplicates() == {}
    # Every partition's output after the kill: its longest pause (the killed worker's
    # partitions pause from the kill until the new worker's first batch is delivered).
    pauses = _longest_pauses(kafka, output, partitions, killed_at)
    print(f"\n{stem}: longest output pause per input partition after the kill: "
          + ", ".join(f"p{p} {gap:.2f}s (ending {end - killed_at:.2f}s after it)"
                      for p, (gap, end) in sorted(pauses.items())))  # fmt: skip
    started = [json.loads(line)["timestamp"] for line in pod.logs().splitlines()
               if '"event": "worker_started"' in line]  # fmt: skip
    restarted_at = datetime.fromisoformat(max(started)).timestamp()
    print(f"{stem}: the new worker subscribed {restarted_at - killed_at:.2f}s after the kill")
    assert len(started) == 3
    assert len(pauses) == partitions
    assert max(gap for gap, _ in pauses.values()) <= 3.0


def _longest_pauses(
    kafka: Kafka, output: str, partitions: int, killed_at: float
) -> dict[int, tuple[float, float]]:
    """Per input partition, the longest gap between output records appended from just before
    `killed_at` on, and when it ended."""
    pauses: dict[int, tuple[float, float]] = {}
    for partition, times in _appended_by_partition(kafka, output, partitions).items():
        around = [t for t in times if t > killed_at - 0.5]
        gaps = [(b - a, b) for a, b in itertools.pairwise(around)]
        if gaps:
            pauses[partition] = max(gaps)
    return pauses
