"""The k-anonymity series: one per route, from the last closed window, label `route` only."""

from __future__ import annotations

import json

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from scrubber.config.kanon import KAnonymityConfig
from scrubber.privacy.kanon_metrics import register_kanon_metrics
from scrubber.privacy.kanon_window import WindowedKAnonymity

NAMES = {
    "scrubber_kanon_smallest_class", "scrubber_kanon_records_below_k_ratio",
    "scrubber_kanon_classes", "scrubber_kanon_l_diversity", "scrubber_kanon_prosecutor_risk",
    "scrubber_kanon_k", "scrubber_kanon_l", "scrubber_kanon_windows",
    "scrubber_kanon_breaches", "scrubber_kanon_generalization_step",
}  # fmt: skip


def _samples(registry: CollectorRegistry) -> dict[tuple[str, str], float]:
    text = generate_latest(registry).decode()
    return {
        (sample.name, sample.labels["route"]): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if not sample.name.endswith("_created")
    }


def test_every_family_is_there_without_routes() -> None:
    registry = CollectorRegistry()
    register_kanon_metrics(registry, {})
    families = {f.name for f in text_string_to_metric_families(generate_latest(registry).decode())}
    assert families == NAMES
    assert _samples(registry) == {}


def test_series_per_route_from_the_last_closed_window_and_no_values() -> None:
    rare = "Zq-77411"
    health = WindowedKAnonymity(
        KAnonymityConfig(
            quasi_identifiers=("zip",), sensitive="dx", k=3, l=2, window_records=4,
            on_breach="generalize",
        ),
        "health",
    )  # fmt: skip
    logs = WindowedKAnonymity(
        KAnonymityConfig(quasi_identifiers=("zip",), k=2, window_records=100), "logs"
    )
    registry = CollectorRegistry()
    register_kanon_metrics(registry, {"health": health, "logs": logs})
    for zip_code, dx in [("941", "a"), ("941", "b"), ("941", "a"), (rare, "c")]:
        health.observe(json.dumps({"zip": zip_code, "dx": dx}).encode())
    logs.observe(b'{"zip": "941"}')  # its first window is still open
    samples = _samples(registry)
    assert samples == {
        ("scrubber_kanon_smallest_class", "health"): 1.0,
        # Half-way the class of 941 was below k: the last two went out as 9** and Zq-7****.
        ("scrubber_kanon_records_below_k_ratio", "health"): 1.0,
        ("scrubber_kanon_classes", "health"): 3.0,
        ("scrubber_kanon_prosecutor_risk", "health"): 1.0,
        ("scrubber_kanon_l_diversity", "health"): 1.0,
        ("scrubber_kanon_k", "health"): 3.0,
        ("scrubber_kanon_l", "health"): 2.0,
        ("scrubber_kanon_generalization_step", "health"): 1.0,
        ("scrubber_kanon_windows_total", "health"): 1.0,
        ("scrubber_kanon_breaches_total", "health"): 1.0,
        ("scrubber_kanon_k", "logs"): 2.0,
        ("scrubber_kanon_generalization_step", "logs"): 0.0,
        ("scrubber_kanon_windows_total", "logs"): 0.0,
        ("scrubber_kanon_breaches_total", "logs"): 0.0,
    }
    text = generate_latest(registry).decode()
    assert rare not in text and "941" not in text
