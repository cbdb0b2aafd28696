"""What every Scrubber process should export besides its own series: process metrics, one
`scrubber_build_info`, and every series of a fixed label set from the start (at zero), so that
ratios and `increase()` read 0 instead of "no data" before the first event.

Used by scrubber.pipeline.metrics and scrubber.api.middleware; docs/deploy.md "Metrics the
processes export" lists the series. tests/integration/test_chart.py checks the rules and the
dashboard against them.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from prometheus_client import (
    GCCollector,
    Info,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.registry import CollectorRegistry

FENCED_NAME = "scrubber_producer_fenced"
FENCED_HELP = (
    "Exactly-once producers replaced by another process with the same transactional id "
    "(the worker stops)"
)


def add_process_metrics(registry: CollectorRegistry) -> None:
    """process_cpu_seconds_total, process_resident_memory_bytes, process_open_fds,
    process_max_fds, process_start_time_seconds (Linux /proc), python_info and python_gc_*."""
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)


def add_build_info(registry: CollectorRegistry, version: str, config_hash: str) -> Info:
    """`scrubber_build_info{version, config_hash} 1`: the same series in every mode (`run`
    sets it again when a reloaded config takes over)."""
    info = Info("scrubber_build", "Version and config hash", registry=registry)
    info.info({"version": version, "config_hash": config_hash})
    return info


def zero_series(metric: MetricWrapperBase, label_sets: Iterable[Sequence[str]]) -> None:
    """Create each child now, at zero: `zero_series(quarantined, product(routes, reasons))`."""
    for labels in label_sets:
        metric.labels(*labels)


def product(*values: Iterable[str]) -> list[tuple[str, ...]]:
    """Every combination of fixed label values, for `zero_series`."""
    return list(itertools.product(*values))


class PluginCostCollector:
    """`scrubber_recognizer_plugin_calls_total`, `..._seconds_total` and `..._failures_total`
    per Python plug-in recognizer (label `recognizer`: names from the config), read at each
    scrape from `costs()` (the engine's `plugins.costs`: objects with calls, seconds, failures).
    Register it where an engine lives: `registry.register(PluginCostCollector(lambda: ...))`;
    given several engines' `costs`, it exports their sums."""

    def __init__(self, *costs: Callable[[], Mapping[str, Any]]) -> None:
        self._costs = costs

    def collect(self) -> Iterator[Metric]:
        names = (
            ("calls", "Calls of a Python plug-in recognizer (one per free-text string)"),
            ("seconds", "Seconds spent in a Python plug-in recognizer"),
            ("failures", "Calls of a Python plug-in recognizer that raised (record quarantined)"),
        )
        tables = [costs() for costs in self._costs]
        for field, help_text in names:
            family = CounterMetricFamily(
                f"scrubber_recognizer_plugin_{field}", help_text, labels=["recognizer"]
            )
            totals: dict[str, float] = {}
            for table in tables:
                for name, cost in table.items():
                    totals[name] = totals.get(name, 0.0) + float(getattr(cost, field))
            for name, total in totals.items():
                family.add_metric([name], total)
            yield family
