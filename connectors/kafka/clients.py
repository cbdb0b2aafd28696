"""Kafka source and sink on confluent-kafka (librdkafka), and KafkaRecord: a consumed message
as our own frozen value, made once at the poll so that nothing behind it needs a broker.

Guarantees:
- The consumer never stores or commits an offset by itself (`enable.auto.offset.store` and
  `enable.auto.commit` are off); the pipeline commits only what was delivered.
- The producer is idempotent with acks=all, so retries neither lose nor duplicate within a
  session; with `exactly_once` it is transactional.
- A broker outage is waited out: librdkafka reconnects, and a delivery keeps retrying for
  `delivery_timeout_ms` before it is reported as failed (and then produced again).
- Kafka fidelity: output records are partitioned as the Java clients would (murmur2 of the key,
  `partitioner` in `kafka.settings` to choose another) and keep the input's timestamp.
- Static membership: each consumer's `group.instance.id` is the instance id plus the worker
  index, so a restarted worker takes its partitions back at once, without a rebalance.
- librdkafka's own log lines become structlog events (`librdkafka_log`), never plain text.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition

from scrubber.config.pipeline import KafkaConfig, PipelineConfig
from scrubber.errors import ConfigError
from scrubber.log import get_logger

log = get_logger("scrubber.pipeline")
INSTANCE_ID_ENV = "SCRUBBER_INSTANCE_ID"
DEFAULT_PARTITIONER = "murmur2_random"
# How often librdkafka reports its statistics (broker states: the readiness check's "broker
# reachable").
STATISTICS_INTERVAL_MS = 2_000
Assignment = Callable[[Consumer, list[TopicPartition]], None]
CommitResult = Callable[[KafkaError | None, list[TopicPartition]], None]
Statistics = Callable[[str], None]
# An open transaction of a crashed worker blocks read_committed readers until it times out (or
# the restarted worker, with the same transactional.id, aborts it at once).
TRANSACTION_TIMEOUT_MS = 60_000
Header = tuple[str, bytes | None]


@dataclass(frozen=True, slots=True)
class KafkaRecord:
    """One consumed record. Header values are bytes (a str value is UTF-8 encoded), in the order
    the broker gave them; `timestamp_ms` is the message's timestamp (0 or less when unset)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[Header, ...]
    timestamp_ms: int

    @classmethod
    def of(cls, message: Message) -> KafkaRecord:
        """The record of a consumed message (one without an error: topic and offset are set)."""
        topic, partition, offset = message.topic(), message.partition(), message.offset()
        assert topic is not None
        assert partition is not None
        assert offset is not None
        raw = message.headers() or []
        pairs = raw.items() if isinstance(raw, dict) else raw
        headers = tuple(
            (name, value.encode() if isinstance(value, str) else value) for name, value in pairs
        )
        return cls(
            topic, partition, offset, message.key(), message.value(), headers,
            message.timestamp()[1],
        )  # fmt: skip

    @property
    def where(self) -> tuple[str, int, int]:
        """Topic, partition and offset."""
        return self.topic, self.partition, self.offset

    @property
    def size(self) -> int:
        """Bytes of value (what batch limits and the bytes-in metric count)."""
        return len(self.value or b"")


def instance_of(kafka: KafkaConfig) -> str:
    """This process's name among the replicas of its group: `kafka.instance_id`, else
    $SCRUBBER_INSTANCE_ID, else the host name (the pod name in Kubernetes)."""
    return kafka.instance_id or os.environ.get(INSTANCE_ID_ENV) or socket.gethostname()


def _settings(
    kafka: KafkaConfig, defaults: dict[str, Any], forced: dict[str, Any]
) -> dict[str, Any]:
    """Our defaults, then the user's `kafka.settings`, then what the guarantees need."""
    settings: dict[str, Any] = {
        **defaults,
        "bootstrap.servers": kafka.bootstrap_servers,
        "client.id": kafka.client_id,
        **kafka.settings,
        "logger": kafka_logger(),
        **forced,
    }
    if kafka.sasl_password_env:
        password = os.environ.get(kafka.sasl_password_env)
        if password is None:
            raise ConfigError(
                f"kafka.sasl_password_env names {kafka.sasl_password_env}, which is not set"
            )
        settings["sasl.password"] = password
    return settings


def make_consumer(
    kafka: KafkaConfig,
    pipeline: PipelineConfig,
    *,
    worker: int,
    on_assign: Assignment,
    on_revoke: Assignment,
    on_lost: Assignment,
    on_commit: CommitResult,
    on_stats: Statistics,
    topics: list[str],
) -> Consumer:
    defaults = {
        # A batch may take a while under load; the group must not evict a busy worker.
        "max.poll.interval.ms": max(300_000, int(pipeline.shutdown_grace_seconds * 2000)),
        "session.timeout.ms": 10_000,
        "heartbeat.interval.ms": 2_000,
        # How long the broker may hold a fetch that found nothing new (librdkafka: 500 ms).
        # Measured at half load (bench_pipeline's latency run): p99 ~140 -> ~110 ms at 20 ms;
        # an idle consumer then sends ~50 empty fetches a second, which costs next to nothing.
        "fetch.wait.max.ms": 20,
    }
    forced = {
        "group.id": kafka.group_id,
        "group.instance.id": f"{instance_of(kafka)}-{worker}",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "isolation.level": "read_committed",
        "on_commit": on_commit,
        "statistics.interval.ms": STATISTICS_INTERVAL_MS,
        "stats_cb": on_stats,
    }
    consumer = Consumer(_settings(kafka, defaults, forced))
    consumer.subscribe(topics, on_assign=on_assign, on_revoke=on_revoke, on_lost=on_lost)
    return consumer


def make_producer(
    kafka: KafkaConfig,
    pipeline: PipelineConfig,
    transactional_id: str | None,
    on_stats: Statistics | None = None,
) -> Producer:
    defaults = {
        "linger.ms": 5,
        "compression.type": "lz4",
        "queue.buffering.max.messages": 1_000_000,
        "partitioner": DEFAULT_PARTITIONER,
    }
    forced: dict[str, Any] = {
        "enable.idempotence": True,
        "acks": "all",
        "message.timeout.ms": pipeline.delivery_timeout_ms,
    }
    if on_stats is not None:  # broker states for readiness, served by the producer's poll
        forced["statistics.interval.ms"] = STATISTICS_INTERVAL_MS
        forced["stats_cb"] = on_stats
    if transactional_id is not None:
        forced["transactional.id"] = transactional_id
        forced["transaction.timeout.ms"] = TRANSACTION_TIMEOUT_MS
        # librdkafka refuses a delivery timeout longer than the transaction's; an outage longer
        # than that aborts the transaction, and the pipeline rewinds and tries the batch again.
        forced["message.timeout.ms"] = min(pipeline.delivery_timeout_ms, TRANSACTION_TIMEOUT_MS)
    return Producer(_settings(kafka, defaults, forced))


def broker_reachable(statistics: str) -> bool:
    """From librdkafka's statistics JSON: is any real broker connection up?"""
    try:
        brokers = json.loads(statistics).get("brokers", {})
    except (ValueError, AttributeError):
        return False
    return any(
        b.get("state") == "UP" and b.get("source") != "logical"
        for b in brokers.values()
        if isinstance(b, dict)
    )


class _ToStructlog(logging.Handler):
    """librdkafka's log lines (facility, client name, message) as structlog events. They name
    brokers, topics and error codes, never a record's content."""

    _methods: ClassVar[dict[int, str]] = {
        logging.CRITICAL: "critical",
        logging.ERROR: "error",
        logging.WARNING: "warning",
        logging.INFO: "info",
    }

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args if isinstance(record.args, tuple) else ()
        facility, client, detail = (*(str(a) for a in args[:3]), "", "", "")[:3]
        method = self._methods.get(record.levelno, "debug")
        getattr(log, method)("librdkafka_log", facility=facility, client=client, detail=detail)


def kafka_logger() -> logging.Logger:
    """The logging.Logger handed to every client (confluent-kafka's `logger` setting)."""
    logger = logging.getLogger("scrubber.librdkafka")
    if not any(isinstance(h, _ToStructlog) for h in logger.handlers):
        logger.addHandler(_ToStructlog())
        logger.setLevel(logging.DEBUG)  # structlog's level filter decides
        logger.propagate = False
    return logger


def first_offsets(records: Iterable[KafkaRecord]) -> dict[tuple[str, int], int]:
    """The lowest offset of each partition in `records`: where to read them again."""
    first: dict[tuple[str, int], int] = {}
    for r in records:
        first[r.topic, r.partition] = min(first.get((r.topic, r.partition), r.offset), r.offset)
    return first


def next_offsets(records: Iterable[KafkaRecord]) -> dict[tuple[str, int], int]:
    """One past the highest offset of each partition in `records`: what to commit for them."""
    positions: dict[tuple[str, int], int] = {}
    for r in records:
        positions[r.topic, r.partition] = max(
            positions.get((r.topic, r.partition), -1), r.offset + 1
        )
    return positions


def error_of(exc: KafkaException) -> KafkaError | None:
    """The KafkaError a client call raised, if it carries one."""
    error = exc.args[0] if exc.args else None
    return error if isinstance(error, KafkaError) else None


def message_error(message: Message) -> KafkaError | None:
    """The message's error, with partition-EOF (not an error) ignored."""
    error = message.error()
    if error is None or error.code() == KafkaError._PARTITION_EOF:
        return None
    return error


class ConsumerFailed(KafkaException):
    """The consumer hit a fatal error and can never be used again (e.g. fenced as a static
    member: `FENCED_INSTANCE_ID`, which librdkafka also raises against itself when commits
    queued under its old member id arrive after it rejoined, as after a broker crash)."""


def records_of(messages: Iterable[Message]) -> list[KafkaRecord]:
    """What consume() returned, as records: an error is logged and skipped, a partition EOF
    skipped; a fatal error (reported as `_FATAL`, its cause in librdkafka's log) is raised as
    ConsumerFailed."""
    records: list[KafkaRecord] = []
    for message in messages:
        error = message_error(message)
        if error is not None and (error.fatal() or error.code() == KafkaError._FATAL):
            raise ConsumerFailed(error)
        if error is not None:
            log.warning("consume_error", code=error.name(), retriable=error.retriable())
        elif message.error() is None:
            records.append(KafkaRecord.of(message))
    return records


def commit_offsets(
    consumer: Consumer, offsets: dict[tuple[str, int], int], *, asynchronous: bool
) -> list[TopicPartition]:
    """Commit the next offset of each (topic, partition). Synchronously: the partitions the
    broker confirmed; asynchronously the consumer's on_commit reports them later. A failure is
    logged and returns [], to be tried again."""
    partitions = [TopicPartition(t, p, o) for (t, p), o in offsets.items()]
    try:
        if asynchronous:
            consumer.commit(offsets=partitions, asynchronous=True)
            return []
        return consumer.commit(offsets=partitions, asynchronous=False) or []
    except KafkaException as exc:
        error = error_of(exc)
        log.warning("commit_failed", code=error.name() if error else "unknown")
        return []


def lag_by_topic(
    consumer: Consumer, partitions: Iterable[tuple[str, int]]
) -> dict[str, int] | None:
    """Records behind the (cached) high watermark, summed per topic; None if the positions
    cannot be read now."""
    try:
        positions = consumer.position([TopicPartition(t, p) for t, p in partitions])
    except KafkaException:
        return None
    lag: dict[str, int] = defaultdict(int)
    for tp in positions:
        _, high = consumer.get_watermark_offsets(tp, cached=True)
        if high >= 0 and tp.offset >= 0:
            lag[tp.topic] += max(0, high - tp.offset)
    return lag
