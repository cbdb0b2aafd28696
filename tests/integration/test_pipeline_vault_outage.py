"""A vault outage holds the pipeline back instead of quarantining every record.

The engine here is a stand-in whose vault is "down" for its first calls; the broker, the
consumer group, the producer and the commits are real.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence

import pytest

from scrubber import __version__
from scrubber.config import parse_config
from scrubber.models import Format, Outcome, Reason, RecordResult
from scrubber.pipeline.loop import Pipeline
from scrubber.pipeline.metrics import PipelineMetrics
from tests.integration.conftest import Kafka, pipeline_config, seq_of

pytestmark = pytest.mark.integration


class VaultDownAtFirst:
    """Marks records as scrubbed; its first `outages` calls report the vault unreachable."""

    config_hash = "vault-test"

    def __init__(self, outages: int) -> None:
        self.outages = outages
        self.calls = 0

    def scrub_batch(
        self,
        records: Sequence[bytes | str],
        fmt: Format = "auto",
        *,
        key_blocks: Sequence[tuple[int, int] | None] | None = None,
    ) -> list[RecordResult]:
        del fmt
        self.calls += 1
        if self.calls <= self.outages:
            return [
                RecordResult("", Outcome.QUARANTINED, Reason.VAULT_UNAVAILABLE) for _ in records
            ]
        texts = [r.decode() if isinstance(r, bytes) else r for r in records]
        return [RecordResult(f"scrubbed {t}", Outcome.OK) for t in texts]


def test_vault_outage_is_waited_out_without_quarantine(kafka: Kafka) -> None:
    source, output, quarantine = (
        kafka.topic("vault-in"),
        kafka.topic("vault-out"),
        kafka.topic("vault-q"),
    )
    group = f"it-vault-{uuid.uuid4().hex[:8]}"
    kafka.produce(source, [f"seq={n} hello".encode() for n in range(200)])
    config = parse_config(
        pipeline_config(kafka.bootstrap, group, source, output, quarantine,
                        pipeline={"batch_max_records": 50})
    )  # fmt: skip
    engine = VaultDownAtFirst(outages=3)
    metrics = PipelineMetrics(engine.config_hash, __version__)
    pipeline = Pipeline(config, engine, metrics)  # type: ignore[arg-type]
    stop = threading.Event()
    worker = threading.Thread(target=pipeline.run, args=(stop,))
    worker.start()
    try:
        kafka.wait_committed(group, source, timeout=60)
    finally:
        stop.set()
        worker.join(60)
    out = kafka.read_all(output)
    seqs = sorted(seq for m in out if (seq := seq_of(m.value())) is not None)
    assert seqs == list(range(200))  # every record once, none lost while the vault was down
    assert kafka.read_all(quarantine) == []
    assert engine.calls > 3
    retried = metrics.batch_retries.labels(Reason.VAULT_UNAVAILABLE.value)._value.get()
    assert retried == 3
