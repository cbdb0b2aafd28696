"""`scrubber run`: private keys logged one line per record, over two partitions and many small
batches, leave no body line in the output, the quarantine, the logs or the metrics."""

from __future__ import annotations

import base64
import random
from collections.abc import Callable

import pytest

from tests.integration.conftest import Kafka, ScrubberProcess, pipeline_config

pytestmark = pytest.mark.integration


def _logged_key(
    rng: random.Random, kind: str, width: int, prefix: str
) -> tuple[list[str], list[str]]:
    body = base64.b64encode(rng.randbytes(rng.randrange(300, 1700))).decode()
    lines = [body[i : i + width] for i in range(0, len(body), width)]
    block = [f"-----BEGIN {kind}-----", *lines, f"-----END {kind}-----"]
    return [prefix + line for line in block], lines


def test_keys_logged_line_by_line_leave_no_body_line(
    kafka: Kafka, scrubbers: Callable[..., ScrubberProcess]
) -> None:
    rng = random.Random(5)
    source = kafka.topic("keys-in", partitions=2)
    output = kafka.topic("keys-out", partitions=2)
    quarantine = kafka.topic("keys-q")
    bodies: list[str] = []
    expected_untouched: list[str] = []
    for partition, (kind, width, prefix) in enumerate([
        ("RSA PRIVATE KEY", 64, "2024-05-01 12:00:00,123 ERROR [main] "),
        ("OPENSSH PRIVATE KEY", 70, "Dec  1 10:00:01 build-7 ci[42]: "),
    ]):  # fmt: skip
        before = [f"2024-05-01 12:00:00 INFO step {i} of partition {partition}" for i in range(5)]
        lines, body = _logged_key(rng, kind, width, prefix)
        after = [f"2024-05-01 12:00:02 INFO done request_id=Q2hhbmdlTWU{i}" for i in range(5)]
        kafka.produce(source, [v.encode() for v in before + lines + after], partition=partition)
        bodies += body
        expected_untouched += before + after
    config = pipeline_config(
        kafka.bootstrap, f"it-group-{source}", source, output, quarantine,
        route_format="text", pipeline={"batch_max_records": 7},
    )  # fmt: skip
    scrubber = scrubbers(config)
    scrubber.wait_ready()
    kafka.wait_committed(config["kafka"]["group_id"], source, alive=scrubber.assert_alive)
    metrics = scrubber.metrics_text()
    assert scrubber.terminate() == 0
    out = [m.value().decode() for m in kafka.read_all(output)]
    everywhere = "\n".join([*out, *(m.value().decode("utf-8", "replace") for m in kafka.read_all(quarantine)),
                            scrubber.logs(), metrics])  # fmt: skip
    assert [b for b in bodies if b in everywhere] == []
    assert set(expected_untouched) <= set(out)  # outside the blocks: as they were
