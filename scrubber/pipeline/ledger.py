"""The books of one worker: every record counted in once per read, and out exactly once.

A record is counted in (`scrubber_records_in_total{route}`) when its batch is handed on, and is
then in flight until it is *finished*: at-least-once, when every record produced for it was
delivered; exactly-once, when its transaction committed. A finished record counts once, as
`scrubber_records_out_total{outcome="ok"}` (scrubbed) or as
`scrubber_records_quarantined_total{reason}` (failed closed; its placeholder, if any, also counts
as `records_out{outcome="quarantined"}`). A record of an aborted transaction is not finished:
it counts as `scrubber_records_reprocessed_total{route}` and will be read, and counted in,
again. So, per route, once nothing is in flight:

    in = out{outcome="ok"} + quarantined + reprocessed

and `scrubber_records_in_flight{route}` is the difference at any moment. Bytes out, the
end-to-end latency and the entity counts are counted when a record finishes, too, so an
aborted batch is never counted twice.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from connectors.kafka.clients import KafkaRecord
from scrubber.pipeline.metrics import PipelineMetrics
from scrubber.pipeline.offsets import OffsetTracker
from scrubber.pipeline.records import Shaped, delivered_outcome


@dataclass(slots=True)
class _Entry:
    route: str
    shaped: Shaped
    timestamp_ms: int
    parts: int  # deliveries still awaited (at-least-once)


@dataclass
class Ledger:
    """Counts records through the metrics (see the module docstring). At-least-once it also
    tells the offset tracker which offsets are done."""

    metrics: PipelineMetrics
    quarantine_topic: str
    tracker: OffsetTracker
    exactly_once: bool
    # At-least-once: by source; a list, as a partition lost and regained is read again while
    # the first copy's deliveries may still be awaited.
    _pending: dict[tuple[str, int, int], list[_Entry]] = field(default_factory=dict)
    _transaction: list[_Entry] = field(default_factory=list)

    def taken(self, route: str, records: Sequence[KafkaRecord]) -> None:
        """A route's records of a batch are handed on: counted in, now in flight."""
        self.metrics.records_in.labels(route).inc(len(records))
        self.metrics.bytes_in.labels(route).inc(sum(r.size for r in records))
        self.metrics.in_flight.labels(route).inc(len(records))

    def expect(self, route: str, record: KafkaRecord, shaped: Shaped) -> None:
        """What the record turned into, before it is produced."""
        entry = _Entry(route, shaped, record.timestamp_ms, len(shaped.outputs))
        if self.exactly_once:
            self._transaction.append(entry)
            return
        self.tracker.track(*record.where)
        self._pending.setdefault(record.where, []).append(entry)

    def delivered(self, source: tuple[str, int, int]) -> None:
        """At-least-once: one record produced for the input at `source` was delivered."""
        entries = self._pending.get(source)
        if not entries:
            return
        entry = entries[0]
        entry.parts -= 1
        if entry.parts > 0:
            return
        entries.pop(0)
        if not entries:
            del self._pending[source]
        self._finish(entry)
        self.tracker.delivered(*source)

    def committed(self) -> None:
        """Exactly-once: the open transaction committed; its records are finished."""
        for entry in self._transaction:
            self._finish(entry)
        self._transaction.clear()

    def aborted(self) -> None:
        """Exactly-once: the open transaction was aborted; its records will be read again."""
        by_route = Counter(entry.route for entry in self._transaction)
        for route, count in by_route.items():
            self.metrics.reprocessed.labels(route).inc(count)
            self.metrics.in_flight.labels(route).dec(count)
        self._transaction.clear()

    def _finish(self, entry: _Entry) -> None:
        m, route, shaped = self.metrics, entry.route, entry.shaped
        m.in_flight.labels(route).dec()
        if shaped.reason is None:
            for (entity_type, operator), count in shaped.entities.items():
                m.entities.labels(route, entity_type, operator).inc(count)
        else:
            m.quarantined.labels(route, shaped.reason.value).inc()
        now = time.time()
        for output in shaped.outputs:
            outcome = delivered_outcome(output, self.quarantine_topic)
            if outcome is None:  # the quarantine copy is not output
                continue
            m.records_out.labels(route, outcome).inc()
            m.bytes_out.labels(route).inc(len(output.value or b""))
            if entry.timestamp_ms > 0:
                m.end_to_end_seconds.observe(max(0.0, now - entry.timestamp_ms / 1000))
