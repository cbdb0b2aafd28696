"""Exactly-once mechanics without a broker: which errors stop the worker (fencing only), calls
under a deadline, the offsets a transaction commits, and the producer replaced when a
transaction cannot be finished, whatever the error, fatal ones included.

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
from connectors.kafka.transactions import (
    Fenced,
    TransactionalProducer,
    _within,
    bounded,
    is_fenced,
    rewind,
)

FENCED = KafkaError(KafkaError._FENCED, "fenced by a newer instance", fatal=True)
TRANSPORT = KafkaError(KafkaError._TRANSPORT, "Broker transport failure")
# What a broker killed mid-transaction can leave behind: fatal, but no other instance involved.
INVALID_STATE = KafkaError(KafkaError.INVALID_TXN_STATE, "invalid transaction state", fatal=True)


@pytest.mark.parametrize(
    ("error", "fenced"),
    [
        (None, False),
        (KafkaError(KafkaError._FATAL), False),  # produce(): the cause comes with the abort
        (FENCED, True),
        (KafkaError(KafkaError.PRODUCER_FENCED, "x", fatal=True), True),
        (KafkaError(KafkaError.INVALID_PRODUCER_EPOCH), True),
        (KafkaError(KafkaError._TRANSPORT, "x", fatal=True), False),
        (INVALID_STATE, False),
        (KafkaError(KafkaError._TIMED_OUT, "x", retriable=True), False),
        (KafkaError(KafkaError._STATE), False),
    ],
)
def test_only_fencing_stops_the_worker(error: KafkaError | None, fenced: bool) -> None:
    assert is_fenced(error) is fenced


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


def _raiser(error: int | KafkaError) -> Callable[[], None]:
    def call() -> None:
        raise KafkaException(KafkaError(error) if isinstance(error, int) else error)

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
    assert bounded(_raiser(INVALID_STATE), step("e"), beat=beat) == "failed"  # fatal, not fenced
    with pytest.raises(Fenced):  # fenced: nothing more can be done with this producer
        bounded(_raiser(FENCED), step("f"), beat=beat)
    assert ran == ["a", "b"]


class FakeProducer:
    """Answers the transactional calls; `fail` names calls that raise once (a transport error
    unless an error is given), `hang` calls that block until released."""

    def __init__(
        self, fail: set[str] | dict[str, KafkaError] | None = None, hang: set[str] | None = None
    ) -> None:
        self.fail = dict.fromkeys(fail, TRANSPORT) if isinstance(fail, set) else dict(fail or {})
        self.hang = hang or set()
        self.calls: list[str] = []
        self.release = threading.Event()
        self.sent: list[Any] = []

    def _call(self, name: str) -> None:
        self.calls.append(name)
        if name in self.hang:
            self.release.wait()
        if name in self.fail:
            raise KafkaException(self.fail.pop(name))  # fails once

    def produce(self) -> None:
        self._call("produce")

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


class NoBroker(FakeConsumer):
    """committed() times out `failures` times first, as while the broker is away."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    def committed(self, partitions: list[TopicPartition], timeout: float) -> list[TopicPartition]:
        if self.failures:
            self.failures -= 1
            raise KafkaException(KafkaError(KafkaError._TIMED_OUT))
        return super().committed(partitions, timeout)


def _producing(tx: TransactionalProducer) -> Callable[[], None]:
    """The batch's produce calls, made on whichever producer is live when they run."""

    def produce() -> None:
        tx.producer.produce()  # type: ignore[call-arg]

    return produce


@pytest.mark.usefixtures("short_deadline")
def test_a_committed_transaction_sends_the_next_offsets_of_the_batch() -> None:
    tx, made = _transactional(FakeProducer())
    consumer = FakeConsumer()
    batch = [_record(0, 4), _record(0, 6), _record(1, 2)]
    assert tx.transact(batch, consumer, _producing(tx)) is True
    [producer] = made
    assert producer.calls == ["init", "begin", "produce", "send_offsets", "commit"]
    [(offsets, group)] = producer.sent
    assert [(tp.topic, tp.partition, tp.offset) for tp in offsets] == [("in", 0, 7), ("in", 1, 3)]
    assert group == "group-metadata"
    assert consumer.seeks == []
    assert tx.producer is producer


@pytest.mark.usefixtures("short_deadline")
def test_a_failed_commit_is_aborted_and_the_consumer_rewound() -> None:
    tx, made = _transactional(FakeProducer(fail={"commit"}))
    consumer = FakeConsumer()
    assert tx.transact([_record(0, 4)], consumer, _producing(tx)) is False
    assert made[0].calls == ["init", "begin", "produce", "send_offsets", "commit", "abort"]
    assert tx.producer is made[0]  # aborted cleanly: kept
    assert consumer.seeks == [("in", 0, 12), ("in", 1, 0)]  # no committed offset: from 0


@pytest.mark.usefixtures("short_deadline")
def test_a_transaction_that_cannot_be_aborted_gets_a_new_producer() -> None:
    stuck = FakeProducer(hang={"commit"}, fail={"abort"})
    hangs_in_init = FakeProducer(hang={"init"})
    fails_init_once = FakeProducer(fail={"init"})
    tx, made = _transactional(stuck, hangs_in_init, fails_init_once)
    consumer = FakeConsumer()
    assert tx.transact([_record(0, 4)], consumer, _producing(tx)) is False
    assert tx.producer is fails_init_once  # init retried on the same producer after a failure
    assert fails_init_once.calls == ["init", "init"]
    assert made == [stuck, hangs_in_init, fails_init_once]
    # The hung producers are set aside, never destroyed (that would wait for the stuck call).
    assert tx._abandoned == [stuck, hangs_in_init]
    assert stuck.calls == ["init", "begin", "produce", "send_offsets", "commit", "abort"]
    assert consumer.seeks == [("in", 0, 12), ("in", 1, 0)]
    for producer in made:
        producer.release.set()


@pytest.mark.usefixtures("short_deadline")
def test_a_fatal_error_that_is_not_fencing_replaces_the_producer_and_carries_on() -> None:
    """The broker killed mid-transaction: send_offsets fails, then the abort reports a fatal
    INVALID_TXN_STATE. A new producer (same transactional id) takes over; nothing is raised."""
    broken = FakeProducer(fail={"send_offsets": TRANSPORT, "abort": INVALID_STATE})
    fresh = FakeProducer()
    tx, made = _transactional(broken, fresh)
    consumer = FakeConsumer()
    assert tx.transact([_record(0, 4)], consumer, _producing(tx)) is False
    assert tx.producer is fresh
    assert broken.calls == ["init", "begin", "produce", "send_offsets", "abort"]
    assert fresh.calls == ["init"]
    assert consumer.seeks == [("in", 0, 12), ("in", 1, 0)]
    assert tx.transact([_record(0, 12)], consumer, _producing(tx)) is True  # and carries on
    assert made == [broken, fresh]


@pytest.mark.usefixtures("short_deadline")
@pytest.mark.parametrize(
    ("abort_error", "replaced"),
    [(FENCED, None), (INVALID_STATE, True)],
    ids=["abort-says-fenced", "abort-says-fatal-not-fenced"],
)
def test_a_fatal_produce_is_judged_by_the_cause_the_abort_reports(
    abort_error: KafkaError, replaced: bool | None
) -> None:
    """produce() says only _FATAL; the abort tells fencing (raised) from the rest (replaced)."""
    broken = FakeProducer(fail={"produce": KafkaError(KafkaError._FATAL), "abort": abort_error})
    tx, made = _transactional(broken, FakeProducer())
    consumer = FakeConsumer()
    if replaced is None:
        with pytest.raises(Fenced):
            tx.transact([_record(0, 4)], consumer, _producing(tx))
        assert consumer.seeks == []  # stopping: nothing to read again here
        assert tx.producer is broken
    else:
        assert tx.transact([_record(0, 4)], consumer, _producing(tx)) is False
        assert tx.producer is made[1]
        assert consumer.seeks == [("in", 0, 12), ("in", 1, 0)]


@pytest.mark.usefixtures("short_deadline")
def test_fenced_at_commit_is_raised_without_an_abort_attempt() -> None:
    fenced = FakeProducer(fail={"commit": FENCED})
    tx, _ = _transactional(fenced)
    with pytest.raises(Fenced):
        tx.transact([_record(0, 4)], FakeConsumer(), _producing(tx))
    assert fenced.calls[-1] == "commit"


@pytest.mark.usefixtures("short_deadline")
def test_a_broker_missing_at_start_is_waited_for() -> None:
    tx, made = _transactional(FakeProducer(fail={"init": KafkaError(KafkaError._TIMED_OUT)}))
    assert made[0].calls == ["init", "init"]
    assert tx.producer is made[0]


def test_rewind_waits_for_the_committed_offsets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transactions.time, "sleep", lambda _s: None)
    beats: list[int] = []
    consumer = NoBroker(failures=3)
    rewind(consumer, lambda: beats.append(1))  # type: ignore[arg-type]
    assert consumer.seeks == [("in", 0, 12), ("in", 1, 0)]
    assert beats == [1, 1, 1]
    with pytest.raises(KafkaException):  # for ever unreadable: the worker stops, loses nothing
        rewind(NoBroker(failures=transactions.REWIND_ATTEMPTS))  # type: ignore[arg-type]
