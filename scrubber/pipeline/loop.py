"""The `scrubber run` loop: consume -> batch -> scrub -> produce -> commit, on a real broker.

One loop owns polling, batching, producing and offset commits. At-least-once (default): an
offset is committed only when every record below it was delivered to its output (and, for a
failed record, to quarantine); a failed delivery is produced again, never skipped. Exactly-once:
each batch is one transaction holding its outputs and its input offsets; an aborted transaction
rewinds the consumer to the committed offsets.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal, Protocol

from confluent_kafka import (
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)

from connectors.kafka.clients import make_consumer, make_producer, message_error
from scrubber.config import Config
from scrubber.config.pipeline import KafkaConfig, RouteConfig
from scrubber.log import get_logger
from scrubber.models import Format, Outcome, Reason, RecordResult
from scrubber.pipeline.metrics import PipelineMetrics
from scrubber.pipeline.offsets import OffsetTracker

CONFIG_HEADER = "x-scrubber-config"
ENTITIES_HEADER = "x-scrubber-entities"
REASON_HEADER = "x-scrubber-reason"
SOURCE_HEADER = "x-scrubber-source"
COMMIT_INTERVAL_SECONDS = 1.0
# At-least-once: stop taking new batches while this many batches' records await delivery. Without
# a bound, an output outage lets the loop drain every prefetched record into the producer's
# queue; if the group then drops us (session timeout) all of them are consumed again.
MAX_IN_FLIGHT_BATCHES = 4

log = get_logger("scrubber.pipeline")
Headers = list[tuple[str, str | bytes | None]]


def _headers_of(message: Message) -> Headers:
    headers = message.headers()
    if headers is None:
        return []
    return list(headers.items()) if isinstance(headers, dict) else list(headers)


def _where(message: Message) -> tuple[str, int, int]:
    """Topic, partition and offset of a consumed record (always set on one)."""
    topic, partition, offset = message.topic(), message.partition(), message.offset()
    assert topic is not None
    assert partition is not None
    assert offset is not None
    return topic, partition, offset


class BatchScrubber(Protocol):
    """What the pipeline needs of the engine (scrubber.engine.Scrubber in production)."""

    @property
    def config_hash(self) -> str: ...

    def scrub_batch(
        self, records: Sequence[bytes | str], fmt: Format = "auto"
    ) -> list[RecordResult]: ...


@dataclass(slots=True)
class _Outgoing:
    """One produce call, kept until delivered so that a failure can be retried."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: Headers
    route: str
    source: tuple[str, int, int]  # topic, partition, offset of the input record
    timestamp_ms: int


_Scrubbed = tuple[RecordResult, bytes | Reason | None, Headers | Reason]
RETRY_FIRST_DELAY_SECONDS = 0.5
RETRY_MAX_DELAY_SECONDS = 30.0


def _needs_retry(scrubbed: list[_Scrubbed]) -> bool:
    """A missing vault is an outage to wait out, not a property of the record."""
    unavailable = Reason.VAULT_UNAVAILABLE
    return any(
        result.reason is unavailable or key is unavailable or header is unavailable
        for result, key, header in scrubbed
    )


INSTANCE_ID_ENV = "SCRUBBER_INSTANCE_ID"
# Every transactional call gets TRANSACTION_CALL_TIMEOUT_SECONDS; the deadline is longer, so only a
# call stuck past its own timeout hits it. Together they bound how long an outage stalls a batch.
TRANSACTION_CALL_TIMEOUT_SECONDS = 30
TRANSACTION_CALL_DEADLINE_SECONDS = TRANSACTION_CALL_TIMEOUT_SECONDS + 15.0


def _error_of(exc: KafkaException) -> KafkaError | None:
    error = exc.args[0] if exc.args else None
    return error if isinstance(error, KafkaError) else None


def _is_fatal(error: KafkaError | None) -> bool:
    """The producer can never be used again. `produce()` reports it as a plain `_FATAL`
    error whose own fatal flag is not set; the fenced cause comes with the next call."""
    if error is None:
        return False
    return error.fatal() or error.code() in (KafkaError._FATAL, KafkaError._FENCED)


CallOutcome = Literal["done", "failed", "hung"]


def _within(seconds: float, call: Callable[[], object], beat: Callable[[], None]) -> bool:
    """Run a blocking client call on a helper thread: True once it returned (its exception is
    raised here), False if it is still blocked after `seconds`. `beat` runs every second: a
    worker waiting with a deadline is alive, not hung."""
    done = threading.Event()
    failure: list[BaseException] = []

    def target() -> None:
        try:
            call()
        except BaseException as exc:  # handed to the caller's thread
            failure.append(exc)
        finally:
            done.set()

    threading.Thread(target=target, name="transaction-call", daemon=True).start()
    deadline = time.monotonic() + seconds
    while not done.wait(1.0):
        if time.monotonic() > deadline:
            return False
        beat()
    if failure:
        raise failure[0]
    return True


def transactional_id_for(kafka: KafkaConfig, worker: int) -> str:
    """`{group}-{instance}-{worker}`: unique among live processes, stable across restarts."""
    instance = kafka.instance_id or os.environ.get(INSTANCE_ID_ENV) or socket.gethostname()
    return f"{kafka.group_id}-{instance}-{worker}"


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
        self._producer: Producer = make_producer(
            config.kafka, config.pipeline, self._transactional_id
        )
        if self._exactly_once:
            self._producer.init_transactions(TRANSACTION_CALL_TIMEOUT_SECONDS)
        self._abandoned: list[Producer] = []  # hung producers, never destroyed (see below)
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
        self._tracker.forget(revoked)
        self._assigned -= revoked
        self._taken_away |= revoked
        self._metrics.assigned_partitions.set(len(self._assigned))
        log.info("partitions_revoked", count=len(partitions))

    def _on_lost(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Lost partitions belong to someone else already: never commit for them."""
        self._metrics.rebalances.labels("lost").inc()
        lost = {(p.topic, p.partition) for p in partitions}
        self._tracker.forget(lost)
        self._assigned -= lost
        self._taken_away |= lost
        self._metrics.assigned_partitions.set(len(self._assigned))
        log.warning("partitions_lost", count=len(partitions))

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
            error = _error_of(exc)
            if _is_fatal(error):
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
            log.info("shutting_down", in_flight=self._tracker.in_flight)
            remaining = -1
            if not self._producer_failed:  # a failed producer has nothing left to deliver
                try:
                    remaining = self._producer.flush(pipeline.shutdown_grace_seconds)
                except Exception as exc:  # a fatal state first seen here: stop all the same
                    log.error("flush_failed", error=type(exc).__name__)
                    self._producer_failed = True
            if not self._producer_failed and not self._exactly_once:
                self._commit(asynchronous=False)
            self._consumer.close()
            log.info("stopped", undelivered=remaining)

    def _poll_batch(self, stop: threading.Event) -> list[Message]:
        pipeline = self._config.pipeline
        deadline = time.monotonic() + pipeline.batch_max_wait_ms / 1000
        batch: list[Message] = []
        size = 0
        self._taken_away.clear()
        while len(batch) < pipeline.batch_max_records and size < pipeline.batch_max_bytes:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or stop.is_set():
                break
            for message in self._consumer.consume(
                pipeline.batch_max_records - len(batch), remaining
            ):
                error = message_error(message)
                if error is not None:
                    log.warning("consume_error", code=error.name(), retriable=error.retriable())
                    continue
                if message.error() is None:
                    batch.append(message)
                    size += len(message.value() or b"")
            if self._taken_away:
                batch = self._drop_taken_away(batch)
                size = sum(len(m.value() or b"") for m in batch)
            self._producer.poll(0)
        return batch

    def _drop_taken_away(self, batch: list[Message]) -> list[Message]:
        """A rebalance ran inside consume(). Records of partitions no longer ours are the new
        owner's (it starts at the committed offset, below them, since they were never tracked);
        keeping them would duplicate them and commit for a partition not ours. Records of a
        partition we still own are all kept, never dropped: some may have been fetched after the
        partition came back, and dropping those would let a later commit skip them. A partition
        that came back is read again from its committed offset, so one offset can now be in the
        batch twice: keep the first copy."""
        kept: list[Message] = []
        seen: set[tuple[str, int, int]] = set()
        for message in batch:
            where = _where(message)
            if where[:2] in self._assigned and where not in seen:
                seen.add(where)
                kept.append(message)
        self._taken_away.clear()
        return kept

    # ------------------------------------------------------------------ one batch

    def _process(self, batch: list[Message]) -> None:
        by_route: dict[str, list[Message]] = defaultdict(list)
        for message in batch:
            by_route[_where(message)[0]].append(message)
        self._metrics.batch_size.observe(len(batch))
        prepared = [
            (self._routes[topic], messages, self._scrub_route(self._routes[topic], messages))
            for topic, messages in by_route.items()
        ]
        if any(_needs_retry(scrubbed) for _, _, scrubbed in prepared):
            self._retry_later(batch)
            return
        self._retry_delay = RETRY_FIRST_DELAY_SECONDS
        if self._exactly_once:
            self._producer.begin_transaction()
        for route, messages, scrubbed in prepared:
            self._emit_route(route, messages, scrubbed)
        if self._exactly_once:
            self._commit_transaction(batch)

    def _retry_later(self, batch: list[Message]) -> None:
        """The vault cannot store tokens: emit nothing, commit nothing, read the batch again.

        Failing closed here would quarantine every record while the vault is down; instead the
        pipeline stops advancing (lag grows, as it should) and retries with a growing delay.
        """
        first: dict[tuple[str, int], int] = {}
        for message in batch:
            topic, partition, offset = _where(message)
            first[topic, partition] = min(first.get((topic, partition), offset), offset)
        self._metrics.batch_retries.labels(Reason.VAULT_UNAVAILABLE.value).inc()
        log.warning("vault_unavailable_retrying", records=len(batch), delay=self._retry_delay)
        for (topic, partition), offset in first.items():
            if (topic, partition) in self._assigned:
                self._consumer.seek(TopicPartition(topic, partition, offset))
        time.sleep(self._retry_delay)
        self._retry_delay = min(RETRY_MAX_DELAY_SECONDS, self._retry_delay * 2)

    def _scrub_route(self, route: RouteConfig, messages: list[Message]) -> list[_Scrubbed]:
        started = time.perf_counter()
        values = [m.value() or b"" for m in messages]
        results = self._engine.scrub_batch(values, route.format)
        keys = self._scrub_side_values([m.key() for m in messages], route.scrub_keys)
        headers = self._scrub_headers(messages, route.scrub_headers)
        self._metrics.scrub_seconds.observe(time.perf_counter() - started)
        return list(zip(results, keys, headers, strict=True))

    def _emit_route(
        self, route: RouteConfig, messages: list[Message], scrubbed: list[_Scrubbed]
    ) -> None:
        self._metrics.records_in.labels(route.name).inc(len(messages))
        self._metrics.bytes_in.labels(route.name).inc(sum(len(m.value() or b"") for m in messages))
        for message, (result, key, header) in zip(messages, scrubbed, strict=True):
            failed = (
                key if isinstance(key, Reason) else header if isinstance(header, Reason) else None
            )
            if failed is not None:  # a key or header that cannot be scanned fails the record
                self._emit(route, message, RecordResult("", Outcome.QUARANTINED, failed), None, [])
            else:
                self._emit(route, message, result, key, header)

    def _scrub_side_values(
        self, raw: list[bytes | None], scrub: bool
    ) -> list[bytes | Reason | None]:
        """Keys (or header values) scrubbed as text, in one engine call; None stays None."""
        present = [i for i, value in enumerate(raw) if value]
        out: list[bytes | Reason | None] = list(raw)
        if not scrub or not present:
            return out
        results = self._engine.scrub_batch([raw[i] or b"" for i in present], "text")
        for i, result in zip(present, results, strict=True):
            ok = result.outcome is Outcome.OK
            out[i] = result.output.encode() if ok else (result.reason or Reason.DETECTION_ERROR)
        return out

    def _scrub_headers(self, messages: list[Message], scrub: bool) -> list[Headers | Reason]:
        flat: list[tuple[int, str, bytes | None]] = [
            (i, name, value.encode() if isinstance(value, str) else value)
            for i, m in enumerate(messages)
            for name, value in _headers_of(m)
        ]
        scrubbed = self._scrub_side_values([value for _, _, value in flat], scrub)
        out: list[Headers | Reason] = [[] for _ in messages]
        for (i, name, _), value in zip(flat, scrubbed, strict=True):
            current = out[i]
            if isinstance(value, Reason):
                out[i] = value
            elif isinstance(current, list):
                current.append((name, value or b""))
        return out

    def _emit(
        self,
        route: RouteConfig,
        message: Message,
        result: RecordResult,
        key: bytes | Reason | None,
        headers: Headers | Reason,
    ) -> None:
        source = _where(message)
        timestamp_ms = message.timestamp()[1]
        if result.outcome is Outcome.OK and not isinstance(key, Reason):
            assert not isinstance(headers, Reason)
            outgoing = self._ok_records(route, result, key, headers)
        else:
            outgoing = self._quarantine_records(route, message, result)
        if not self._exactly_once:
            self._tracker.track(*source)
            self._pending_parts[source] = len(outgoing)
        for topic, out_key, value, out_headers in outgoing:
            item = _Outgoing(topic, out_key, value, out_headers, route.name, source, timestamp_ms)
            self._produce(item)

    def _ok_records(
        self, route: RouteConfig, result: RecordResult, key: bytes | None, headers: Headers
    ) -> list[tuple[str, bytes | None, bytes | None, Headers]]:
        counts = json.dumps(result.entity_counts, sort_keys=True).encode()
        meta: Headers = [
            (CONFIG_HEADER, self._engine.config_hash.encode()),
            (ENTITIES_HEADER, counts),
        ]
        applied = Counter((r.entity_type, r.operator) for r in result.replacements)
        for (entity_type, operator), count in applied.items():
            self._metrics.entities.labels(route.name, entity_type, operator).inc(count)
        return [(route.output, key, result.output.encode(), [*headers, *meta])]

    def _quarantine_records(
        self, route: RouteConfig, message: Message, result: RecordResult
    ) -> list[tuple[str, bytes | None, bytes | None, Headers]]:
        """Metadata (and the payload only if allowed) to quarantine; a placeholder to output."""
        reason = (result.reason or Reason.DETECTION_ERROR).value
        self._metrics.quarantined.labels(route.name, reason).inc()
        topic, partition, offset = _where(message)
        meta: Headers = [
            (REASON_HEADER, reason.encode()),
            (CONFIG_HEADER, self._engine.config_hash.encode()),
            (SOURCE_HEADER, f"{topic}/{partition}/{offset}".encode()),
        ]
        payload = message.value() if self._config.quarantine.include_payload else None
        records: list[tuple[str, bytes | None, bytes | None, Headers]] = [
            (self._config.quarantine.topic, None, payload, meta)
        ]
        if self._config.quarantine.placeholder_to_output and result.output:
            records.append((route.output, None, result.output.encode(), meta[:2]))
        return records

    def _produce(self, item: _Outgoing) -> None:
        while True:
            try:
                self._producer.produce(
                    item.topic, value=item.value, key=item.key, headers=item.headers,
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
            is_output = item.topic != self._config.quarantine.topic
            if is_output:
                quarantined = any(h[0] == REASON_HEADER for h in item.headers)
                outcome = "quarantined" if quarantined else "ok"
                self._metrics.records_out.labels(item.route, outcome).inc()
                self._metrics.bytes_out.labels(item.route).inc(len(item.value or b""))
                if item.timestamp_ms > 0:
                    self._metrics.end_to_end_seconds.observe(
                        max(0.0, time.time() - item.timestamp_ms / 1000)
                    )
            if self._exactly_once:
                return
            left = self._pending_parts.get(item.source, 0) - 1
            if left > 0:
                self._pending_parts[item.source] = left
            else:
                self._pending_parts.pop(item.source, None)
                self._tracker.delivered(*item.source)

        return done

    # ------------------------------------------------------------------ commits

    def _commit(self, only: set[tuple[str, int]] | None = None, asynchronous: bool = True) -> None:
        self._producer.poll(0)
        offsets = self._tracker.committable(only)
        if not offsets:
            return
        partitions = [TopicPartition(t, p, o) for (t, p), o in offsets.items()]
        try:
            if asynchronous:  # marked committed by _on_commit, once the broker confirms
                self._consumer.commit(offsets=partitions, asynchronous=True)
            else:
                done = self._consumer.commit(offsets=partitions, asynchronous=False) or []
                self._on_commit(None, done)
        except KafkaException as exc:
            error = _error_of(exc)
            log.warning("commit_failed", code=error.name() if error else "unknown")
        self._last_commit = time.monotonic()

    def _commit_transaction(self, batch: list[Message]) -> None:
        """Commit the batch's outputs and input offsets as one transaction.

        librdkafka's transactional calls can wait for a lost coordinator for ever, past their
        own timeouts, even once the broker is back (confluentinc/librdkafka#5456, #5511), so
        each call runs under a deadline. If the transaction cannot be committed or aborted
        cleanly, the producer is replaced (see `_replace_producer`) and the batch is read again.
        """
        positions: dict[tuple[str, int], int] = {}
        for message in batch:
            topic, partition, offset = _where(message)
            positions[topic, partition] = max(positions.get((topic, partition), -1), offset + 1)
        offsets = [TopicPartition(t, p, o) for (t, p), o in positions.items()]
        group = self._consumer.consumer_group_metadata()
        producer = self._producer
        committed = self._bounded(
            lambda: producer.send_offsets_to_transaction(
                offsets, group, TRANSACTION_CALL_TIMEOUT_SECONDS
            ),
            lambda: producer.commit_transaction(TRANSACTION_CALL_TIMEOUT_SECONDS),
        )
        if committed == "done":
            return
        if (
            self._bounded(lambda: producer.abort_transaction(TRANSACTION_CALL_TIMEOUT_SECONDS))
            != "done"
        ):
            self._replace_producer()
        self._rewind()

    def _bounded(self, *calls: Callable[[], object]) -> CallOutcome:
        """Run transactional calls in turn, each under the deadline, until one fails or hangs.
        A fatal error (fenced) is raised: no abort is possible; run() stops the worker."""
        for call in calls:
            try:
                if not _within(TRANSACTION_CALL_DEADLINE_SECONDS, call, self._metrics.beat):
                    log.warning("transaction_call_hung")
                    return "hung"
            except KafkaException as exc:
                error = _error_of(exc)
                if _is_fatal(error):
                    raise
                log.warning("transaction_call_failed", code=error.name() if error else "unknown")
                return "failed"
        return "done"

    def _replace_producer(self) -> None:
        """A new producer with the same transactional id takes over: its init_transactions
        fences the old one and the broker aborts the open transaction.

        A producer in which a call may still be blocked is kept, never destroyed: destroying
        it would wait for that call. While the broker is away init is retried; a producer whose
        init hangs is set aside the same way, so no attempt inherits a stuck coordinator lookup.
        """
        log.error("producer_replaced", transactional_id=self._transactional_id)
        self._abandoned.append(self._producer)
        delay = RETRY_FIRST_DELAY_SECONDS
        producer: Producer | None = None
        while True:
            if producer is None:
                producer = make_producer(
                    self._config.kafka, self._config.pipeline, self._transactional_id
                )
            outcome = self._bounded(
                partial(producer.init_transactions, TRANSACTION_CALL_TIMEOUT_SECONDS)
            )
            if outcome == "done":
                self._producer = producer
                return
            if outcome == "hung":
                self._abandoned.append(producer)
                producer = None
            log.warning("init_transactions_retrying", retry_in=delay)
            self._metrics.beat()  # waiting on the broker is alive, not hung
            time.sleep(delay)
            delay = min(RETRY_MAX_DELAY_SECONDS, delay * 2)

    def _rewind(self) -> None:
        """After an abort, consume again from the committed offsets."""
        assignment = self._consumer.assignment()
        for committed in self._consumer.committed(assignment, timeout=30):
            offset = committed.offset if committed.offset >= 0 else 0
            self._consumer.seek(TopicPartition(committed.topic, committed.partition, offset))

    def _update_lag(self) -> None:
        lag: dict[str, int] = defaultdict(int)
        try:
            positions = self._consumer.position([TopicPartition(t, p) for t, p in self._assigned])
        except KafkaException:
            return
        for tp in positions:
            _, high = self._consumer.get_watermark_offsets(tp, cached=True)
            if high >= 0 and tp.offset >= 0:
                lag[self._routes[tp.topic].name] += max(0, high - tp.offset)
        for route in self._config.routes:
            self._metrics.consumer_lag.labels(route.name).set(lag.get(route.name, 0))
