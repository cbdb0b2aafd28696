"""Smoke tests for the real services that scripts/kafka.sh and scripts/postgres.sh start.

They prove the broker settings suit the rest of the suite (idempotent producer with acks=all,
consumer groups on a one-node cluster) and that the token vault's database accepts our DSN.
They never skip: an unreachable service is a failed test that says how to start it.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import psycopg
import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer
from confluent_kafka.admin import AdminClient, NewTopic

pytestmark = pytest.mark.integration

KAFKA_BOOTSTRAP = os.environ.get("SCRUBBER_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
PG_DSN = os.environ.get(
    "SCRUBBER_PG_DSN", "postgresql://scrubber:scrubber@127.0.0.1:55432/scrubber"
)
HOW_TO_START = "start the services with `make services-up`"
MESSAGE_COUNT = 100


def _admin() -> AdminClient:
    admin = AdminClient({"bootstrap.servers": KAFKA_BOOTSTRAP})
    try:
        admin.list_topics(timeout=10)
    except KafkaException as exc:
        pytest.fail(f"Kafka broker at {KAFKA_BOOTSTRAP} is unreachable ({exc}); {HOW_TO_START}")
    return admin


@pytest.fixture
def fresh_topic() -> Iterator[str]:
    """A new one-partition topic, deleted again after the test."""
    admin = _admin()
    topic = f"scrubber-it-services-{uuid.uuid4().hex[:12]}"
    futures = admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    futures[topic].result(timeout=30)
    yield topic
    admin.delete_topics([topic])[topic].result(timeout=30)


def _produce(topic: str, payloads: list[bytes]) -> None:
    producer = Producer(
        {"bootstrap.servers": KAFKA_BOOTSTRAP, "enable.idempotence": True, "acks": "all"}
    )
    failures: list[KafkaError] = []

    def on_delivery(err: KafkaError | None, _msg: Message) -> None:
        if err is not None:
            failures.append(err)

    for index, payload in enumerate(payloads):
        producer.produce(topic, value=payload, key=str(index).encode(), on_delivery=on_delivery)
    unsent = producer.flush(30)
    assert unsent == 0, f"{unsent} messages still queued after 30 s"
    assert failures == [], f"delivery failed: {failures[:3]}"


def _consume_all(topic: str, expected: int, timeout_s: float = 60.0) -> list[bytes]:
    """Read until `expected` messages arrived, then a little longer so extras would show."""
    consumer = Consumer(
        {
            "bootstrap.servers": KAFKA_BOOTSTRAP,
            "group.id": f"scrubber-it-services-{uuid.uuid4().hex[:12]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    received: list[bytes] = []
    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + timeout_s
        while len(received) < expected and time.monotonic() < deadline:
            received.extend(_values(consumer.consume(num_messages=500, timeout=1.0)))
        received.extend(_values(consumer.consume(num_messages=500, timeout=2.0)))
    finally:
        consumer.close()
    return received


def _values(messages: list[Message]) -> list[bytes]:
    values: list[bytes] = []
    for message in messages:
        error = message.error()
        if error is not None:
            raise KafkaException(error)
        value = message.value()
        assert value is not None
        values.append(value)
    return values


def test_kafka_round_trip_counts_every_message(fresh_topic: str) -> None:
    payloads = [f"synthetic message {index}".encode() for index in range(MESSAGE_COUNT)]

    _produce(fresh_topic, payloads)
    received = _consume_all(fresh_topic, expected=MESSAGE_COUNT)

    assert len(received) == MESSAGE_COUNT
    assert received == payloads  # one partition: order and content survive


def test_postgres_answers_select_one() -> None:
    try:
        with psycopg.connect(PG_DSN, connect_timeout=10) as conn:
            row = conn.execute("select 1").fetchone()
    except psycopg.OperationalError as exc:
        server = urlsplit(PG_DSN)  # the message names host and port, never the password
        pytest.fail(
            f"PostgreSQL at {server.hostname}:{server.port} (SCRUBBER_PG_DSN) is unreachable"
            f" ({exc}); {HOW_TO_START}"
        )
    assert row == (1,)
