"""The k-anonymity gauges of `scrubber run`, one series per route (label `route` only).

`register_kanon_metrics(registry, windows)` adds one collector that reads each route's
`WindowedKAnonymity.snapshot()` at scrape time, so nothing is copied on the hot path:

    scrubber_kanon_smallest_class          \\
    scrubber_kanon_records_below_k_ratio    |  the last closed window's figures; no sample
    scrubber_kanon_classes                  |  before a route's first window closes (an empty
    scrubber_kanon_prosecutor_risk          |  window would read as a breach)
    scrubber_kanon_l_diversity             /   (only routes with a `sensitive` field)
    scrubber_kanon_k                       the configured k, for alerts to compare against
    scrubber_kanon_l                       the configured l (routes with a `sensitive` field)
    scrubber_kanon_windows_total           windows closed
    scrubber_kanon_breaches_total          windows closed below k (or below l)
    scrubber_kanon_generalization_step     steps coarser the quasi-identifiers go out now

Every family is yielded even with no route configured, so the set of names a process exports
does not depend on its config. Counts only: a value never becomes a label. Under `run --workers
N` each worker has its own windows, and a sum of smallest classes is no class: the parent must
keep these per worker (`worker` label, as it does process metrics), and alerts take the `min`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import CollectorRegistry

from scrubber.privacy.kanon_window import KAnonymitySnapshot, WindowedKAnonymity

# name -> (type, help); values come from `_values`.
_FAMILIES: dict[str, tuple[str, str]] = {
    "smallest_class": ("gauge", "Records in the smallest class of the last closed window"),
    "records_below_k_ratio": (
        "gauge", "Share of the last closed window's records in classes below k",
    ),
    "classes": ("gauge", "Distinct quasi-identifier combinations in the last closed window"),
    "prosecutor_risk": ("gauge", "1 / smallest class of the last closed window"),
    "l_diversity": (
        "gauge", "Distinct sensitive values in the last closed window's least diverse class",
    ),
    "k": ("gauge", "The configured k of the route's windows"),
    "l": ("gauge", "The configured l of the route's windows"),
    "generalization_step": ("gauge", "Steps coarser the quasi-identifiers go out now"),
    "windows": ("counter", "Windows closed"),
    "breaches": ("counter", "Windows closed with a class below k or below l"),
}  # fmt: skip


class KAnonymityCollector:
    """Reads the snapshots of `windows` (route name -> its windows) at each scrape."""

    def __init__(self, windows: Mapping[str, WindowedKAnonymity]) -> None:
        self._windows = windows

    def describe(self) -> Iterator[Metric]:
        return self._families([])  # names only: registering must not take the windows' locks

    def collect(self) -> Iterator[Metric]:
        return self._families([w.snapshot() for w in self._windows.values()])

    def _families(self, snapshots: list[KAnonymitySnapshot]) -> Iterator[Metric]:
        values = [(snap.route, _values(snap)) for snap in snapshots]
        for name, (kind, help_text) in _FAMILIES.items():
            family: GaugeMetricFamily | CounterMetricFamily
            if kind == "counter":
                family = CounterMetricFamily(f"scrubber_kanon_{name}", help_text, labels=["route"])
            else:
                family = GaugeMetricFamily(f"scrubber_kanon_{name}", help_text, labels=["route"])
            for route, table in values:
                if (value := table.get(name)) is not None:
                    family.add_metric([route], value)
            yield family


def _values(snap: KAnonymitySnapshot) -> dict[str, float | None]:
    """One route's series values; None: no sample (no window closed yet, no sensitive field)."""
    found: dict[str, float | None] = {
        "k": snap.k, "l": snap.l, "generalization_step": snap.step, "windows": snap.windows,
        "breaches": snap.breaches,
    }  # fmt: skip
    if (last := snap.last) is not None:
        found |= {
            "smallest_class": last.smallest_class, "classes": last.classes,
            "records_below_k_ratio": last.records_below_k_ratio,
            "prosecutor_risk": last.prosecutor_risk, "l_diversity": last.l_diversity,
        }  # fmt: skip
    return found


def register_kanon_metrics(
    registry: CollectorRegistry, windows: Mapping[str, WindowedKAnonymity]
) -> KAnonymityCollector:
    """Register the k-anonymity series of `windows` (route -> its windows; may be empty) on the
    pipeline's registry. The mapping is read at each scrape: routes may be added later."""
    collector = KAnonymityCollector(windows)
    registry.register(collector)
    return collector
