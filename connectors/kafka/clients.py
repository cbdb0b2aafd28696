"""Kafka source and sink on confluent-kafka (librdkafka).

Guarantees:
- The consumer never stores or commits an offset by itself (`enable.auto.offset.store` and
  `enable.auto.commit` are off); the pipeline commits only what was delivered.
- The producer is idempotent with acks=all, so retries neither lose nor duplicate within a
  session; with `exactly_once` it is transactional.
- A broker outage is waited out: librdkafka reconnects, and a delivery keeps retrying for
  `delivery_timeout_ms` before it is reported as failed (and then produced again).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from confluent_kafka import Consumer, KafkaError, Message, Producer, TopicPartition

from scrubber.config.pipeline import KafkaConfig, PipelineConfig
from scrubber.errors import ConfigError

Assignment = Callable[[Consumer, list[TopicPartition]], None]
CommitResult = Callable[[KafkaError | None, list[TopicPartition]], None]
# An open transaction of a crashed worker blocks read_committed readers until it times out (or
# the restarted worker, with the same transactional.id, aborts it at once).
TRANSACTION_TIMEOUT_MS = 60_000


def _common(kafka: KafkaConfig) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "bootstrap.servers": kafka.bootstrap_servers,
        "client.id": kafka.client_id,
        **kafka.settings,
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
    on_assign: Assignment,
    on_revoke: Assignment,
    on_lost: Assignment,
    on_commit: CommitResult,
    topics: list[str],
) -> Consumer:
    settings = {
        **_common(kafka),
        "group.id": kafka.group_id,
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "isolation.level": "read_committed",
        # A batch may take a while under load; the group must not evict a busy worker.
        "max.poll.interval.ms": max(300_000, int(pipeline.shutdown_grace_seconds * 2000)),
        "session.timeout.ms": 10_000,
        "heartbeat.interval.ms": 2_000,
        "on_commit": on_commit,
    }
    consumer = Consumer(settings)
    consumer.subscribe(topics, on_assign=on_assign, on_revoke=on_revoke, on_lost=on_lost)
    return consumer


def make_producer(
    kafka: KafkaConfig, pipeline: PipelineConfig, transactional_id: str | None
) -> Producer:
    settings = {
        **_common(kafka),
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 5,
        "compression.type": "lz4",
        "message.timeout.ms": pipeline.delivery_timeout_ms,
        "queue.buffering.max.messages": 1_000_000,
    }
    if transactional_id is not None:
        settings["transactional.id"] = transactional_id
        settings["transaction.timeout.ms"] = TRANSACTION_TIMEOUT_MS
        # librdkafka refuses a delivery timeout longer than the transaction's; an outage longer
        # than that aborts the transaction, and the pipeline rewinds and tries the batch again.
        settings["message.timeout.ms"] = min(pipeline.delivery_timeout_ms, TRANSACTION_TIMEOUT_MS)
    return Producer(settings)


def is_fatal(error: KafkaError | None) -> bool:
    return error is not None and error.fatal()


def message_error(message: Message) -> KafkaError | None:
    """The message's error, with partition-EOF (not an error) ignored."""
    error = message.error()
    if error is None or error.code() == KafkaError._PARTITION_EOF:
        return None
    return error
