"""The endpoints without a broker: readiness (loop running, partitions, broker reachable), the
worker's HTTP server, and the parent's one endpoint summing its workers."""

from __future__ import annotations

import time
import urllib.error
import urllib.request

import pytest
from prometheus_client import generate_latest

from scrubber.pipeline import metrics as metrics_module
from scrubber.pipeline.aggregate import exposition, merge, serve_workers
from scrubber.pipeline.metrics import PipelineMetrics, serve_metrics
from tests.integration.conftest import metric_value


def _get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
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
    parent = serve_workers(0, lambda: ports, 2, lambda: True, host="127.0.0.1")
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
    text = exposition(merge(texts)).decode()
    assert metric_value(text, "scrubber_records_quarantined_total", reason="too_large") == 3
    assert metric_value(text, "scrubber_records_quarantined_total", reason="invalid_utf8") == 1
    created = [line for line in text.splitlines() if line.startswith("scrubber_records_in_created")]
    single = [line for line in texts[0].splitlines() if line.startswith("scrubber_records_in_c")]
    assert len(created) == len(single)  # one series each, the earliest time, not a sum
    assert "# TYPE scrubber_records_quarantined_total counter" in text
