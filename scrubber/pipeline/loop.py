"""The `scrubber run` loop: consume -> batch -> scrub -> produce -> commit, on a real broker.

One loop owns polling, batching, producing and offset commits. At-least-once (default): an
offset is committed only when every record below it was delivered to its output (and, for a
failed record, to quarantine); a failed delivery is produced again, never skipped. Exactly-once:
each batch is one transaction holding its outputs and its input offsets; an aborted transaction
rewinds the consumer to the committed offsets, and only fencing stops the worker.

Messages become KafkaRecords at the poll (`batches`); what each record turns into is decided in
`records`, how it is counted in `ledger`, the transaction mechanics live in
`connectors.kafka.transactions`. Each batch is scrubbed under one policy set (`policies`: an
engine per route's effective policy), taken at its start from a source that a config reload may
have replaced (`reload`); shadow candidates see the batch's sample after it went out (`observe`).
A consumer that Kafka left in a fatal state is replaced, and fencing stops the worker (`failures`).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol, runtime_checkable

from confluent_kafka import Consumer, KafkaException, Message, Producer, TopicPartition

from connectors.kafka.clients import (
    ConsumerFailed,
    KafkaRecord,
    broker_reachable,
    commit_offsets,
    error_of,
    first_offsets,
    lag_by_topic,
    make_consumer,
    make_producer,
)
from connectors.kafka.transactions import TransactionalProducer, is_fenced, transactional_id_for
from scrubber.config import Config
from scrubber.engine.key_blocks import PositionedKeyBlocks
from scrubber.log import get_logger
from scrubber.models import Reason
from scrubber.pipeline.batches import ScrubPace, poll_batch
from scrubber.pipeline.failures import BROKER_TROUBLE_SECONDS, Consumers, log_stop
from scrubber.pipeline.ledger import Ledger
from scrubber.pipeline.metrics import PipelineMetrics
from scrubber.pipeline.observe import AfterBatch
from scrubber.pipeline.offsets import OffsetTracker
from scrubber.pipeline.policies import BatchScrubber, Policies, RoutePolicy, fixed
from scrubber.pipeline.records import Output, Scrubbed, Shaped, needs_retry, scrub_parts

COMMIT_INTERVAL_SECONDS = 1.0
# At-least-once: stop taking new batches while this many batches' records await delivery. Without
# a bound, an output outage lets the loop drain every prefetched record into the producer's
# queue; if the group then drops us (session timeout) all of them are consumed again.
MAX_IN_FLIGHT_BATCHES = 4
RETRY_FIRST_DELAY_SECONDS = 0.5
RETRY_MAX_DELAY_SECONDS = 30.0
# One asynchronous commit at a time: while the coordinator is away they would pile up, and be
# sent under an old member id once the group was joined again.
COMMIT_ANSWER_WAIT_SECONDS = 30.0

log = get_logger("scrubber.pipeline")


@runtime_checkable
class PolicySource(Protocol):
    """Where each batch's policy set comes from: `Policies` (fixed) or `reload.Reloader`."""

    def current(self) -> Policies: ...


@dataclass(frozen=True, slots=True)
class _Outgoing:
    """One produce call, kept until delivered so that a failure can be retried."""

    output: Output
    route: str
    source: tuple[str, int, int]  # topic, partition, offset of the input record
    timestamp_ms: int  # the input record's, carried to the output (0 or less: none)


Prepared = list[tuple[RoutePolicy, list[KafkaRecord], list[Scrubbed]]]


def _by_route(prepared: Prepared) -> Prepared:
    """Parts of one batch joined again, one entry per route (what runs after a batch)."""
    joined: dict[str, tuple[RoutePolicy, list[KafkaRecord], list[Scrubbed]]] = {}
    for policy, records, scrubbed in prepared:
        name = policy.route.name
        if name not in joined:
            joined[name] = (policy, [], [])
        joined[name][1].extend(records)
        joined[name][2].extend(scrubbed)
    return list(joined.values())


def _waiting_on_broker(metrics: PipelineMetrics) -> None:
    """A transactional call has been blocked for a second or more: alive, but waiting on the
    broker, so not ready (the next statistics report says when it is back)."""
    metrics.beat()
    metrics.readiness.broker(False, "producer")


class Scrubbing:
    """Each route's records through its engine (timed; private keys logged line by line are
    followed across batches: `PositionedKeyBlocks`), and a batch cut into parts of about
    `scrub_budget_ms` of engine time, as measured on the parts before (`ScrubPace`)."""

    def __init__(self, metrics: PipelineMetrics, budget_ms: int) -> None:
        self._metrics = metrics
        self._key_blocks = PositionedKeyBlocks()
        self._pace = ScrubPace(budget_ms)

    def parts(self, batch: list[KafkaRecord]) -> Iterator[tuple[int, list[KafkaRecord]]]:
        """(offset in the batch, part) for consecutive parts of the batch."""
        start = 0
        while start < len(batch):
            part = batch[start : start + self._pace.part_size(len(batch) - start)]
            yield start, part
            start += len(part)

    def prepare(self, live: Policies, records: list[KafkaRecord]) -> Prepared:
        """The records scrubbed, route by route, under one policy set."""
        started = time.perf_counter()
        by_route: dict[str, list[KafkaRecord]] = defaultdict(list)
        for record in records:
            by_route[record.topic].append(record)
        prepared = [
            (live.by_topic[topic], part, self._route(live.by_topic[topic], part))
            for topic, part in by_route.items()
        ]
        self._pace.observe(len(records), time.perf_counter() - started)
        return prepared

    def _route(self, policy: RoutePolicy, records: list[KafkaRecord]) -> list[Scrubbed]:
        started = time.perf_counter()
        scrub = policy.engine.scrub_batch
        scrubbed = scrub_parts(records, policy.route, scrub, self._key_blocks)
        self._metrics.scrub_seconds.observe(time.perf_counter() - started)
        return scrubbed


class Pipeline:
    def __init__(
        self,
        config: Config,
        engines: BatchScrubber | PolicySource,
        metrics: PipelineMetrics,
        worker: int = 0,
    ):
        """`engines`: one engine for every route (tests), or the policy sets' source."""
        if not config.routes:
            raise ValueError("no routes configured: add `routes:` to the config")
        self._config = config
        self._policies = engines if isinstance(engines, PolicySource) else fixed(config, engines)
        self._metrics = metrics
        self._after_batch = AfterBatch(metrics.registry)
        self._tracker = OffsetTracker()
        self._scrubbing = Scrubbing(metrics, config.pipeline.scrub_budget_ms)
        self._exactly_once = config.pipeline.exactly_once
        self._ledger = Ledger(metrics, config.quarantine.topic, self._tracker, self._exactly_once)
        self._transactional_id = (
            transactional_id_for(config.kafka, worker) if self._exactly_once else None
        )
        make = partial(
            make_producer, config.kafka, config.pipeline, self._transactional_id,
            on_stats=lambda stats: metrics.readiness.broker(broker_reachable(stats), "producer"),
        )  # fmt: skip
        tid, waiting = self._transactional_id, partial(_waiting_on_broker, metrics)
        self._transactions = None if tid is None else TransactionalProducer(make, tid, waiting)
        self._plain_producer: Producer | None = make() if tid is None else None
        self._producer_failed = False
        self._new_consumer = partial(
            make_consumer, config.kafka, config.pipeline, worker=worker,
            on_assign=self._on_assign, on_revoke=self._on_revoke, on_lost=self._on_lost,
            on_commit=self._on_commit,
            on_stats=lambda stats: metrics.readiness.broker(broker_reachable(stats)),
            topics=sorted(t for route in config.routes for t in route.topics),
        )  # fmt: skip
        self._consumers = Consumers(self._new_consumer)
        self._commit_sent: float | None = None  # an asynchronous commit awaiting its answer
        self._last_commit = time.monotonic()
        self._assigned: set[tuple[str, int]] = set()
        self._retry_delay = RETRY_FIRST_DELAY_SECONDS
        # Partitions taken away while a batch was being polled: their records leave the batch.
        self._taken_away: set[tuple[str, int]] = set()

    @property
    def _consumer(self) -> Consumer:
        """The live consumer (perhaps a replacement)."""
        return self._consumers.consumer

    @property
    def _producer(self) -> Producer:
        """The live producer (exactly-once: perhaps a replacement)."""
        if self._transactions is not None:
            return self._transactions.producer
        assert self._plain_producer is not None
        return self._plain_producer

    # ------------------------------------------------------------------ rebalances

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        if consumer is not self._consumer:  # a replaced consumer closing
            return
        self._metrics.rebalances.labels("assign").inc()
        self._assigned |= {(p.topic, p.partition) for p in partitions}
        self._metrics.partitions(len(self._assigned))
        self._metrics.readiness.broker(True)  # the coordinator just answered
        log.info("partitions_assigned", count=len(partitions))

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Give the partitions back clean: deliver what is in flight, commit, forget."""
        if consumer is not self._consumer:
            return
        self._metrics.rebalances.labels("revoke").inc()
        revoked = {(p.topic, p.partition) for p in partitions}
        if not self._exactly_once:
            self._producer.flush(self._config.pipeline.shutdown_grace_seconds)
            self._commit(only=revoked, asynchronous=False)
        self._give_up(revoked)
        log.info("partitions_revoked", count=len(partitions))

    def _on_lost(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Lost partitions belong to someone else already: never commit for them."""
        if consumer is not self._consumer:
            return
        self._metrics.rebalances.labels("lost").inc()
        self._give_up({(p.topic, p.partition) for p in partitions})
        log.warning("partitions_lost", count=len(partitions))

    def _give_up(self, partitions: set[tuple[str, int]]) -> None:
        self._tracker.forget(partitions)
        self._assigned -= partitions
        self._taken_away |= partitions
        self._metrics.partitions(len(self._assigned))

    # ------------------------------------------------------------------ the loop

    def _on_commit(self, error: Any, partitions: list[TopicPartition]) -> None:
        """An offset counts as committed only once the broker said so; a failed commit is
        tried again at the next interval (or at shutdown), even if nothing new arrived."""
        self._commit_sent = None
        if error is not None:
            log.warning("commit_failed", code=str(error.name()))
            return
        self._tracker.mark_committed(
            {(tp.topic, tp.partition): tp.offset for tp in partitions if tp.error is None}
        )

    def run(self, stop: threading.Event) -> None:
        pipeline = self._config.pipeline
        in_flight_limit = MAX_IN_FLIGHT_BATCHES * pipeline.batch_max_records
        self._metrics.readiness.running = True
        try:
            while not stop.is_set():
                self._metrics.beat()
                if self._tracker.in_flight >= in_flight_limit:
                    self._serve_producer(0.1)  # deliveries are behind: let them catch up
                elif batch := self._poll_batch(stop):
                    self._process(batch)
                self._serve_producer()
                if time.monotonic() - self._last_commit > COMMIT_INTERVAL_SECONDS:
                    if not self._exactly_once:
                        self._commit(asynchronous=True)
                    self._last_commit = time.monotonic()
                    self._update_lag()
        except KafkaException as exc:
            error = error_of(exc)
            self._producer_failed = is_fenced(error)  # fenced: nothing left to deliver
            log_stop(error, self._transactional_id, self._metrics)
            raise
        finally:
            self._metrics.readiness.running = False
            self._shut_down()

    def _poll_batch(self, stop: threading.Event) -> list[KafkaRecord]:
        try:
            return poll_batch(
                self._consumer, self._config.pipeline, stop=stop, assigned=self._assigned,
                taken_away=self._taken_away, between=self._serve_producer,
            )  # fmt: skip
        except ConsumerFailed as exc:
            # Its partitions count as lost (read again from the committed offsets by whoever
            # gets them); deliveries in flight still finish.
            self._give_up(set(self._assigned))
            self._commit_sent = None
            lost = self._metrics.readiness.broker_lost_within(BROKER_TROUBLE_SECONDS)
            self._consumers.replace(exc, after_outage=lost)
            return []

    def _serve_producer(self, timeout: float = 0) -> None:
        """Delivery reports. Exactly-once, a fatal error surfacing here is left to the next
        transaction, which aborts or replaces the producer; only fencing stops the worker."""
        try:
            self._producer.poll(timeout)
        except KafkaException as exc:
            error = error_of(exc)
            if self._transactions is None or is_fenced(error):
                raise
            log.warning("producer_error", code=error.name() if error else "unknown")

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

    # ------------------------------------------------------------------ one batch

    def _process(self, batch: list[KafkaRecord]) -> None:
        live = self._policies.current()  # the whole batch under one set: a reload swaps here
        self._metrics.batch_size.observe(len(batch))
        if self._transactions is None:
            self._process_in_parts(live, batch)
            return
        prepared = self._scrubbing.prepare(live, batch)
        if any(needs_retry(scrubbed) for _, _, scrubbed in prepared):
            self._retry_later(batch)
            return
        self._retry_delay = RETRY_FIRST_DELAY_SECONDS

        def emit() -> None:
            self._emit(live, prepared)

        if self._transactions.transact(batch, self._consumer, emit):
            self._ledger.committed()
        else:  # aborted, the consumer rewound: the batch is read (and counted in) again
            self._ledger.aborted()
            return
        self._after_batch(live, prepared)  # shadows, private counts: the batch never waits

    def _process_in_parts(self, live: Policies, batch: list[KafkaRecord]) -> None:
        """At-least-once: the batch scrubbed and produced part by part (`Scrubbing.parts`), so
        that the first records of a large batch go out while the rest is scrubbed. Offsets are
        tracked per record, so a part that must wait for the vault is read again from its own
        first offsets, after the parts before it went out."""
        done: Prepared = []
        for start, part in self._scrubbing.parts(batch):
            prepared = self._scrubbing.prepare(live, part)
            if any(needs_retry(scrubbed) for _, _, scrubbed in prepared):
                self._retry_later(batch[start:])
                break
            self._retry_delay = RETRY_FIRST_DELAY_SECONDS
            self._emit(live, prepared)
            done.extend(prepared)
        if done:
            self._after_batch(live, _by_route(done))

    def _emit(self, live: Policies, prepared: Prepared) -> None:
        for policy, records, scrubbed in prepared:
            shaped = policy.shape(records, scrubbed, live.config.quarantine)
            self._emit_route(policy.route.name, records, shaped)

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

    def _emit_route(self, route: str, records: list[KafkaRecord], shaped: list[Shaped]) -> None:
        # Counted before the first produce: a produce that fails mid-route (exactly-once) aborts
        # the transaction with the whole route in the books.
        self._ledger.taken(route, records)
        for record, outcome in zip(records, shaped, strict=True):
            self._ledger.expect(route, record, outcome)
        for record, outcome in zip(records, shaped, strict=True):
            for output in outcome.outputs:
                self._produce(_Outgoing(output, route, record.where, record.timestamp_ms))

    def _produce(self, item: _Outgoing) -> None:
        out = item.output
        headers: list[tuple[str, str | bytes | None]] = list(out.headers)
        while True:
            try:
                self._producer.produce(
                    out.topic, value=out.value, key=out.key, headers=headers,
                    on_delivery=self._on_delivery(item),
                    timestamp=max(item.timestamp_ms, 0),  # 0: the broker's clock
                )  # fmt: skip
                return
            except BufferError:  # local queue full: serve callbacks, then try again
                self._serve_producer(0.1)

    def _on_delivery(self, item: _Outgoing) -> Callable[[Any, Message], None]:
        def done(error: Any, _message: Message) -> None:
            if error is not None:
                self._metrics.delivery_errors.labels(item.route).inc()
                log.warning("delivery_failed", code=str(error.name()), retrying=True)
                if not self._exactly_once:
                    self._produce(item)  # the hole stays until this is delivered
                return
            if not self._exactly_once:  # exactly-once, the commit finishes the records
                self._ledger.delivered(item.source)

        return done

    # ------------------------------------------------------------------ commits

    def _commit(self, only: set[tuple[str, int]] | None = None, asynchronous: bool = True) -> None:
        self._serve_producer()
        offsets = self._tracker.committable(only)
        if not offsets:
            return
        now = time.monotonic()
        if asynchronous:
            if (
                self._commit_sent is not None
                and now - self._commit_sent < COMMIT_ANSWER_WAIT_SECONDS
            ):
                return  # the last one is still unanswered (the coordinator is away)
            self._commit_sent = now
        # Asynchronously, they are marked committed by _on_commit, once the broker confirms.
        done = commit_offsets(self._consumer, offsets, asynchronous=asynchronous)
        if not asynchronous:
            self._on_commit(None, done)
        self._last_commit = now

    def _update_lag(self) -> None:
        if (by_topic := lag_by_topic(self._consumer, self._assigned)) is not None:
            self._metrics.lag(by_topic, self._config.routes)
