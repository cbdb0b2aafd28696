"""Adaptive batching without a broker: wait only for the first record, hand the batch on as
soon as nothing more is ready, fill up when records keep coming; records of a partition taken
away mid-poll leave the batch."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from confluent_kafka import KafkaError, Message

from connectors.kafka.clients import ConsumerFailed
from scrubber.config import parse_config
from scrubber.pipeline.batches import owned, poll_batch
from scrubber.pipeline.failures import CONSUMER_REPLACEMENTS, Consumers
from tests.unit.pipeline.test_transactions import _record

LIMITS = parse_config(
    {"pipeline": {"batch_max_records": 5, "batch_max_wait_ms": 400, "batch_linger_ms": 0}}
).pipeline


class QueuedConsumer:
    """Holds `ready` messages now; poll() blocks only while none is ready (like librdkafka)."""

    def __init__(self, ready: list[Message], on_consume: list[list[Message]] | None = None):
        self.ready = ready
        self.arrivals = on_consume or []  # appended to `ready` before each consume() call
        self.calls: list[tuple[str, float]] = []

    def poll(self, timeout: float) -> Message | None:
        self.calls.append(("poll", timeout))
        if not self.ready:
            time.sleep(timeout)
            return None
        return self.ready.pop(0)

    def consume(self, num_messages: int, timeout: float) -> list[Message]:
        self.calls.append(("consume", timeout))
        if self.arrivals:
            self.ready += self.arrivals.pop(0)
        taken, self.ready = self.ready[:num_messages], self.ready[num_messages:]
        return taken


def _message(offset: int, partition: int = 0) -> Message:
    return Message(topic="in", partition=partition, offset=offset, value=b"v")


def _poll(consumer: QueuedConsumer, assigned: set[tuple[str, int]] | None = None) -> list[int]:
    batch = poll_batch(
        consumer, LIMITS, stop=threading.Event(), assigned=assigned or {("in", 0)},
        taken_away=set(), between=lambda: None,
    )  # fmt: skip
    return [r.offset for r in batch]


def test_a_lone_record_is_handed_on_at_once_not_after_the_wait() -> None:
    consumer = QueuedConsumer([_message(7)])
    started = time.monotonic()
    assert _poll(consumer) == [7]
    assert time.monotonic() - started < 0.2  # not the 400 ms batch_max_wait_ms
    assert consumer.calls == [("poll", consumer.calls[0][1]), ("consume", 0)]


def test_records_that_keep_coming_fill_the_batch_up_to_its_limit() -> None:
    arrivals = [[_message(1), _message(2)], [_message(3)], [_message(4), _message(5)]]
    consumer = QueuedConsumer([_message(0)], arrivals)
    assert _poll(consumer) == [0, 1, 2, 3, 4]  # batch_max_records
    assert consumer.ready == [_message(5)] or [m.offset() for m in consumer.ready] == [5]
    assert all(timeout == 0 for call, timeout in consumer.calls if call == "consume")


def test_nothing_ready_waits_the_whole_wait_and_gives_an_empty_batch() -> None:
    started = time.monotonic()
    assert _poll(QueuedConsumer([])) == []
    assert 0.35 < time.monotonic() - started < 1.0


def test_errors_and_partition_ends_are_not_records() -> None:
    eof = Message(topic="in", partition=0, offset=3, error=KafkaError(KafkaError._PARTITION_EOF))
    assert _poll(QueuedConsumer([eof, _message(3)])) == [3]


def test_records_of_a_partition_taken_away_leave_the_batch_and_duplicates_go() -> None:
    batch = [_record(0, 1), _record(1, 1), _record(0, 2), _record(0, 1)]
    assert [r.where for r in owned(batch, {("in", 0)})] == [("in", 0, 1), ("in", 0, 2)]


class Closable:
    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True


def test_a_failed_consumer_is_replaced_until_that_happens_too_often() -> None:
    """Self-fencing after a broker crash is a one-off: replace the consumer. Fenced with the
    broker fine, or again and again: another live process has our group.instance.id, so stop."""
    made: list[Closable] = []

    def make() -> Any:
        made.append(Closable())
        return made[-1]

    consumers = Consumers(make)
    failure = ConsumerFailed(KafkaError(KafkaError._FATAL))
    for _ in range(CONSUMER_REPLACEMENTS):
        consumers.replace(failure, after_outage=True)
    assert len(made) == CONSUMER_REPLACEMENTS + 1
    assert all(c.closed for c in made[:-1]) and consumers.consumer is made[-1]
    with pytest.raises(ConsumerFailed):
        consumers.replace(failure, after_outage=True)
    with pytest.raises(ConsumerFailed):  # fenced while the broker was fine: a live duplicate
        Consumers(make).replace(failure, after_outage=False)


class ArrivingConsumer(QueuedConsumer):
    """Records arrive over time: `schedule` holds (seconds after the first poll, message)."""

    def __init__(self, schedule: list[tuple[float, Message]]):
        super().__init__([])
        self.schedule = schedule
        self.started: float | None = None

    def _arrived(self) -> None:
        if self.started is None:
            self.started = time.monotonic()
        now = time.monotonic() - self.started
        while self.schedule and self.schedule[0][0] <= now:
            self.ready.append(self.schedule.pop(0)[1])

    def poll(self, timeout: float) -> Message | None:
        self.calls.append(("poll", timeout))
        self._arrived()
        end = time.monotonic() + timeout
        while not self.ready and time.monotonic() < end:
            time.sleep(0.001)
            self._arrived()
        return self.ready.pop(0) if self.ready else None

    def consume(self, num_messages: int, timeout: float) -> list[Message]:
        assert timeout == 0  # never librdkafka's wait-the-whole-timeout call
        self._arrived()
        return super().consume(num_messages, timeout)


def _poll_lingering(consumer: QueuedConsumer, linger_ms: int, max_records: int = 5) -> list[int]:
    limits = LIMITS.model_copy(
        update={"batch_linger_ms": linger_ms, "batch_max_records": max_records}
    )
    batch = poll_batch(
        consumer, limits, stop=threading.Event(), assigned={("in", 0)}, taken_away=set(),
        between=lambda: None,
    )  # fmt: skip
    return [r.offset for r in batch]


def test_records_arriving_within_the_linger_join_the_batch_and_later_ones_wait() -> None:
    schedule = [(0.0, _message(0)), (0.02, _message(1)), (0.04, _message(2)), (0.3, _message(3))]
    consumer = ArrivingConsumer(schedule)
    started = time.monotonic()
    assert _poll_lingering(consumer, 100) == [0, 1, 2]
    assert 0.09 < time.monotonic() - started < 0.25  # handed on when the linger is over
    assert [m.offset() for _, m in consumer.schedule] == [3]


def test_without_a_linger_only_what_is_ready_joins() -> None:
    consumer = ArrivingConsumer([(0.0, _message(0)), (0.02, _message(1))])
    started = time.monotonic()
    assert _poll_lingering(consumer, 0) == [0]
    assert time.monotonic() - started < 0.015


def test_a_full_batch_is_handed_on_before_the_linger_is_over() -> None:
    consumer = ArrivingConsumer([(0.0, _message(i)) for i in range(3)] + [(0.01, _message(3))])
    started = time.monotonic()
    assert _poll_lingering(consumer, 500, max_records=4) == [0, 1, 2, 3]
    assert time.monotonic() - started < 0.2  # not the 500 ms linger


def test_by_default_a_lone_record_is_handed_on_at_once() -> None:
    pipeline = parse_config({}).pipeline
    consumer = ArrivingConsumer([(0.0, _message(7)), (0.05, _message(8))])
    started = time.monotonic()
    batch = poll_batch(
        consumer, pipeline, stop=threading.Event(), assigned={("in", 0)}, taken_away=set(),
        between=lambda: None,
    )  # fmt: skip
    assert [r.offset for r in batch] == [7]
    assert time.monotonic() - started < 0.04  # did not wait for the record 50 ms later
