"""`scrubber run --workers 2` on the real broker with the five configured recognizers of
benchmarks/bench_custom_recognizers.py (`write_config`): each one's values replaced, the new
PROJECT_CODE type tokenized by the policy (one token per value, across both workers), the
near-misses (a failing check digit, no context word, an allow-listed value) kept, and no planted
value in the output, the quarantine, the logs or /metrics, which count every entity type and
the calls of a Python plug-in configured beside them (summed over the workers)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from benchmarks.bench_custom_recognizers import TOKEN_KEY_ENV
from tests.custom_recognizers import (
    FOUND,
    NEAR_MISSES,
    PLUGIN,
    RECORDS,
    assert_tokens_per_value,
    five_recognizers,
    leaked,
    project_tokens,
)
from tests.integration.conftest import (
    REPO_ROOT,
    Headers,
    Kafka,
    ScrubberProcess,
    metric_value,
    pipeline_config,
)
from tests.keys import key

pytestmark = pytest.mark.integration


def test_run_uses_the_five_recognizers_and_nothing_planted_leaks(
    kafka: Kafka, scrubbers: Callable[..., ScrubberProcess], tmp_path: Path
) -> None:
    source = kafka.topic("custom-in", partitions=2)
    output = kafka.topic("custom-out", partitions=2)
    quarantine = kafka.topic("custom-q")
    keyed: list[tuple[bytes | None, bytes, Headers]] = [
        (f"record-{i}".encode(), text.encode(), []) for i, (text, _) in enumerate(RECORDS)
    ]
    config = pipeline_config(
        kafka.bootstrap, f"it-group-{source}", source, output, quarantine,
        extra=five_recognizers(tmp_path, plugin=True),  # beside the config `scrubbers` writes
    )  # fmt: skip
    # PYTHONPATH: the plug-in's module is in tests/, and the `scrubber` script does not add
    # the working directory to sys.path.
    env = {TOKEN_KEY_ENV: key("custom recognizers run"), "PYTHONPATH": str(REPO_ROOT)}
    scrubber = scrubbers(config, workers=2, env=env)
    scrubber.wait_ready()  # each worker holds one partition: records 4 and 5 meet different ones
    kafka.produce(source, keyed, spread=2)
    kafka.wait_committed(config["kafka"]["group_id"], source, alive=scrubber.assert_alive)
    deadline = time.monotonic() + 30
    while scrubber.metric("scrubber_workers", state="reporting") < 2:
        assert time.monotonic() < deadline, "a worker does not report its metrics"
        time.sleep(0.2)
    metrics = scrubber.metrics_text()
    assert scrubber.terminate() == 0
    out = {m.key(): (m.value() or b"").decode() for m in kafka.read_all(output)}
    quarantined = kafka.read_all(quarantine)

    outputs = [out[f"record-{i}".encode()] for i in range(len(RECORDS))]
    assert len(out) == len(RECORDS)
    assert_tokens_per_value(project_tokens(outputs))
    assert all(any(near in o for o in outputs) for near in NEAR_MISSES)
    assert quarantined == []
    for entity, count in FOUND.items():
        found = metric_value(metrics, "scrubber_entities_total", route="it", entity_type=entity)
        assert found == count, entity
    assert metric_value(metrics, "scrubber_entities_total", entity_type="PROJECT_CODE",
                        operator="token") == 3  # fmt: skip
    # The plug-in's calls, summed over the workers by the parent.
    plugin = {"recognizer": PLUGIN["name"]}
    assert metric_value(metrics, "scrubber_recognizer_plugin_calls_total", **plugin) > 0
    assert metric_value(metrics, "scrubber_recognizer_plugin_failures_total", **plugin) == 0
    assert leaked(*outputs, scrubber.logs(), metrics) == []
