"""The `scrubber run` loop: consume -> batch -> scrub -> produce -> commit, on a real broker.

One loop owns polling, batching, producing and offset commits. At-least-once (default): an
offset is committed only when every record below it was delivered to its output (and, for a
failed record, to quarantine); a failed delivery is produced again, never skipped. Exactly-once:
each batch is one transaction holding its outputs and its input offsets; an aborted transaction
rewinds the consumer to the committed offsets.

Messages become KafkaRecords at the poll; what each record turns into is decided in
`records`, the transaction mechanics live in `connectors.kafka.transactions`.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from confluent_kafka import Consumer, KafkaException, Message, Producer, TopicPartition

from connectors.kafka.clients import (
    KafkaRecord,
    commit_offsets,
    error_of,
    first_offsets,
    lag_by_topic,
    make_consumer,
    make_producer,
    records_of,
)
from connectors.kafka.transactions import TransactionalProducer, is_fatal, transactional_id_for
from scrubber.config import Config
from scrubber.config.pipeline import RouteConfig
from scrubber.log import get_logger
from scrubber.models import Format, Reason, RecordResult
from scrubber.pipeline.metrics import PipelineMetrics
from scrubber.pipeline.offsets import OffsetTracker
from scrubber.pipeline.records import (
    Output,
    Scrubbed,
    delivered_outcome,
    needs_retry,
    scrub_parts,
    shape,
)

COMMIT_INTERVAL_SECONDS = 1.0
# At-least-once: stop taking new batches while this many batches' records await delivery. Without
# a bound, an output outage lets the loop drain every prefetched record into the producer's
# queue; if the group then drops us (session timeout) all of them are consumed again.
MAX_IN_FLIGHT_BATCHES = 4
RETRY_FIRST_DELAY_SECONDS = 0.5
RETRY_MAX_DELAY_SECONDS = 30.0

log = get_logger("scrubber.pipeline")


class BatchScrubber(Protocol):
    """What the pipeline needs of the engine (scrubber.engine.Scrubber in production)."""

    @property
    def config_hash(self) -> str: ...

    def scrub_batch(
        self, records: Sequence[bytes | str], fmt: Format = "auto"
    ) -> list[RecordResult]: ...


@dataclass(frozen=True, slots=True)
class _Outgoing:
    """One produce call, kept until delivered so that a failure can be retried."""

    output: Output
    route: str
    source: tuple[str, int, int]  # topic, partition, offset of the input record
    timestamp_ms: int


def _owned(batch: list[KafkaRecord], assigned: set[tuple[str, int]]) -> list[KafkaRecord]:
    """The batch once a rebalance ran inside consume(). Records of partitions no longer ours are
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


class Pipeline:
    def __init__(
        self, config: Config, engine: BatchScrubber, metrics: PipelineMetrics, worker: int = 0
    ):
        if not config.routes:
            raise ValueError("no routes configured: add `routes:` to the config")
        self._config = config
        self._engine = engine
        self._metrics = metrics
        self._routes = {topic: route for route in config.routes for topic in route.topics}
        self._tracker = OffsetTracker()
        self._pending_parts: dict[tuple[str, int, int], int] = {}  # deliveries still awaited
        self._exactly_once = config.pipeline.exactly_once
        self._transactional_id = (
            transactional_id_for(config.kafka, worker) if self._exactly_once else None
        )
        make = partial(make_producer, config.kafka, config.pipeline, self._transactional_id)
        self._transactions: TransactionalProducer | None = None
        if self._transactional_id is not None:
            self._transactions = TransactionalProducer(make, self._transactional_id, metrics.beat)
            self._producer: Producer = self._transactions.producer
        else:
            self._producer = make()
        self._producer_failed = False
        self._consumer: Consumer = make_consumer(
            config.kafka,
            config.pipeline,
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_lost,
            on_commit=self._on_commit,
            topics=sorted(self._routes),
        )
        self._last_commit = time.monotonic()
        self._assigned: set[tuple[str, int]] = set()
        self._retry_delay = RETRY_FIRST_DELAY_SECONDS
        # Partitions taken away while a batch was being polled: their records leave the batch.
        self._taken_away: set[tuple[str, int]] = set()

    # ------------------------------------------------------------------ rebalances

    def _on_assign(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._metrics.rebalances.labels("assign").inc()
        self._assigned |= {(p.topic, p.partition) for p in partitions}
        self._metrics.assigned_partitions.set(len(self._assigned))
        self._metrics.ready.set()
        log.info("partitions_assigned", count=len(partitions))

    def _on_revoke(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Give the partitions back clean: deliver what is in flight, commit, forget."""
        self._metrics.rebalances.labels("revoke").inc()
        revoked = {(p.topic, p.partition) for p in partitions}
        if not self._exactly_once:
            self._producer.flush(self._config.pipeline.shutdown_grace_seconds)
            self._commit(only=revoked, asynchronous=False)
        self._give_up(revoked)
        log.info("partitions_revoked", count=len(partitions))

    def _on_lost(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Lost partitions belong to someone else already: never commit for them."""
        self._metrics.rebalances.labels("lost").inc()
        self._give_up({(p.topic, p.partition) for p in partitions})
        log.warning("partitions_lost", count=len(partitions))

    def _give_up(self, partitions: set[tuple[str, int]]) -> None:
        self._tracker.forget(partitions)
        self._assigned -= partitions
        self._taken_away |= partitions
        self._metrics.assigned_partitions.set(len(self._assigned))

    # ------------------------------------------------------------------ the loop

    def _on_commit(self, error: Any, partitions: list[TopicPartition]) -> None:
        """An offset counts as committed only once the broker said so; a failed commit is
        tried again at the next interval (or at shutdown), even if nothing new arrived."""
        if error is not None:
            log.warning("commit_failed", code=str(error.name()))
            return
        self._tracker.mark_committed(
            {(tp.topic, tp.partition): tp.offset for tp in partitions if tp.error is None}
        )

    def run(self, stop: threading.Event) -> None:
        pipeline = self._config.pipeline
        in_flight_limit = MAX_IN_FLIGHT_BATCHES * pipeline.batch_max_records
        try:
            while not stop.is_set():
                self._metrics.beat()
                if self._tracker.in_flight >= in_flight_limit:
                    self._producer.poll(0.1)  # deliveries are behind: let them catch up
                else:
                    batch = self._poll_batch(stop)
                    if batch:
                        self._process(batch)
                self._producer.poll(0)
                if time.monotonic() - self._last_commit > COMMIT_INTERVAL_SECONDS:
                    if not self._exactly_once:
                        self._commit(asynchronous=True)
                    self._last_commit = time.monotonic()
                    self._update_lag()
        except KafkaException as exc:
            error = error_of(exc)
            if is_fatal(error):
                # Fenced: a newer producer holds our transactional id. Our open transaction is
                # aborted by the broker and nothing of it was committed, so stopping loses
                # nothing; carrying on would fence the other process back in turn.
                self._producer_failed = True
                log.error(
                    "producer_fatal_error",
                    code=error.name() if error else "unknown",
                    transactional_id=self._transactional_id,
                    hint="two live processes share a transactional id: give each its own "
                    "kafka.instance_id (or SCRUBBER_INSTANCE_ID)",
                )
            raise
        finally:
            self._shut_down()

    def _shut_down(self) -> None:
        log.info("shutting_down", in_flight=self._tracker.in_flight)
        remaining = -1
        if not self._producer_failed:  # a failed producer has nothing left to deliver
            try:
                remaining = self._producer.flush(self._config.pipeline.shutdown_grace_seconds)
            except Exception as exc:  # a fatal state first seen here: stop all the same
                log.error("flush_failed", error=type(exc).__name__)
                self._producer_failed = True
        if not self._producer_failed and not self._exactly_once:
            self._commit(asynchronous=False)
        self._consumer.close()
        log.info("stopped", undelivered=remaining)

    def _poll_batch(self, stop: threading.Event) -> list[KafkaRecord]:
        pipeline = self._config.pipeline
        deadline = time.monotonic() + pipeline.batch_max_wait_ms / 1000
        batch: list[KafkaRecord] = []
        size = 0
        self._taken_away.clear()
        while len(batch) < pipeline.batch_max_records and size < pipeline.batch_max_bytes:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or stop.is_set():
                break
            fetched = self._consumer.consume(pipeline.batch_max_records - len(batch), remaining)
            for record in records_of(fetched):
                batch.append(record)
                size += record.size
            if self._taken_away:
                batch = _owned(batch, self._assigned)
                size = sum(r.size for r in batch)
                self._taken_away.clear()
            self._producer.poll(0)
        return batch

    # ------------------------------------------------------------------ one batch

    def _process(self, batch: list[KafkaRecord]) -> None:
        by_route: dict[str, list[KafkaRecord]] = defaultdict(list)
        for record in batch:
            by_route[record.topic].append(record)
        self._metrics.batch_size.observe(len(batch))
        prepared = [
            (self._routes[topic], records, self._scrub_route(self._routes[topic], records))
            for topic, records in by_route.items()
        ]
        if any(needs_retry(scrubbed) for _, _, scrubbed in prepared):
            self._retry_later(batch)
            return
        self._retry_delay = RETRY_FIRST_DELAY_SECONDS
        if self._transactions is not None:
            self._transactions.begin()
        for route, records, scrubbed in prepared:
            self._emit_route(route, records, scrubbed)
        if self._transactions is not None:
            self._transactions.commit(batch, self._consumer)  # or rewound to read it again
            self._producer = self._transactions.producer  # perhaps replaced

    def _retry_later(self, batch: list[KafkaRecord]) -> None:
        """The vault cannot store tokens: emit nothing, commit nothing, read the batch again.

        Failing closed here would quarantine every record while the vault is down; instead the
        pipeline stops advancing (lag grows, as it should) and retries with a growing delay.
        """
        self._metrics.batch_retries.labels(Reason.VAULT_UNAVAILABLE.value).inc()
        log.warning("vault_unavailable_retrying", records=len(batch), delay=self._retry_delay)
        for (topic, partition), offset in first_offsets(batch).items():
            if (topic, partition) in self._assigned:
                self._consumer.seek(TopicPartition(topic, partition, offset))
        time.sleep(self._retry_delay)
        self._retry_delay = min(RETRY_MAX_DELAY_SECONDS, self._retry_delay * 2)

    def _scrub_route(self, route: RouteConfig, records: list[KafkaRecord]) -> list[Scrubbed]:
        started = time.perf_counter()
        scrubbed = scrub_parts(records, route, self._engine.scrub_batch)
        self._metrics.scrub_seconds.observe(time.perf_counter() - started)
        return scrubbed

    def _emit_route(
        self, route: RouteConfig, records: list[KafkaRecord], scrubbed: list[Scrubbed]
    ) -> None:
        self._metrics.records_in.labels(route.name).inc(len(records))
        self._metrics.bytes_in.labels(route.name).inc(sum(r.size for r in records))
        quarantine, config_hash = self._config.quarantine, self._engine.config_hash
        for record, parts in zip(records, scrubbed, strict=True):
            shaped = shape(route, record, parts, quarantine, config_hash)
            if shaped.reason is None:
                for (entity_type, operator), count in shaped.entities.items():
                    self._metrics.entities.labels(route.name, entity_type, operator).inc(count)
            else:
                self._metrics.quarantined.labels(route.name, shaped.reason.value).inc()
            if not self._exactly_once:
                self._tracker.track(*record.where)
                self._pending_parts[record.where] = len(shaped.outputs)
            for output in shaped.outputs:
                self._produce(_Outgoing(output, route.name, record.where, record.timestamp_ms))

    def _produce(self, item: _Outgoing) -> None:
        out = item.output
        headers: list[tuple[str, str | bytes | None]] = list(out.headers)
        while True:
            try:
                self._producer.produce(
                    out.topic, value=out.value, key=out.key, headers=headers,
                    on_delivery=self._on_delivery(item),
                )  # fmt: skip
                return
            except BufferError:  # local queue full: serve callbacks, then try again
                self._producer.poll(0.1)

    def _on_delivery(self, item: _Outgoing) -> Callable[[Any, Message], None]:
        def done(error: Any, _message: Message) -> None:
            if error is not None:
                self._metrics.delivery_errors.labels(item.route).inc()
                log.warning("delivery_failed", code=str(error.name()), retrying=True)
                if not self._exactly_once:
                    self._produce(item)  # the hole stays until this is delivered
                return
            outcome = delivered_outcome(item.output, self._config.quarantine.topic)
            if outcome is not None:
                self._metrics.records_out.labels(item.route, outcome).inc()
                self._metrics.bytes_out.labels(item.route).inc(len(item.output.value or b""))
                if item.timestamp_ms > 0:
                    self._metrics.end_to_end_seconds.observe(
                        max(0.0, time.time() - item.timestamp_ms / 1000)
                    )
            if not self._exactly_once:
                self._delivered(item.source)

        return done

    def _delivered(self, source: tuple[str, int, int]) -> None:
        left = self._pending_parts.get(source, 0) - 1
        if left > 0:
            self._pending_parts[source] = left
        else:
            self._pending_parts.pop(source, None)
            self._tracker.delivered(*source)

    # ------------------------------------------------------------------ commits

    def _commit(self, only: set[tuple[str, int]] | None = None, asynchronous: bool = True) -> None:
        self._producer.poll(0)
        offsets = self._tracker.committable(only)
        if not offsets:
            return
        # Asynchronously, they are marked committed by _on_commit, once the broker confirms.
        done = commit_offsets(self._consumer, offsets, asynchronous=asynchronous)
        self._on_commit(None, done)
        self._last_commit = time.monotonic()

    def _update_lag(self) -> None:
        by_topic = lag_by_topic(self._consumer, self._assigned)
        if by_topic is None:
            return
        lag: Counter[str] = Counter()
        for topic, count in by_topic.items():
            lag[self._routes[topic].name] += count
        for route in self._config.routes:
            self._metrics.consumer_lag.labels(route.name).set(lag[route.name])
