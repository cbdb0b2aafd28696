"""The endpoints without a broker: readiness (loop running, partitions, broker reachable), the
worker's HTTP server, and the parent's one endpoint summing its workers."""

from __future__ import annotations

import gc
import time
import urllib.error
import urllib.request
import warnings

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from scrubber.pipeline import metrics as metrics_module
from scrubber.pipeline.aggregate import (
    WorkerBoard,
    ask,
    exposition,
    merge,
    parent_registry,
    serve_workers,
)
from scrubber.pipeline.metrics import PipelineMetrics, serve_metrics
from tests.integration.conftest import metric_value


def _get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        with exc:  # an HTTPError holds the connection open until closed
            return exc.code, exc.read().decode()


def test_ready_only_when_running_with_partitions_and_the_broker_answering(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    readiness = PipelineMetrics("h", "v").readiness
    assert readiness.check() == (False, "starting")
    readiness.running = True
    assert readiness.check() == (False, "no partitions assigned")
    readiness.partitions = 2
    assert readiness.check() == (False, "broker unreachable")  # no report yet
    readiness.broker(True)
    assert readiness.check() == (True, "ready")
    assert not readiness.broker_lost_within(60)
    readiness.broker(False)
    assert readiness.check() == (False, "broker unreachable")
    assert readiness.broker_lost_within(60)
    readiness.broker(True)
    later = time.monotonic() + metrics_module.BROKER_REPORT_STALE_SECONDS + 1
    monkeypatch.setattr(metrics_module.time, "monotonic", lambda: later)
    assert readiness.check() == (False, "broker unreachable")  # the loop stopped reporting


def test_one_client_seeing_the_broker_gone_is_enough_to_be_unready(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """At-least-once with deliveries stalled, the loop serves only the producer: its report
    (broker gone) counts although the consumer's last report (broker up) is still fresh."""
    readiness = PipelineMetrics("h", "v").readiness
    readiness.running, readiness.partitions = True, 1
    readiness.broker(True, "consumer")
    readiness.broker(True, "producer")
    assert readiness.check() == (True, "ready")
    readiness.broker(False, "producer")
    assert readiness.check() == (False, "broker unreachable")
    readiness.broker(True, "producer")
    assert readiness.check() == (True, "ready")
    # The producer keeps reporting, the consumer is no longer served: stale is not ready.
    later = time.monotonic() + metrics_module.BROKER_REPORT_STALE_SECONDS + 1
    monkeypatch.setattr(metrics_module.time, "monotonic", lambda: later)
    readiness.broker(True, "producer")
    assert readiness.check() == (False, "broker unreachable")


def test_the_parent_sums_its_workers_and_is_ready_only_when_all_are() -> None:
    made = [PipelineMetrics("cafe", "1.0"), PipelineMetrics("cafe", "1.0")]
    servers = [serve_metrics(m, 0, host="127.0.0.1") for m in made]
    ports = {i: s.server_address[1] for i, s in enumerate(servers)}
    for i, worker in enumerate(made):
        worker.records_in.labels("r").inc(10 * (i + 1))
        worker.end_to_end_seconds.observe(0.01)
        worker.partitions(i)  # worker 0 holds none
        worker.readiness.running = True
        worker.readiness.broker(True)
    board = WorkerBoard(2)
    for index, worker_port in ports.items():
        board.heard("port", index, worker_port)
    parent = serve_workers(0, board, lambda: True, host="127.0.0.1")
    port = parent.server_address[1]
    try:
        status, text = _get(port, "/metrics")
        assert status == 200
        assert metric_value(text, "scrubber_records_in_total", route="r") == 30
        assert metric_value(text, "scrubber_end_to_end_seconds_count") == 2
        assert metric_value(text, "scrubber_end_to_end_seconds_bucket", le="0.01") == 2
        assert metric_value(text, "scrubber_assigned_partitions") == 1
        assert metric_value(text, "scrubber_build_info", config_hash="cafe") == 1
        assert metric_value(text, "scrubber_workers", state="reporting") == 2
        assert _get(port, "/readyz") == (503, "no partitions assigned\n")
        made[0].partitions(1)
        assert _get(port, "/readyz") == (200, "ready\n")
        assert _get(port, "/healthz")[0] == 200
        servers[1].shutdown()  # a worker gone
        servers[1].server_close()
        assert _get(port, "/healthz")[0] == 503
        assert _get(port, "/readyz")[0] == 503
        assert metric_value(_get(port, "/metrics")[1], "scrubber_workers", state="reporting") == 1
    finally:
        for server in (parent, servers[0]):
            server.shutdown()
            server.server_close()


def test_merge_keeps_families_and_labels_and_does_not_sum_created_times() -> None:
    one, two = PipelineMetrics("h", "v"), PipelineMetrics("h", "v")
    one.quarantined.labels("r", "too_large").inc()
    two.quarantined.labels("r", "too_large").inc(2)
    two.quarantined.labels("r", "invalid_utf8").inc()
    texts = [generate_latest(m.registry).decode() for m in (one, two)]
    text = exposition(merge([(str(i), t) for i, t in enumerate(texts)])).decode()
    assert metric_value(text, "scrubber_records_quarantined_total", reason="too_large") == 3
    assert metric_value(text, "scrubber_records_quarantined_total", reason="invalid_utf8") == 1
    created = [line for line in text.splitlines() if line.startswith("scrubber_records_in_created")]
    single = [line for line in texts[0].splitlines() if line.startswith("scrubber_records_in_c")]
    assert len(created) == len(single)  # one series each, the earliest time, not a sum
    assert "# TYPE scrubber_records_quarantined_total counter" in text


def _samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {
        tuple(sorted(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name
    }


def _process_text(cpu: float, rss: float, fds: float, max_fds: float, start: float) -> str:
    return (
        "# TYPE process_cpu_seconds_total counter\n"
        f"process_cpu_seconds_total {cpu}\n"
        "# TYPE process_resident_memory_bytes gauge\n"
        f"process_resident_memory_bytes {rss}\n"
        "# TYPE process_open_fds gauge\n"
        f"process_open_fds {fds}\n"
        "# TYPE process_max_fds gauge\n"
        f"process_max_fds {max_fds}\n"
        "# TYPE process_start_time_seconds gauge\n"
        f"process_start_time_seconds {start}\n"
        "# TYPE python_info gauge\n"
        'python_info{implementation="CPython",major="3"} 1.0\n'
        "# TYPE scrubber_records_in_total counter\n"
        f'scrubber_records_in_total{{route="r"}} {cpu * 10}\n'
    )


def test_process_metrics_are_kept_per_process_and_pipeline_series_summed() -> None:
    """Two workers and the parent: each process's series once (a worker's labelled by its
    index, the parent's unlabelled), never summed; the pipeline's counters summed."""
    expositions: list[tuple[str | None, str]] = [
        ("0", _process_text(cpu=2, rss=300e6, fds=20, max_fds=1024, start=1000)),
        ("1", _process_text(cpu=3, rss=310e6, fds=21, max_fds=1024, start=1001)),
        (None, _process_text(cpu=0.5, rss=40e6, fds=9, max_fds=1024, start=999)),
    ]
    text = exposition(merge(expositions)).decode()
    assert _samples(text, "process_max_fds") == {
        (("worker", "0"),): 1024, (("worker", "1"),): 1024, (): 1024,
    }  # fmt: skip
    assert _samples(text, "process_start_time_seconds") == {
        (("worker", "0"),): 1000, (("worker", "1"),): 1001, (): 999,
    }  # fmt: skip
    rss = _samples(text, "process_resident_memory_bytes")
    assert sorted(rss.values()) == [40e6, 300e6, 310e6]
    assert sum(rss.values()) == 650e6  # what `sum by (pod)` on the dashboard shows
    assert sum(_samples(text, "process_cpu_seconds_total").values()) == 5.5
    infos = _samples(text, "python_info")
    assert len(infos) == 3 and set(infos.values()) == {1.0}  # one per process, not 3
    # the pipeline's series: summed, no worker label, the parent has none of its own here
    assert _samples(text, "scrubber_records_in_total") == {(("route", "r"),): 20 + 30 + 5}
    assert "# TYPE process_cpu_seconds_total counter" in text


def test_one_worker_exports_its_own_process_metrics_and_every_fixed_series_from_zero() -> None:
    metrics = PipelineMetrics("cafe", "1.0", routes=["r"])
    text = generate_latest(metrics.registry).decode()
    for name in ("process_cpu_seconds_total", "process_resident_memory_bytes",
                 "process_open_fds", "process_max_fds"):  # fmt: skip
        assert list(_samples(text, name)) == [()], name  # this process, unlabelled
    assert _samples(text, "process_resident_memory_bytes")[()] > 0
    assert _samples(text, "scrubber_build_info") == {
        (("config_hash", "cafe"), ("version", "1.0")): 1
    }
    assert _samples(text, "scrubber_producer_fenced_total") == {(): 0}
    assert _samples(text, "scrubber_consumer_lag_records") == {(("route", "r"),): 0}
    assert _samples(text, "scrubber_batch_retries_total") == {(("reason", "vault_unavailable"),): 0}
    assert {k[0][1] for k in _samples(text, "scrubber_rebalances_total")} == {
        "assign", "revoke", "lost",
    }  # fmt: skip


def test_the_parent_exports_its_own_process_metrics_and_build_info_before_any_worker() -> None:
    parent = serve_workers(
        0, WorkerBoard(2), lambda: True, own=parent_registry("1.0", "cafe"), host="127.0.0.1"
    )
    try:
        status, text = _get(parent.server_address[1], "/metrics")
    finally:
        parent.shutdown()
        parent.server_close()
    assert status == 200
    assert metric_value(text, "scrubber_build_info", config_hash="cafe", version="1.0") == 1
    assert list(_samples(text, "process_resident_memory_bytes")) == [()]
    assert metric_value(text, "scrubber_workers", state="reporting") == 0


def test_a_worker_and_the_parent_with_the_same_build_info_give_one_series() -> None:
    worker = PipelineMetrics("cafe", "1.0")
    parent = parent_registry("1.0", "cafe")
    expositions = [("0", generate_latest(worker.registry).decode()),
                   (None, generate_latest(parent).decode())]  # fmt: skip
    text = exposition(merge(expositions)).decode()
    assert _samples(text, "scrubber_build_info") == {
        (("config_hash", "cafe"), ("version", "1.0")): 1
    }
    assert set(_samples(text, "process_open_fds")) == {(("worker", "0"),), ()}


def test_a_dead_workers_counters_stay_in_the_sums_and_its_replacement_adds_to_them() -> None:
    """kill -9 of a worker and its restart under the same index: the summed counters never go
    backwards (Prometheus would take a drop for a reset), gauges are the live workers' only."""
    first, replacement = PipelineMetrics("cafe", "1.0"), PipelineMetrics("cafe", "1.0")
    servers = [serve_metrics(m, 0, host="127.0.0.1") for m in (first, replacement)]
    first.records_in.labels("r").inc(70)
    first.end_to_end_seconds.observe(0.01)
    first.partitions(2)
    board = WorkerBoard(1)
    board.heard("port", 0, servers[0].server_address[1])
    parent = serve_workers(0, board, lambda: True, host="127.0.0.1")
    port = parent.server_address[1]
    try:
        assert metric_value(_get(port, "/metrics")[1], "scrubber_records_in_total", route="r") == 70
        servers[0].shutdown()  # killed; the supervisor forks the replacement
        servers[0].server_close()
        board.heard("exited", 0, -9)
        assert not board.all_alive()
        board.heard("restarted", 0, 4242)
        replacement.records_in.labels("r").inc(5)
        replacement.partitions(2)
        board.heard("port", 0, servers[1].server_address[1])
        text = _get(port, "/metrics")[1]
        assert metric_value(text, "scrubber_records_in_total", route="r") == 75
        assert metric_value(text, "scrubber_end_to_end_seconds_count") == 1
        assert metric_value(text, "scrubber_assigned_partitions") == 2  # not 4: a gauge
        assert metric_value(text, "scrubber_workers", state="reporting") == 1
        assert board.all_alive()
    finally:
        for server in (parent, servers[1]):
            server.shutdown()
            server.server_close()


def test_asking_a_worker_that_answers_an_error_closes_the_connection() -> None:
    """A 503 from a worker's /readyz arrives as an HTTPError that holds its socket; left to the
    garbage collector it surfaced as an unraisable ResourceWarning inside a later test (CI)."""
    worker = PipelineMetrics("cafe", "1.0")
    server = serve_metrics(worker, 0, host="127.0.0.1")
    port = server.server_address[1]
    try:
        gc.collect()  # what earlier tests left is not this one's to answer for
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ResourceWarning)
            for _ in range(3):
                assert ask(port, "/readyz") == (503, b"starting\n")
            gc.collect()
        leaked = [w for w in caught if issubclass(w.category, ResourceWarning)]
        assert [str(w.message) for w in leaked if f", {port})" in str(w.message)] == []
    finally:
        server.shutdown()
        server.server_close()
