"""Exactly-once mechanics without a broker: which errors are fatal, calls under a deadline, the
offsets a transaction commits, and the producer replaced when a transaction cannot be finished.

The producer and consumer here are small stand-ins that answer the few calls the transaction
makes; the deadline and backoff are shortened so that a hung call is seen in about a second.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException, TopicPartition

from connectors.kafka import transactions
from connectors.kafka.clients import KafkaRecord, first_offsets, next_offsets
from connectors.kafka.transactions import TransactionalProducer, _within, bounded, is_fatal


@pytest.mark.parametrize(
    ("error", "fatal"),
    [
        (None, False),
        (KafkaError(KafkaError._FATAL), True),  # produce() reports it without the fatal flag
        (KafkaError(KafkaError._FENCED), True),
        (KafkaError(KafkaError._TRANSPORT, "x", fatal=True), True),
        (KafkaError(KafkaError._TRANSPORT), False),
        (KafkaError(KafkaError._TIMED_OUT, "x", retriable=True), False),
        (KafkaError(KafkaError._STATE), False),
    ],
)
def test_is_fatal(error: KafkaError | None, fatal: bool) -> None:
    assert is_fatal(error) is fatal


def _record(partition: int, offset: int) -> KafkaRecord:
    return KafkaRecord("in", partition, offset, None, b"v", (), 0)


def test_batch_offsets_first_to_read_again_and_next_to_commit() -> None:
    batch = [_record(0, 7), _record(1, 3), _record(0, 5), _record(0, 9), _record(1, 4)]
    assert first_offsets(batch) == {("in", 0): 5, ("in", 1): 3}
    assert next_offsets(batch) == {("in", 0): 10, ("in", 1): 5}


def test_within_returns_raises_or_gives_up_on_a_hung_call() -> None:
    beats: list[int] = []
    assert _within(5, lambda: None, lambda: beats.append(1)) is True
    with pytest.raises(KafkaException):
        _within(5, _raiser(KafkaError._TRANSPORT), lambda: beats.append(1))
    assert beats == []  # both returned at once
    release = threading.Event()
    assert _within(1.5, release.wait, lambda: beats.append(1)) is False
    release.set()
    assert beats == [1]  # alive while waiting: one beat a second


def _raiser(code: int) -> Callable[[], None]:
    def call() -> None:
        raise KafkaException(KafkaError(code))

    return call


@pytest.fixture
def short_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transactions, "TRANSACTION_CALL_DEADLINE_SECONDS", 1.5)
    monkeypatch.setattr(transactions, "INIT_RETRY_FIRST_DELAY_SECONDS", 0.01)


@pytest.mark.usefixtures("short_deadline")
def test_bounded_stops_at_the_first_call_that_fails_or_hangs() -> None:
    ran: list[str] = []

    def step(name: str) -> Callable[[], None]:
        return lambda: ran.append(name)

    def beat() -> None:
        pass

    assert bounded(step("a"), step("b"), beat=beat) == "done"
    assert bounded(_raiser(KafkaError._TRANSPORT), step("c"), beat=beat) == "failed"
    release = threading.Event()
    assert bounded(release.wait, step("d"), beat=beat) == "hung"
    release.set()
    with pytest.raises(KafkaException):  # fenced: nothing more can be done with this producer
        bounded(_raiser(KafkaError._FENCED), step("e"), beat=beat)
    assert ran == ["a", "b"]


class FakeProducer:
    """Answers the transactional calls; `fail` names calls that raise, `hang` calls that block."""

    def __init__(self, fail: set[str] | None = None, hang: set[str] | None = None) -> None:
        self.fail = fail or set()
        self.hang = hang or set()
        self.calls: list[str] = []
        self.release = threading.Event()
        self.sent: list[Any] = []

    def _call(self, name: str) -> None:
        self.calls.append(name)
        if name in self.hang:
            self.release.wait()
        if name in self.fail:
            self.fail.discard(name)  # fails once
            raise KafkaException(KafkaError(KafkaError._TRANSPORT))

    def init_transactions(self, _timeout: float) -> None:
        self._call("init")

    def begin_transaction(self) -> None:
        self._call("begin")

    def send_offsets_to_transaction(self, offsets: Any, group: Any, _timeout: float) -> None:
        self.sent.append((offsets, group))
        self._call("send_offsets")

    def commit_transaction(self, _timeout: float) -> None:
        self._call("commit")

    def abort_transaction(self, _timeout: float) -> None:
        self._call("abort")


class FakeConsumer:
    def __init__(self) -> None:
        self.seeks: list[tuple[str, int, int]] = []

    def consumer_group_metadata(self) -> str:
        return "group-metadata"

    def assignment(self) -> list[TopicPartition]:
        return [TopicPartition("in", 0), TopicPartition("in", 1)]

    def committed(self, partitions: list[TopicPartition], timeout: float) -> list[TopicPartition]:
        del timeout
        return [TopicPartition(p.topic, p.partition, 12 if p.partition == 0 else -1001)
                for p in partitions]  # fmt: skip

    def seek(self, tp: TopicPartition) -> None:
        self.seeks.append((tp.topic, tp.partition, tp.offset))


def _transactional(*producers: FakeProducer) -> tuple[TransactionalProducer, list[FakeProducer]]:
    made: list[FakeProducer] = []
    queue = list(producers)

    def make() -> Any:
        made.append(queue.pop(0))
        return made[-1]

    return TransactionalProducer(make, "g-pod-0", lambda: None), made


@pytest.mark.usefixtures("short_deadline")
def test_a_committed_transaction_sends_the_next_offsets_of_the_batch() -> None:
    tx, made = _transactional(FakeProducer())
    consumer = FakeConsumer()
    tx.begin()
    assert tx.commit([_record(0, 4), _record(0, 6), _record(1, 2)], consumer) is True
    [producer] = made
    assert producer.calls == ["init", "begin", "send_offsets", "commit"]
    [(offsets, group)] = producer.sent
    assert [(tp.topic, tp.partition, tp.offset) for tp in offsets] == [("in", 0, 7), ("in", 1, 3)]
    assert group == "group-metadata"
    assert consumer.seeks == []
    assert tx.producer is producer


@pytest.mark.usefixtures("short_deadline")
def test_a_failed_commit_is_aborted_and_the_consumer_rewound() -> None:
    tx, made = _transactional(FakeProducer(fail={"commit"}))
    consumer = FakeConsumer()
    assert tx.commit([_record(0, 4)], consumer) is False
    assert made[0].calls == ["init", "send_offsets", "commit", "abort"]
    assert tx.producer is made[0]  # aborted cleanly: kept
    assert consumer.seeks == [("in", 0, 12), ("in", 1, 0)]  # no committed offset: from 0


@pytest.mark.usefixtures("short_deadline")
def test_a_transaction_that_cannot_be_aborted_gets_a_new_producer() -> None:
    stuck = FakeProducer(hang={"commit"}, fail={"abort"})
    hangs_in_init = FakeProducer(hang={"init"})
    fails_init_once = FakeProducer(fail={"init"})
    tx, made = _transactional(stuck, hangs_in_init, fails_init_once)
    consumer = FakeConsumer()
    assert tx.commit([_record(0, 4)], consumer) is False
    assert tx.producer is fails_init_once  # init retried on the same producer after a failure
    assert fails_init_once.calls == ["init", "init"]
    assert made == [stuck, hangs_in_init, fails_init_once]
    # The hung producers are set aside, never destroyed (that would wait for the stuck call).
    assert tx._abandoned == [stuck, hangs_in_init]
    assert stuck.calls == ["init", "send_offsets", "commit", "abort"]
    assert consumer.seeks == [("in", 0, 12), ("in", 1, 0)]
    for producer in made:
        producer.release.set()
