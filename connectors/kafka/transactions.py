"""Exactly-once on librdkafka: transactional ids, one batch per transaction, client calls under a
deadline, and producer replacement.

Only fencing stops the process: another live instance holds our transactional id, and carrying
on would fence it back in turn. Every other failure, abortable or fatal (a broker killed
mid-transaction can leave the producer in a fatal state, e.g. INVALID_TXN_STATE or an
idempotence sequence gap), ends in an abort if one is possible, else in a new producer under the
same transactional id; either way the consumer is rewound to the committed offsets and the batch
is read again.

librdkafka's transactional calls can wait for a lost coordinator for ever, past their own
timeouts, even once the broker is back (confluentinc/librdkafka#5456, #5511), so each call runs
on a helper thread under a deadline. A worker waiting on the broker is alive, not hung: every
wait calls a heartbeat.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Literal

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

from connectors.kafka.clients import KafkaRecord, error_of, instance_of, next_offsets
from scrubber.config.pipeline import KafkaConfig
from scrubber.log import get_logger

# Every transactional call gets TRANSACTION_CALL_TIMEOUT_SECONDS; the deadline is longer, so only a
# call stuck past its own timeout hits it. Together they bound how long an outage stalls a batch.
TRANSACTION_CALL_TIMEOUT_SECONDS = 30
TRANSACTION_CALL_DEADLINE_SECONDS = TRANSACTION_CALL_TIMEOUT_SECONDS + 15.0
INIT_RETRY_FIRST_DELAY_SECONDS = 0.5
INIT_RETRY_MAX_DELAY_SECONDS = 30.0
REWIND_ATTEMPTS = 20
# Another live producer (or an older epoch of ours) holds the transactional id.
FENCED_CODES = frozenset(
    {KafkaError._FENCED, KafkaError.PRODUCER_FENCED, KafkaError.INVALID_PRODUCER_EPOCH}
)

log = get_logger("scrubber.pipeline")
CallOutcome = Literal["done", "failed", "hung"]
Beat = Callable[[], None]


def transactional_id_for(kafka: KafkaConfig, worker: int) -> str:
    """`{group}-{instance}-{worker}`: unique among live processes, stable across restarts."""
    return f"{kafka.group_id}-{instance_of(kafka)}-{worker}"


def is_fenced(error: KafkaError | None) -> bool:
    """Another instance took our transactional id: the one error that stops the worker.
    `produce()` reports a fatal state as a plain `_FATAL`; its cause comes with the next
    transactional call (the abort), which is where fencing is recognised then."""
    return error is not None and error.code() in FENCED_CODES


class Fenced(KafkaException):
    """Raised when the producer was fenced: the worker must stop (see the module docstring)."""


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


def _raise_if_fenced(exc: KafkaException) -> KafkaError | None:
    error = error_of(exc)
    if is_fenced(error):
        raise Fenced(error) from exc
    return error


def bounded(*calls: Callable[[], object], beat: Beat) -> CallOutcome:
    """Run transactional calls in turn, each under the deadline, until one fails or hangs.
    Fencing is raised (as `Fenced`); any other error, fatal or not, is a "failed" call."""
    for call in calls:
        try:
            if not _within(TRANSACTION_CALL_DEADLINE_SECONDS, call, beat):
                log.warning("transaction_call_hung")
                return "hung"
        except KafkaException as exc:
            error = _raise_if_fenced(exc)
            log.warning(
                "transaction_call_failed",
                code=error.name() if error else "unknown",
                fatal=bool(error and error.fatal()),
            )
            return "failed"
    return "done"


class TransactionalProducer:
    """One worker's transactional producer, replaced when a transaction cannot be finished.

    `producer` is the live one; read it again after `transact`, which may have replaced it.
    """

    def __init__(self, make: Callable[[], Producer], transactional_id: str, beat: Beat) -> None:
        self._make = make
        self._transactional_id = transactional_id
        self._beat = beat
        self._abandoned: list[Producer] = []  # hung producers, never destroyed (see _replace)
        self.producer = self._initialised(make())

    def transact(
        self, batch: Sequence[KafkaRecord], consumer: Consumer, produce: Callable[[], None]
    ) -> bool:
        """One transaction: begin, `produce` the batch's outputs, send the batch's input offsets,
        commit. False if it was aborted instead (the producer perhaps replaced): nothing of it
        is visible, and the consumer is rewound to read the batch again. Raises only `Fenced`
        (and, if the committed offsets stay unreadable, the consumer's error)."""
        try:
            self.producer.begin_transaction()
            produce()
        except KafkaException as exc:
            error = _raise_if_fenced(exc)
            log.warning("transaction_failed", code=error.name() if error else "unknown")
            self._abort_or_replace()
            rewind(consumer, self._beat)
            return False
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
        self._abort_or_replace()
        rewind(consumer, self._beat)
        return False

    def _abort_or_replace(self) -> None:
        """Abort the open transaction; a producer that cannot abort (hung, or in a fatal state:
        the abort then reports the cause, fencing included) is replaced."""
        producer = self.producer
        aborted = bounded(
            lambda: producer.abort_transaction(TRANSACTION_CALL_TIMEOUT_SECONDS), beat=self._beat
        )
        if aborted != "done":
            self._abandoned.append(producer)
            self._replace()

    def _replace(self) -> None:
        """A new producer with the same transactional id takes over: its init_transactions
        fences the old one and the broker aborts the open transaction."""
        log.error("producer_replaced", transactional_id=self._transactional_id)
        self.producer = self._initialised(None)

    def _initialised(self, producer: Producer | None) -> Producer:
        """`producer` (or a new one) once init_transactions succeeded.

        A producer in which a call may still be blocked is kept, never destroyed: destroying
        it would wait for that call. While the broker is away init is retried; a producer whose
        init hangs is set aside the same way, so no attempt inherits a stuck coordinator lookup.
        """
        delay = INIT_RETRY_FIRST_DELAY_SECONDS
        while True:
            if producer is None:
                producer = self._make()
            outcome = bounded(
                partial(producer.init_transactions, TRANSACTION_CALL_TIMEOUT_SECONDS),
                beat=self._beat,
            )
            if outcome == "done":
                return producer
            if outcome == "hung":
                self._abandoned.append(producer)
                producer = None
            log.warning("init_transactions_retrying", retry_in=delay)
            self._beat()  # waiting on the broker is alive, not hung
            time.sleep(delay)
            delay = min(INIT_RETRY_MAX_DELAY_SECONDS, delay * 2)


def rewind(consumer: Consumer, beat: Beat = lambda: None) -> None:
    """After an abort, consume again from the committed offsets (retried while the broker
    cannot say what they are: carrying on from the current position would skip the batch)."""
    assignment = consumer.assignment()
    for attempt in range(REWIND_ATTEMPTS):
        try:
            found = consumer.committed(assignment, timeout=TRANSACTION_CALL_TIMEOUT_SECONDS)
            break
        except KafkaException as exc:
            error = error_of(exc)
            log.warning("rewind_retrying", code=error.name() if error else "unknown")
            if attempt == REWIND_ATTEMPTS - 1:
                raise
            beat()
            time.sleep(1.0)
    for committed in found:
        offset = committed.offset if committed.offset >= 0 else 0
        consumer.seek(TopicPartition(committed.topic, committed.partition, offset))
