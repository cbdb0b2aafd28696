"""Exactly-once on librdkafka: transactional ids, client calls under a deadline, and producer
replacement.

librdkafka's transactional calls can wait for a lost coordinator for ever, past their own
timeouts, even once the broker is back (confluentinc/librdkafka#5456, #5511), so each call runs
on a helper thread under a deadline. If a transaction can be neither committed nor aborted
cleanly, a new producer with the same transactional id takes over; the caller reads the batch
again. A worker waiting on the broker is alive, not hung: every wait calls a heartbeat.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Literal

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

from connectors.kafka.clients import KafkaRecord, error_of, next_offsets
from scrubber.config.pipeline import KafkaConfig
from scrubber.log import get_logger

INSTANCE_ID_ENV = "SCRUBBER_INSTANCE_ID"
# Every transactional call gets TRANSACTION_CALL_TIMEOUT_SECONDS; the deadline is longer, so only a
# call stuck past its own timeout hits it. Together they bound how long an outage stalls a batch.
TRANSACTION_CALL_TIMEOUT_SECONDS = 30
TRANSACTION_CALL_DEADLINE_SECONDS = TRANSACTION_CALL_TIMEOUT_SECONDS + 15.0
INIT_RETRY_FIRST_DELAY_SECONDS = 0.5
INIT_RETRY_MAX_DELAY_SECONDS = 30.0

log = get_logger("scrubber.pipeline")
CallOutcome = Literal["done", "failed", "hung"]
Beat = Callable[[], None]


def transactional_id_for(kafka: KafkaConfig, worker: int) -> str:
    """`{group}-{instance}-{worker}`: unique among live processes, stable across restarts."""
    instance = kafka.instance_id or os.environ.get(INSTANCE_ID_ENV) or socket.gethostname()
    return f"{kafka.group_id}-{instance}-{worker}"


def is_fatal(error: KafkaError | None) -> bool:
    """The producer can never be used again. `produce()` reports it as a plain `_FATAL`
    error whose own fatal flag is not set; the fenced cause comes with the next call."""
    if error is None:
        return False
    return error.fatal() or error.code() in (KafkaError._FATAL, KafkaError._FENCED)


def _within(seconds: float, call: Callable[[], object], beat: Beat) -> bool:
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


def bounded(*calls: Callable[[], object], beat: Beat) -> CallOutcome:
    """Run transactional calls in turn, each under the deadline, until one fails or hangs.
    A fatal error (fenced) is raised: no abort is possible; the caller stops the worker."""
    for call in calls:
        try:
            if not _within(TRANSACTION_CALL_DEADLINE_SECONDS, call, beat):
                log.warning("transaction_call_hung")
                return "hung"
        except KafkaException as exc:
            error = error_of(exc)
            if is_fatal(error):
                raise
            log.warning("transaction_call_failed", code=error.name() if error else "unknown")
            return "failed"
    return "done"


class TransactionalProducer:
    """One worker's transactional producer, replaced when a transaction cannot be finished.

    `producer` is the live one; read it again after `commit`, which may have replaced it.
    """

    def __init__(self, make: Callable[[], Producer], transactional_id: str, beat: Beat) -> None:
        self._make = make
        self._transactional_id = transactional_id
        self._beat = beat
        self.producer = make()
        self.producer.init_transactions(TRANSACTION_CALL_TIMEOUT_SECONDS)
        self._abandoned: list[Producer] = []  # hung producers, never destroyed (see _replace)

    def begin(self) -> None:
        self.producer.begin_transaction()

    def commit(self, batch: Sequence[KafkaRecord], consumer: Consumer) -> bool:
        """Commit the outputs produced since `begin` and the batch's input offsets as one
        transaction. False if it was aborted instead (and the producer perhaps replaced):
        nothing of it is visible, and the consumer is rewound to read the batch again."""
        offsets = [TopicPartition(t, p, o) for (t, p), o in next_offsets(batch).items()]
        group = consumer.consumer_group_metadata()
        producer = self.producer
        committed = bounded(
            lambda: producer.send_offsets_to_transaction(
                offsets, group, TRANSACTION_CALL_TIMEOUT_SECONDS
            ),
            lambda: producer.commit_transaction(TRANSACTION_CALL_TIMEOUT_SECONDS),
            beat=self._beat,
        )
        if committed == "done":
            return True
        aborted = bounded(
            lambda: producer.abort_transaction(TRANSACTION_CALL_TIMEOUT_SECONDS), beat=self._beat
        )
        if aborted != "done":
            self._replace()
        rewind(consumer)
        return False

    def _replace(self) -> None:
        """A new producer with the same transactional id takes over: its init_transactions
        fences the old one and the broker aborts the open transaction.

        A producer in which a call may still be blocked is kept, never destroyed: destroying
        it would wait for that call. While the broker is away init is retried; a producer whose
        init hangs is set aside the same way, so no attempt inherits a stuck coordinator lookup.
        """
        log.error("producer_replaced", transactional_id=self._transactional_id)
        self._abandoned.append(self.producer)
        delay = INIT_RETRY_FIRST_DELAY_SECONDS
        producer: Producer | None = None
        while True:
            if producer is None:
                producer = self._make()
            outcome = bounded(
                partial(producer.init_transactions, TRANSACTION_CALL_TIMEOUT_SECONDS),
                beat=self._beat,
            )
            if outcome == "done":
                self.producer = producer
                return
            if outcome == "hung":
                self._abandoned.append(producer)
                producer = None
            log.warning("init_transactions_retrying", retry_in=delay)
            self._beat()  # waiting on the broker is alive, not hung
            time.sleep(delay)
            delay = min(INIT_RETRY_MAX_DELAY_SECONDS, delay * 2)


def rewind(consumer: Consumer) -> None:
    """After an abort, consume again from the committed offsets."""
    assignment = consumer.assignment()
    for committed in consumer.committed(assignment, timeout=30):
        offset = committed.offset if committed.offset >= 0 else 0
        consumer.seek(TopicPartition(committed.topic, committed.partition, offset))
