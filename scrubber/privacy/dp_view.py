"""A differentially private view of the per-entity counters: one noisy count per (route, entity
type) per tumbling window, for tenants and dashboards. See docs/privacy-metrics.md.

The unit of privacy is one record. A record adds at most 1 to each series of its route
(`observe` takes the *set* of entity types it held), so every series has sensitivity 1 and a
window's release of it, discrete Laplace noise of scale 1/epsilon drawn by OpenDP, costs
epsilon. What is published is decided from the noisy value only (post-processing: free):
suppressing on the true count would turn "absent" into a certain statement about it.

The series are fixed at construction (route names and entity types from the config) and every
one of them is released every window, zeros included: a series that appeared only once it had
data, or a release that happened only when records came, would itself tell who passed.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field

import opendp.prelude as dp
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from scrubber.config.privacy_metrics import PrivateMetricsConfig

Series = tuple[str, str]  # (route, entity_type)
LABELS = ["route", "entity_type"]


def laplace_measurement(size: int, epsilon: float) -> dp.Measurement:
    """OpenDP's Laplace mechanism over `size` integer counts (it samples discrete Laplace noise
    on integers). OpenDP puts every constructor not yet through its vetting behind the
    "contrib" flag, make_laplace included; its proof is linked from its documentation."""
    dp.enable_features("contrib")
    space = dp.vector_domain(dp.atom_domain(T="i64"), size=size), dp.l1_distance(T="i64")
    return dp.m.make_laplace(*space, scale=1.0 / epsilon)


def noise_bound(epsilon: float, alpha: float) -> int:
    """With probability at least 1 - alpha, |published - true| <= this (OpenDP's accuracy of
    the discrete Laplace at scale 1/epsilon; its floor keeps the coverage)."""
    accuracy: float = dp.discrete_laplacian_scale_to_accuracy(1.0 / epsilon, alpha)
    return math.floor(accuracy)


@dataclass(frozen=True)
class Release:
    """What one window's release publishes: noisy counts at or above the threshold only."""

    window: int
    end_seconds: float  # the clock's time at the window's end
    epsilon_spent: float  # by each series, in the current budget horizon, this release included
    exhausted: bool  # the budget left no room for this release: nothing published
    counts: dict[Series, int] = field(default_factory=dict)


class PrivateCounts:
    """Counts records per (route, entity type) and releases them once per window, noisy.

    `observe` (the pipeline thread) and `render` (the HTTP thread) may run at once. Memory is
    one integer per series; a route or entity type not declared at construction is not counted.
    """

    def __init__(
        self,
        config: PrivateMetricsConfig,
        routes: Collection[str],
        entity_types: Collection[str],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.series: Sequence[Series] = [
            (r, t) for r in sorted(set(routes)) for t in sorted(set(entity_types))
        ]
        self._index = {s: i for i, s in enumerate(self.series)}
        self._measurement = laplace_measurement(len(self.series), config.epsilon_per_release)
        # Stated by OpenDP's privacy map for a change of 1 in one series, not assumed.
        self.epsilon_per_release = float(self._measurement.map(1))  # type: ignore[no-untyped-call]
        self._releases_per_horizon = (
            None
            if config.max_epsilon_per_series is None
            # The slack keeps 1.0 / 0.1 from rounding down to 9 releases.
            else math.floor(config.max_epsilon_per_series / self.epsilon_per_release + 1e-9)
        )
        self._clock = clock
        self._start = clock()
        self._window = 0
        self._counts = [0] * len(self.series)
        self._latest: Release | None = None
        self._lock = threading.Lock()
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(_ReleaseCollector(self))

    def observe(self, route: str, entity_types: Collection[str]) -> None:
        """One scrubbed record of `route` held these entity types (any number of findings)."""
        with self._lock:
            self._catch_up()
            for entity_type in set(entity_types):  # the contribution bound: 1 per series
                index = self._index.get((route, entity_type))
                if index is not None:
                    self._counts[index] += 1

    def latest(self) -> Release | None:
        """The release of the last window that ended, None before the first one ends."""
        with self._lock:
            self._catch_up()
            return self._latest

    def render(self) -> bytes:
        """The Prometheus text exposition of the latest release and the budget."""
        return generate_latest(self.registry)

    def _catch_up(self) -> None:
        """Release the window that ended, if one did. Windows end by the clock, not by traffic:
        when several ended unseen, only the last is released (the others would have been
        replaced before anyone could read them), with its counts, which are zero since an
        observe would have caught up."""
        window = math.floor((self._clock() - self._start) / self.config.window_seconds)
        if window <= self._window:  # a clock stepping back keeps the current window
            return
        ended = window - 1
        counts = self._counts if ended == self._window else [0] * len(self.series)
        self._latest = self._release(ended, counts)
        self._counts = [0] * len(self.series)
        self._window = window

    def _release(self, window: int, counts: list[int]) -> Release:
        per_horizon = self.config.windows_per_horizon
        position = window % per_horizon if per_horizon else window  # releases before it
        allowed = self._releases_per_horizon
        exhausted = allowed is not None and position >= allowed
        spent = self.epsilon_per_release * (
            allowed if allowed is not None and exhausted else position + 1
        )
        end = self._start + (window + 1) * self.config.window_seconds
        if exhausted or not self.series:
            return Release(window, end, spent, exhausted)
        noisy = self._measurement(counts)
        published = {
            series: value
            for series, value in zip(self.series, noisy, strict=True)
            if value >= self.config.suppress_below
        }
        return Release(window, end, spent, exhausted, published)


class _ReleaseCollector(Collector):
    """The exposition: only the latest release's published counts, and the budget's state."""

    def __init__(self, view: PrivateCounts) -> None:
        self.view = view

    def collect(self) -> Iterator[Metric]:
        view, config = self.view, self.view.config
        release = view.latest()
        counts = GaugeMetricFamily(
            "scrubber_dp_entity_records",
            "Records holding the entity type in the last window, with Laplace noise; absent "
            "when the noisy count is below scrubber_dp_suppress_below or the budget is spent",
            labels=LABELS,
        )
        spent = GaugeMetricFamily(
            "scrubber_dp_epsilon_spent",
            "Privacy loss (epsilon) spent by the series in the current budget horizon",
            labels=LABELS,
        )
        exhausted = GaugeMetricFamily(
            "scrubber_dp_budget_exhausted",
            "1 when the series' budget is spent and it is no longer published this horizon",
            labels=LABELS,
        )
        for series in view.series:
            if release is not None and series in release.counts:
                counts.add_metric(list(series), release.counts[series])
            spent.add_metric(list(series), release.epsilon_spent if release else 0.0)
            exhausted.add_metric(list(series), 1.0 if release and release.exhausted else 0.0)
        yield from (counts, spent, exhausted)
        settings = [
            ("epsilon_per_release", "Epsilon of one series' release", view.epsilon_per_release),
            ("epsilon_budget", "Epsilon one series may spend per horizon",
             config.max_epsilon_per_series),
            ("suppress_below", "Noisy counts below this are not published", config.suppress_below),
            ("window_seconds", "Length of the release window", config.window_seconds),
            ("release_end_timestamp_seconds", "Unix time at which the published window ended",
             release.end_seconds if release else None),
        ]  # fmt: skip
        for name, documentation, value in settings:
            if value is not None:
                yield GaugeMetricFamily(f"scrubber_dp_{name}", documentation, value=value)
