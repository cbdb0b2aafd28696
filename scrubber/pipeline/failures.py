"""What a worker does when Kafka fails it: a consumer left in a fatal state by a broker outage is
replaced (same group.instance.id); fencing, or failing too often, stops the worker, saying why."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from confluent_kafka import Consumer, KafkaError

from connectors.kafka.clients import ConsumerFailed, error_of
from connectors.kafka.transactions import is_fenced
from scrubber.log import get_logger
from scrubber.pipeline.metrics import PipelineMetrics

# A consumer in a fatal state right after the broker was away (librdkafka fences itself when
# commits queued under its old member id arrive after it rejoined) is replaced, same
# group.instance.id, at most this often in the window. Fenced while the broker was fine, or more
# often: another live process holds our instance id; stop, saying so.
BROKER_TROUBLE_SECONDS = 120.0
CONSUMER_REPLACEMENTS = 3
CONSUMER_REPLACEMENT_WINDOW_SECONDS = 300.0
FENCED_HINT = (
    "two live processes share a transactional id or group.instance.id: give each its own "
    "kafka.instance_id (or SCRUBBER_INSTANCE_ID)"
)

log = get_logger("scrubber.pipeline")


def log_stop(
    error: KafkaError | None, transactional_id: str | None, metrics: PipelineMetrics
) -> None:
    code = error.name() if error else "unknown"
    if is_fenced(error):
        # A newer producer holds our transactional id. Our open transaction is aborted by the
        # broker and nothing of it was committed, so stopping loses nothing; carrying on would
        # fence the other process back in turn.
        metrics.producer_fenced.inc()
        log.error(
            "producer_fatal_error", code=code, transactional_id=transactional_id, hint=FENCED_HINT
        )
    else:
        log.error("kafka_fatal_error", code=code, reason=error.str() if error else "")


class Consumers:
    """The worker's consumer, replaced by a new one (same group.instance.id) when it fell into
    a fatal state after a broker outage; otherwise, or more than CONSUMER_REPLACEMENTS times in
    the window, another live process holds our instance id: the error is raised, the worker
    stops."""

    def __init__(self, make: Callable[[], Consumer]) -> None:
        self._make = make
        self._failures: list[float] = []
        self.consumer = make()

    def replace(self, exc: ConsumerFailed, *, after_outage: bool) -> None:
        now = time.monotonic()
        window = CONSUMER_REPLACEMENT_WINDOW_SECONDS
        self._failures = [t for t in self._failures if now - t < window] + [now]
        if not after_outage or len(self._failures) > CONSUMER_REPLACEMENTS:
            log.error("consumer_fatal_error", hint=FENCED_HINT)
            raise exc
        error = error_of(exc)
        log.error("consumer_replaced", code=error.name() if error else "unknown")
        closing = threading.Thread(target=self.consumer.close, name="consumer-close", daemon=True)
        closing.start()
        closing.join(10.0)  # a close that hangs is left behind, as a hung producer is
        self.consumer = self._make()
