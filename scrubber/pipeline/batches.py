"""Taking a batch from the consumer: as soon as nothing more is ready, not when a timer says so.

The poll waits (up to `batch_max_wait_ms`) only for the first record; after it, whatever the
consumer already holds is drained without waiting (and, with `batch_linger_ms` above 0, what
arrives within that many milliseconds of the first record); the batch is handed on when a drain
comes back empty after that, or when `batch_max_records` / `batch_max_bytes` is reached. At full
load the consumer always holds more, so batches fill up and throughput stays that of full
batches. (librdkafka's `consume(n, timeout)` alone waits the whole timeout unless n records
arrive: that was the latency.)

Why linger: each engine call has a fixed cost (spaCy's pipe, the per-batch passes; in-process,
a one-record batch cost ~900 us per record, a 500-record one ~410), and with `exactly_once`
each batch is a transaction. The default is 0 all the same: at half the maximum rate, 10 ms of
linger raised the median end-to-end latency by 15-40 ms and did not lower the p99 consistently
in alternated runs (docs/performance.md, batching and end-to-end latency).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Protocol

from confluent_kafka import Message

from connectors.kafka.clients import KafkaRecord, records_of
from scrubber.config.pipeline import PipelineConfig

# The smallest part a batch is scrubbed in (the engine's per-call cost stays small beside it).
SMALLEST_PART = 25
# Weight of the parts before in the engine's time per record (per part scrubbed).
PACE_MEMORY = 0.9


class ScrubPace:
    """How many records the engine scrubs within `scrub_budget_ms`: the loop scrubs and produces
    a large batch in parts of that size (at-least-once), so that its first records go out while
    the rest is scrubbed, instead of all of them waiting for the whole batch (500 records at
    ~0.5 ms each are 250 ms). Time per record is a decaying average over the parts scrubbed,
    weighted by their records (a one-record batch, dear per record, weighs little). 0: whole
    batches."""

    def __init__(self, budget_ms: int) -> None:
        self._budget = budget_ms / 1000
        self._seconds = 0.0
        self._records = 0.0

    def part_size(self, left: int) -> int:
        """The next part's size, for a batch with `left` records still to scrub: parts of one
        batch come out even (no small last part)."""
        if self._budget <= 0 or self._records <= 0 or self._seconds <= 0:
            return left
        size = max(SMALLEST_PART, int(self._budget * self._records / self._seconds))
        return math.ceil(left / math.ceil(left / size))

    def observe(self, records: int, seconds: float) -> None:
        self._seconds = self._seconds * PACE_MEMORY + seconds
        self._records = self._records * PACE_MEMORY + records


class Source(Protocol):
    """What batching needs of a consumer (confluent_kafka.Consumer in production)."""

    def poll(self, timeout: float) -> Message | None: ...

    def consume(self, num_messages: int, timeout: float) -> list[Message]: ...


def owned(batch: list[KafkaRecord], assigned: set[tuple[str, int]]) -> list[KafkaRecord]:
    """The batch once a rebalance ran inside a poll. Records of partitions no longer ours are
    the new owner's (it starts at the committed offset, below them, since they were never
    tracked); keeping them would duplicate them and commit for a partition not ours. Records of
    a partition we still own are all kept, never dropped: some may have been fetched after the
    partition came back, and dropping those would let a later commit skip them. A partition
    that came back is read again from its committed offset, so one offset can now be in the
    batch twice: keep the first copy."""
    kept: list[KafkaRecord] = []
    seen: set[tuple[str, int, int]] = set()
    for record in batch:
        if (record.topic, record.partition) in assigned and record.where not in seen:
            seen.add(record.where)
            kept.append(record)
    return kept


def poll_batch(
    consumer: Source,
    limits: PipelineConfig,
    *,
    stop: threading.Event,
    assigned: set[tuple[str, int]],
    taken_away: set[tuple[str, int]],
    between: Callable[[], None],
) -> list[KafkaRecord]:
    """One batch (see the module docstring); empty if nothing came within the wait.

    `assigned` and `taken_away` are the loop's own sets, changed by the rebalance callbacks
    that run inside poll() and consume(); `between` runs after each call (serving the
    producer's delivery reports)."""
    deadline = time.monotonic() + limits.batch_max_wait_ms / 1000
    linger = limits.batch_linger_ms / 1000
    closes = deadline  # set when the first record came: then + batch_linger_ms
    batch: list[KafkaRecord] = []
    size = 0
    taken_away.clear()
    while len(batch) < limits.batch_max_records and size < limits.batch_max_bytes:
        if stop.is_set():
            break
        if batch:
            fetched = consumer.consume(limits.batch_max_records - len(batch), 0)
            if not fetched:
                remaining = closes - time.monotonic()
                if remaining <= 0:
                    break  # nothing more ready and the linger is over: hand the batch on
                following = consumer.poll(remaining)  # returns at the next record
                fetched = [] if following is None else [following]
        else:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            first = consumer.poll(remaining)  # returns at the first record
            fetched = [] if first is None else [first]
            closes = time.monotonic() + linger
        for record in records_of(fetched):
            batch.append(record)
            size += record.size
        if taken_away:
            batch = owned(batch, assigned)
            size = sum(r.size for r in batch)
            taken_away.clear()
        between()
    return batch
