"""The privacy measures of one `scrubber run` worker: the routes' k-anonymity windows on the
pipeline's /metrics, and the differentially private view of the per-entity counters on a port
of its own.

The windows live in the policy set (`policies.RoutePolicy.kanon`: each output value is counted
before it is produced), so their series are read from the set in force at each scrape, and a
thread closes time windows that no record closes. The private view (`privacy_metrics:`) counts
the set of entity types of each record that went out (`observe.AfterBatch`); its series are
fixed at start, from the route names and every type the config's policies can report.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING

from recognizers.entity_types import entity_types
from scrubber.config import Config
from scrubber.log import get_logger
from scrubber.pipeline.metrics import PipelineMetrics
from scrubber.pipeline.policies import Policies
from scrubber.privacy.kanon_metrics import register_kanon_metrics
from scrubber.privacy.kanon_window import WindowedKAnonymity

if TYPE_CHECKING:
    from scrubber.privacy.dp_view import PrivateCounts

TICK_SECONDS = 1.0
log = get_logger("scrubber.privacy")


def private_counts(config: Config) -> PrivateCounts | None:
    """The private view when `privacy_metrics.enabled` (OpenDP is imported only then)."""
    if not config.privacy_metrics.enabled:
        return None
    from scrubber.privacy.dp_view import PrivateCounts

    names = [None, *config.policies]
    declared = frozenset().union(*(config.effective(n).declared_entity_types() for n in names))
    routes = [route.name for route in config.routes]
    return PrivateCounts(config.privacy_metrics, routes, entity_types() | declared)


class _InForce(Mapping[str, WindowedKAnonymity]):
    """The windows of the policy set in force now (a reload may replace them)."""

    def __init__(self, policies: Callable[[], Policies]) -> None:
        self._policies = policies

    def __getitem__(self, route: str) -> WindowedKAnonymity:
        return self._policies().kanon[route]

    def __iter__(self) -> Iterator[str]:
        return iter(self._policies().kanon)

    def __len__(self) -> int:
        return len(self._policies().kanon)


def start(
    config: Config, metrics: PipelineMetrics, in_force: Callable[[], Policies]
) -> Callable[[], None]:
    """Export the windows, serve the private view (if any) and tick the windows; the function
    returned stops it all and closes the windows."""
    register_kanon_metrics(metrics.registry, _InForce(in_force))
    private = in_force().private
    server = None
    if private is not None:
        from scrubber.privacy.dp_server import serve_private_metrics

        port = config.privacy_metrics.port  # tenants and dashboards scrape from outside the pod
        server = serve_private_metrics(private, "0.0.0.0", port)  # noqa: S104
        log.info("private_metrics_serving", port=server.server_address[1])
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(TICK_SECONDS):
            for windows in in_force().kanon.values():
                windows.tick()

    threading.Thread(target=tick, name="kanon-tick", daemon=True).start()

    def stopped() -> None:
        stop.set()
        for windows in in_force().kanon.values():
            windows.close()
        if server is not None:
            server.shutdown()
            server.server_close()

    return stopped
