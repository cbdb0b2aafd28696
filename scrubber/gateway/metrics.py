"""The gateway's Prometheus series (docs/gateway.md "Metrics"): labels from fixed sets only
(route, status class, entity type), never a value, a path the client made up or a header."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from recognizers.entity_types import detected_entity_types
from scrubber import __version__
from scrubber.metrics_common import add_build_info, add_process_metrics, product, zero_series

ROUTES = ("/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/responses",
          "/v1/messages", "passthrough", "other")  # fmt: skip
STATUSES = ("2xx", "4xx", "5xx")
_OVERHEAD_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0)


def status_class(status: int) -> str:
    return f"{min(max(status // 100, 2), 5)}xx" if status < 600 else "5xx"


class GatewayMetrics:
    def __init__(self, config_hash: str) -> None:
        self.registry = r = CollectorRegistry()
        add_process_metrics(r)
        add_build_info(r, __version__, config_hash)
        self.requests = Counter("scrubber_gateway_requests", "Requests by route and status class",
                                ["route", "status"], registry=r)  # fmt: skip
        self.added = Histogram(
            "scrubber_gateway_added_seconds",
            "Time the gateway adds to a request (scrubbing, restoring), upstream time excluded",
            ["route"], buckets=_OVERHEAD_BUCKETS, registry=r,
        )  # fmt: skip
        self.first_byte = Histogram(
            "scrubber_gateway_first_byte_overhead_seconds",
            "Streamed answers: time to first byte minus the upstream's own", ["route"],
            buckets=_OVERHEAD_BUCKETS, registry=r,
        )  # fmt: skip
        self.entities = Counter("scrubber_gateway_entities", "Values scrubbed from requests",
                                ["entity_type"], registry=r)  # fmt: skip
        self.restored = Counter("scrubber_gateway_tokens_restored",
                                "Tokens restored in answers", ["route"], registry=r)  # fmt: skip
        self.blocked = Counter("scrubber_gateway_blocked", "Requests refused by gateway.block",
                               ["route"], registry=r)  # fmt: skip
        self.refused = Counter("scrubber_gateway_scrub_failures",
                               "Requests refused because scrubbing failed (fail closed)",
                               ["route"], registry=r)  # fmt: skip
        self.upstream_errors = Counter("scrubber_gateway_upstream_errors",
                                       "Upstream failures (answers >= 500, timeouts, "
                                       "unreachable) by route; a 4xx is the client's",
                                       ["route"], registry=r)  # fmt: skip
        zero_series(self.requests, product(ROUTES, STATUSES))
        zero_series(self.entities, product(sorted(detected_entity_types())))
        for metric in (self.restored, self.blocked, self.refused, self.upstream_errors):
            zero_series(metric, product(ROUTES))
