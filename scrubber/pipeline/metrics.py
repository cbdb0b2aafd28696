"""Prometheus metrics, readiness and the HTTP endpoint of a `scrubber run` worker.

Labels come only from small fixed sets (route, outcome, reason, entity type, operator): never a
value from a record. The info metric carries the config hash, so output can be tied to a config.

The books balance (see `ledger`): for every route, once nothing is in flight,

    scrubber_records_in_total = scrubber_records_out_total{outcome="ok"}
                              + scrubber_records_quarantined_total (all reasons)
                              + scrubber_records_reprocessed_total

and at any moment the difference is `scrubber_records_in_flight`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from scrubber.config.pipeline import RouteConfig
from scrubber.metrics_common import (
    FENCED_HELP,
    FENCED_NAME,
    PluginCostCollector,
    add_build_info,
    add_process_metrics,
    product,
    zero_series,
)
from scrubber.models import Outcome, Reason

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
# librdkafka reports broker states every 2 s (connectors.kafka.clients); a report older than
# this means the loop is not serving its client (blocked on the broker): not ready.
BROKER_REPORT_STALE_SECONDS = 10.0

Answer = tuple[int, bytes, str]  # status, body, content type


class Readiness:
    """What /readyz answers: the loop runs (engine loaded), partitions are assigned, and the
    broker answered recently, as each Kafka client (consumer, producer) last reported it.

    Each client's statistics are served only while the loop serves that client: with deliveries
    stalled (at-least-once waits for them before it polls again) only the producer's reports
    keep coming, so one client's word is not enough."""

    def __init__(self) -> None:
        self.running = False
        self.partitions = 0
        self._reports: dict[str, tuple[bool, float]] = {}  # client -> (broker up, when)
        self._broker_lost = float("-inf")  # when the broker last seemed unreachable

    def broker(self, up: bool, client: str = "consumer") -> None:
        now = time.monotonic()
        self._reports[client] = (up, now)
        if not up:
            self._broker_lost = now

    def broker_lost_within(self, seconds: float) -> bool:
        return time.monotonic() - self._broker_lost < seconds

    def check(self) -> tuple[bool, str]:
        if not self.running:
            return False, "starting"
        if self.partitions == 0:
            return False, "no partitions assigned"
        now = time.monotonic()
        if not self._reports or any(
            not up or now - seen > BROKER_REPORT_STALE_SECONDS
            for up, seen in self._reports.values()
        ):
            return False, "broker unreachable"
        return True, "ready"


class PipelineMetrics:
    def __init__(self, config_hash: str, version: str, routes: Sequence[str] = ()) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.records_in = Counter(
            "scrubber_records_in", "Records consumed and handed to the engine", ["route"],
            registry=r,
        )  # fmt: skip
        self.records_out = Counter(
            "scrubber_records_out", "Records produced, by outcome", ["route", "outcome"], registry=r
        )
        self.quarantined = Counter(
            "scrubber_records_quarantined", "Records that failed closed", ["route", "reason"],
            registry=r,
        )  # fmt: skip
        self.reprocessed = Counter(
            "scrubber_records_reprocessed",
            "Records consumed again after an aborted transaction (counted in again, out once)",
            ["route"], registry=r,
        )  # fmt: skip
        self.in_flight = Gauge(
            "scrubber_records_in_flight", "Records consumed, not yet delivered or committed",
            ["route"], registry=r,
        )  # fmt: skip
        self.bytes_in = Counter(
            "scrubber_bytes_in", "Payload bytes consumed", ["route"], registry=r
        )
        self.bytes_out = Counter(
            "scrubber_bytes_out", "Payload bytes produced", ["route"], registry=r
        )
        self.entities = Counter(
            "scrubber_entities", "Findings replaced", ["route", "entity_type", "operator"],
            registry=r,
        )  # fmt: skip
        self.delivery_errors = Counter(
            "scrubber_delivery_errors", "Failed deliveries (retried)", ["route"], registry=r
        )
        self.batch_retries = Counter(
            "scrubber_batch_retries", "Batches held back and read again", ["reason"], registry=r
        )
        self.rebalances = Counter(
            "scrubber_rebalances", "Partition assignments and revocations", ["kind"], registry=r
        )
        self.batch_size = Histogram(
            "scrubber_batch_size_records", "Records per batch",
            buckets=(1, 10, 50, 100, 250, 500, 1000, 5000), registry=r,
        )  # fmt: skip
        self.scrub_seconds = Histogram(
            "scrubber_scrub_seconds", "Engine time per batch", buckets=LATENCY_BUCKETS, registry=r
        )
        self.end_to_end_seconds = Histogram(
            "scrubber_end_to_end_seconds", "Input record timestamp to output delivery",
            buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.consumer_lag = Gauge(
            "scrubber_consumer_lag_records", "High watermark minus position", ["route"], registry=r
        )
        self.assigned_partitions = Gauge(
            "scrubber_assigned_partitions", "Partitions assigned to this worker", registry=r
        )
        self.producer_fenced = Counter(FENCED_NAME, FENCED_HELP, registry=r)
        self.build_info = add_build_info(r, version, config_hash)
        # This process's CPU, RSS and fds. Under `run --workers N` the parent labels each
        # worker's with `worker` instead of summing them (scrubber.pipeline.aggregate).
        add_process_metrics(r)
        # Every fixed series from the start, so ratios and increase() read 0, not "no data".
        for route in routes:
            for metric in (
                self.records_in, self.reprocessed, self.bytes_in, self.bytes_out,
                self.delivery_errors, self.consumer_lag,
            ):  # fmt: skip
                zero_series(metric, [(route,)])
        zero_series(self.records_out, product(routes, [o.value for o in Outcome]))
        zero_series(self.quarantined, product(routes, [r.value for r in Reason]))
        zero_series(self.batch_retries, [(Reason.VAULT_UNAVAILABLE.value,)])
        zero_series(self.rebalances, [("assign",), ("revoke",), ("lost",)])
        self.readiness = Readiness()
        self.heartbeat = time.monotonic()

    def beat(self) -> None:
        self.heartbeat = time.monotonic()

    def alive(self, stale_after: float = 60.0) -> bool:
        return time.monotonic() - self.heartbeat < stale_after

    def plugin_costs(self, costs: Callable[[], Mapping[str, Any]]) -> None:
        """Export the engine's Python plug-in recognizer costs (PluginCostCollector): counters,
        so under `run --workers N` the parent's sum over the workers is the pod's."""
        self.registry.register(PluginCostCollector(costs))

    def lag(self, by_topic: Mapping[str, int], routes: Sequence[RouteConfig]) -> None:
        """Consumer lag per route, summed over its input topics (every route set, 0 if none)."""
        for route in routes:
            self.consumer_lag.labels(route.name).set(sum(by_topic.get(t, 0) for t in route.topics))

    def partitions(self, count: int) -> None:
        self.assigned_partitions.set(count)
        self.readiness.partitions = count


def serve(port: int, host: str, routes: dict[str, Callable[[], Answer]]) -> ThreadingHTTPServer:
    """A small HTTP server on a daemon thread answering GET for `routes` (path -> answer)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            answer = routes.get(self.path)
            status, body, content_type = answer() if answer else (404, b"not found\n", "text/plain")
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: ARG002
            return  # access logs would go to stderr unstructured; health probes are noise

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="metrics-http", daemon=True).start()
    return server


def status_answer(ok: bool, reason: str) -> Answer:
    return (200 if ok else 503), f"{reason}\n".encode(), "text/plain"


def serve_metrics(
    metrics: PipelineMetrics,
    port: int,
    host: str = "0.0.0.0",  # noqa: S104  # a sidecar's probes and scrapes come from outside
) -> ThreadingHTTPServer:
    """/metrics, /healthz (the loop is turning) and /readyz (engine loaded, partitions
    assigned, broker reachable)."""
    return serve(
        port,
        host,
        {
            "/metrics": lambda: (200, generate_latest(metrics.registry), CONTENT_TYPE_LATEST),
            "/healthz": lambda: status_answer(
                metrics.alive(), "ok" if metrics.alive() else "stalled"
            ),
            "/readyz": lambda: status_answer(*metrics.readiness.check()),
        },
    )
