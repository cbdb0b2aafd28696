"""Separate `scrubber run` processes (replicas, pods) in one group with `exactly_once`.

Each process's transactional ids and group.instance.ids hold its instance id: two live replicas
must not share them (the broker would fence one producer or consumer with the other), and a
replica that does share one is told so in its log and stops without losing a record.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from benchmarks.corpus import mixed_corpus
from tests.integration.conftest import Kafka, ScrubberProcess, pipeline_config, tally

pytestmark = pytest.mark.integration

Start = Callable[..., ScrubberProcess]
COUNT = 4_000
PARTITIONS = 4


def _setup(kafka: Kafka, stem: str) -> tuple[dict[str, Any], str, str]:
    source = kafka.topic(f"{stem}-in", partitions=PARTITIONS)
    output = kafka.topic(f"{stem}-out", partitions=PARTITIONS)
    quarantine = kafka.topic(f"{stem}-q")
    config = pipeline_config(
        kafka.bootstrap,
        f"it-group-{source}",
        source,
        output,
        quarantine,
        pipeline={"exactly_once": True, "batch_max_records": 200},
    )
    return config, source, output


def _produce(kafka: Kafka, source: str) -> None:
    kafka.produce(source, [t.encode() for t in mixed_corpus(COUNT, seed=505)], spread=PARTITIONS)


def _assert_each_once(kafka: Kafka, output: str) -> None:
    seen = tally(kafka.read_all(output, read_committed=True))
    assert seen.missing(range(COUNT)) == []
    assert seen.duplicates() == {}
    assert seen.leaks == []


def test_two_replicas_with_their_own_instance_ids_share_the_work_exactly_once(
    kafka: Kafka, scrubbers: Start
) -> None:
    config, source, output = _setup(kafka, "replicas")
    first = scrubbers(config, name="pod-a", env={"SCRUBBER_INSTANCE_ID": "pod-a"})
    second = scrubbers(config, name="pod-b", env={"SCRUBBER_INSTANCE_ID": "pod-b"})
    first.wait_ready()
    second.wait_ready()
    _produce(kafka, source)

    def both_alive() -> None:
        first.assert_alive()
        second.assert_alive()

    kafka.wait_committed(config["kafka"]["group_id"], source, alive=both_alive)
    assert first.terminate() == 0
    assert second.terminate() == 0
    _assert_each_once(kafka, output)
    for replica in (first, second):
        assert "producer_fatal_error" not in replica.logs()
        assert "worker_started" in replica.logs()


def test_a_replica_sharing_an_instance_id_is_fenced_stops_with_a_reason_and_loses_nothing(
    kafka: Kafka, scrubbers: Start
) -> None:
    config, source, output = _setup(kafka, "fenced")
    same = {"SCRUBBER_INSTANCE_ID": "pod-same"}
    older = scrubbers(config, name="older", env=same)
    older.wait_ready()
    newer = scrubbers(config, name="newer", env=same)  # its init_transactions fences `older`
    newer.wait_ready()
    _produce(kafka, source)

    kafka.wait_committed(config["kafka"]["group_id"], source, alive=newer.assert_alive)
    older_code = older.process.wait(timeout=60)
    assert newer.terminate() == 0
    assert older_code != 0
    # Fenced as a producer (transactional id) or as a consumer (group.instance.id), whichever
    # the older process runs into first; either way it says why.
    assert "producer_fatal_error" in older.logs() or "consumer_fatal_error" in older.logs()
    assert "kafka.instance_id" in older.logs()
    assert "producer_fatal_error" not in newer.logs()
    assert "consumer_fatal_error" not in newer.logs()
    _assert_each_once(kafka, output)
