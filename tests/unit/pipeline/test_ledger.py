"""The books balance without a broker: in = out{ok} + quarantined + reprocessed once nothing is
in flight, through deliveries (at-least-once), commits and aborts (exactly-once)."""

from __future__ import annotations

from prometheus_client import generate_latest

from connectors.kafka.clients import KafkaRecord
from scrubber.models import Reason
from scrubber.pipeline.ledger import Ledger
from scrubber.pipeline.metrics import PipelineMetrics
from scrubber.pipeline.offsets import OffsetTracker
from scrubber.pipeline.records import REASON_HEADER, Output, Shaped
from tests.integration.conftest import metric_value

OK = Shaped((Output("out", b"k", b"scrubbed", ()),))
FAILED = Shaped(
    (
        Output("q", b"k", None, ((REASON_HEADER, b"malformed_json"),)),
        Output("out", b"k", b"{placeholder}", ((REASON_HEADER, b"malformed_json"),)),
    ),
    Reason.MALFORMED_JSON,
)


def _records(*offsets: int) -> list[KafkaRecord]:
    return [KafkaRecord("in", 0, o, None, b"12345", (), 1_700_000_000_000) for o in offsets]


def _books(metrics: PipelineMetrics) -> dict[str, float]:
    text = generate_latest(metrics.registry).decode()
    names = ("in_total", "quarantined_total", "reprocessed_total", "in_flight")
    books = {name: metric_value(text, f"scrubber_records_{name}", route="r") for name in names}
    books["ok"] = metric_value(text, "scrubber_records_out_total", route="r", outcome="ok")
    books["placeholders"] = metric_value(
        text, "scrubber_records_out_total", route="r", outcome="quarantined"
    )
    return books


def _balanced(books: dict[str, float]) -> bool:
    return (
        books["in_total"]
        == books["ok"]
        + books["quarantined_total"]
        + books["reprocessed_total"]
        + books["in_flight"]
    )


def test_at_least_once_a_record_is_out_when_all_its_outputs_are_delivered() -> None:
    metrics, tracker = PipelineMetrics("h", "v"), OffsetTracker()
    ledger = Ledger(metrics, "q", tracker, exactly_once=False)
    records = _records(10, 11)
    ledger.taken("r", records)
    ledger.expect("r", records[0], OK)
    ledger.expect("r", records[1], FAILED)
    assert _books(metrics)["in_flight"] == 2
    ledger.delivered(("in", 0, 11))  # the quarantine copy: the record is not finished yet
    assert _books(metrics)["quarantined_total"] == 0
    assert tracker.committable() == {("in", 0): 10}
    ledger.delivered(("in", 0, 11))
    ledger.delivered(("in", 0, 10))
    ledger.delivered(("in", 0, 99))  # not ours (a partition revoked meanwhile): ignored
    books = _books(metrics)
    assert books == {
        "in_total": 2, "quarantined_total": 1, "reprocessed_total": 0, "in_flight": 0,
        "ok": 1, "placeholders": 1,
    }  # fmt: skip
    assert tracker.committable() == {("in", 0): 12}
    text = generate_latest(metrics.registry).decode()
    assert metric_value(text, "scrubber_bytes_out_total") == len(b"scrubbed{placeholder}")
    assert metric_value(text, "scrubber_end_to_end_seconds_count") == 2


def test_a_record_read_twice_while_its_first_copy_is_in_flight_is_counted_twice() -> None:
    metrics = PipelineMetrics("h", "v")
    ledger = Ledger(metrics, "q", OffsetTracker(), exactly_once=False)
    [record] = _records(5)
    for _ in range(2):
        ledger.taken("r", [record])
        ledger.expect("r", record, OK)
    ledger.delivered(record.where)
    ledger.delivered(record.where)
    books = _books(metrics)
    assert (books["in_total"], books["ok"], books["in_flight"]) == (2, 2, 0)


def test_exactly_once_an_aborted_batch_is_reprocessed_and_the_books_still_balance() -> None:
    metrics = PipelineMetrics("h", "v")
    ledger = Ledger(metrics, "q", OffsetTracker(), exactly_once=True)
    records = _records(0, 1, 2)

    def transaction() -> None:
        ledger.taken("r", records)
        for record, shaped in zip(records, (OK, OK, FAILED), strict=True):
            ledger.expect("r", record, shaped)

    transaction()
    ledger.delivered(records[0].where)  # exactly-once deliveries finish nothing
    assert _books(metrics)["ok"] == 0
    ledger.aborted()
    books = _books(metrics)
    assert (books["in_total"], books["reprocessed_total"], books["in_flight"]) == (3, 3, 0)
    assert books["ok"] == books["quarantined_total"] == 0
    transaction()  # read again
    ledger.committed()
    books = _books(metrics)
    assert books == {
        "in_total": 6, "quarantined_total": 1, "reprocessed_total": 3, "in_flight": 0,
        "ok": 2, "placeholders": 1,
    }  # fmt: skip
    assert _balanced(books)
