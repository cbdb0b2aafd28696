"""Every query of the Grafana dashboard and every alert of the PrometheusRule, run by a real
Prometheus (scripts/prometheus.sh) scraping a real `scrubber run --workers 2` on the real broker
that scrubbed records with planted PII, some of which failed closed.

- Dashboard queries (and the variables' `label_values`) must return data: a non-empty result
  with a finite value, except those listed in SERVE_ONLY with the reason.
- Alert expressions (both modes, as the chart renders them) must evaluate without error, in an
  instant query and as rules loaded into the server; they may be empty (no alert condition), so
  instead every series name an alert reads must have series (serve-only names excepted).
- No planted value appears in /metrics or in any label value Prometheus stored.
- The process metrics of the parent and of each worker exist (per process, not summed).
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from benchmarks.corpus import canary_value, mixed_corpus
from scripts.check_chart import CHART, metric_names_in, render, rule_expressions
from scrubber.config import parse_config
from tests.integration.conftest import (
    LARGE_MESSAGE_BYTES,
    REPO_ROOT,
    Kafka,
    ScrubberProcess,
    canaries_in,
    metric_value,
    pipeline_config,
)

pytestmark = pytest.mark.integration

HELM = Path(os.environ.get("HELM", Path.home() / ".cache" / "scrubber" / "bin" / "helm"))
PROMETHEUS_SCRIPT = REPO_ROOT / "scripts" / "prometheus.sh"
DASHBOARD = CHART / "dashboards" / "scrubber.json"
# What Grafana would put in: the scrape config's labels, and a window over the whole run (it
# is far shorter than a minute between the first scrape and the queries).
VARIABLES = {"$__rate_interval": "1m", "$namespace": "default", "$job": "scrubber"}
SELECTOR = 'job="scrubber", namespace="default"'
# Series only `scrubber serve` (the API) exports: a `scrubber run` has none of them, so the
# panels and alerts that read nothing else have no data here. Their names are checked against a
# real serve's /metrics by tests/integration/test_chart.py.
SERVE_ONLY = {
    "scrubber_http_requests_total": "API requests (also the vault panel's /readyz 503 of serve)",
    "scrubber_http_request_seconds_bucket": "API latency",
    "scrubber_restore_tokens_total": "tokens restored through /v1/restore",
    "scrubber_http_rate_limited_total": "API 429s",
    "scrubber_http_busy_total": "API 503 busy",
    "scrubber_http_unauthenticated_total": "API requests without a valid key",
    "scrubber_engine_queue": "the API's engine lanes",
}
MAX_RECORD_BYTES = 4096
RECORDS = 400
PLANTED = "planted.person@leakcheck.example.com"


# ---------------------------------------------------------------- Prometheus


class Prometheus:
    def __init__(self, url: str) -> None:
        self.url = url

    def get(self, path: str, **params: str) -> Any:
        query = urllib.parse.urlencode(params)
        with urllib.request.urlopen(f"{self.url}{path}?{query}", timeout=10) as answer:
            body = json.loads(answer.read())
        assert body["status"] == "success", body
        return body["data"]

    def query(self, expression: str) -> list[dict[str, Any]]:
        data = self.get("/api/v1/query", query=expression)
        assert data["resultType"] == "vector", (expression, data["resultType"])
        result: list[dict[str, Any]] = data["result"]
        return result

    def value(self, expression: str) -> float:
        found = self.query(expression)
        return float(found[0]["value"][1]) if found else math.nan

    def wait(self, expression: str, want: float, alive: Callable[[], None], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while (got := self.value(expression)) != want:
            alive()
            assert time.monotonic() < deadline, f"{expression} = {got}, want {want}"
            time.sleep(0.25)


def _prometheus(*args: str) -> str:
    done = subprocess.run(["bash", str(PROMETHEUS_SCRIPT), *args], capture_output=True,
                          text=True, check=False, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


@pytest.fixture
def start_prometheus() -> Iterator[Callable[..., Prometheus]]:
    started: list[str] = []

    def start(metrics_port: int, *rules: Path) -> Prometheus:
        started.append(str(metrics_port))
        return Prometheus(_prometheus("up", str(metrics_port), *map(str, rules)))

    yield start
    for port in started:
        _prometheus("down", port)


@pytest.fixture
def rule_files(tmp_path: Path) -> list[Path]:
    """The PrometheusRule of each mode as the chart renders it (default selector, thresholds)."""
    if not HELM.is_file():
        message = f"no helm at {HELM}: run `bash scripts/tools.sh install` (or make tools)"
        if os.environ.get("CI") or os.environ.get("HELM"):  # `make test` names its helm
            pytest.fail(message)
        pytest.skip(message)
    files = []
    for mode in ("run", "serve"):
        rendered = render(str(HELM), ["--set", f"mode={mode}", "--set", "prometheusRule.enabled=true",
                                      "--show-only", "templates/prometheusrule.yaml"])  # fmt: skip
        path = tmp_path / f"rules-{mode}.yaml"
        path.write_text(yaml.safe_dump(yaml.safe_load(rendered)["spec"], sort_keys=False))
        files.append(path)
    return files


# ---------------------------------------------------------------- the dashboard and the rules


def panel_queries(panels: Iterable[dict[str, Any]]) -> Iterator[tuple[str, str]]:
    """(panel title, expr) of every target, rows' nested panels included."""
    for panel in panels:
        for target in panel.get("targets", []):
            yield panel["title"], target["expr"]
        yield from panel_queries(panel.get("panels", []))


def substitute(expression: str) -> str:
    for variable, value in VARIABLES.items():
        expression = expression.replace(variable, value)
    assert "$" not in expression, f"a Grafana variable without a value here: {expression}"
    return expression


def serve_only(expression: str) -> bool:
    names = metric_names_in([expression])
    return bool(names) and names <= set(SERVE_ONLY)


def _records() -> list[bytes]:
    """Scrubbable records with canaries, one with PLANTED, two that fail closed."""
    values = [t.encode() for t in mixed_corpus(RECORDS - 3, seed=1313)]
    values.append(f'{{"msg": "reply to {PLANTED}", "seq": 90001}}'.encode())
    values.append(b"broken \xff\xfe utf-8 seq=90002 " + canary_value(90002).encode())
    values.append(b"seq=90003 " + canary_value(90003).encode() + b" " + b"y" * 2 * MAX_RECORD_BYTES)
    return values


def check_dashboard(prometheus: Prometheus, dashboard: dict[str, Any]) -> dict[str, list[str]]:
    """Every panel query and variable, by what it returned: "data" (a finite value; "nonzero"
    too if one is not 0), "serve-only" (SERVE_ONLY; evaluated, no data expected), "empty"."""
    found: dict[str, list[str]] = {"data": [], "nonzero": [], "serve-only": [], "empty": []}
    for title, expression in panel_queries(dashboard["panels"]):
        values = [float(r["value"][1]) for r in prometheus.query(substitute(expression))]
        where = f"{title}: {expression}"
        if serve_only(expression):
            found["serve-only"].append(where)
        elif any(math.isfinite(v) for v in values):
            found["data"].append(where)
            if any(math.isfinite(v) and v != 0 for v in values):
                found["nonzero"].append(where)
        else:
            found["empty"].append(f"{where} -> {values}")
    for variable in dashboard["templating"]["list"]:
        if match := re.fullmatch(r"label_values\((.+), (\w+)\)", variable.get("definition", "")):
            values = prometheus.get(f"/api/v1/label/{match[2]}/values",
                                    **{"match[]": substitute(match[1])})  # fmt: skip
            found["data" if values else "empty"].append(f"variable {variable['definition']}")
    return found


def check_alerts(prometheus: Prometheus, rule_files: list[Path]) -> tuple[int, list[str]]:
    """Each alert expression evaluates (instant query, and as a rule loaded into the server);
    every series name one reads, but SERVE_ONLY, has series. (count, problems)"""
    alerts = [e for f in rule_files for e in rule_expressions(yaml.safe_load(f.read_text()))]
    for expression in alerts:
        prometheus.query(expression)  # no error; empty is fine (the condition is false)
    read = metric_names_in(alerts) - set(SERVE_ONLY)
    problems = [
        f"no series {n}" for n in sorted(read) if not prometheus.query(f"{n}{{{SELECTOR}}}")
    ]
    rules = [r for g in prometheus.get("/api/v1/rules")["groups"] for r in g["rules"]]
    problems += [f"rule {r['name']}: {r['health']} {r.get('lastError')}" for r in rules
                 if r["health"] != "ok"]  # fmt: skip
    if len(rules) != len(alerts):
        problems.append(f"{len(rules)} rules loaded for {len(alerts)} alerts")
    return len(alerts), problems


def test_every_dashboard_query_and_alert_reads_data_from_a_real_scrubber_run(
    kafka: Kafka,
    scrubbers: Callable[..., ScrubberProcess],
    start_prometheus: Callable[..., Prometheus],
    rule_files: list[Path],
) -> None:
    started = time.monotonic()
    big = {"max.message.bytes": str(LARGE_MESSAGE_BYTES)}
    source, output = kafka.topic("dash-in", 2, big), kafka.topic("dash-out", 2)
    quarantine = kafka.topic("dash-q", config=big)
    config = pipeline_config(
        kafka.bootstrap, f"it-group-{source}", source, output, quarantine,
        kafka_settings={"message.max.bytes": LARGE_MESSAGE_BYTES},
        extra={"limits": {"max_record_bytes": MAX_RECORD_BYTES}},
    )  # fmt: skip
    # k-anonymity of the JSON logs' level and service, so the k-anonymity alert has series.
    config["routes"][0]["kanon"] = {"quasi_identifiers": ["level", "service"], "k": 5,
                                    "window_records": 50}  # fmt: skip
    scrubber = scrubbers(config, workers=2)
    prometheus = start_prometheus(scrubber.port, *rule_files)
    ready = scrubber.wait_ready()
    # Prometheus saw both workers at zero before any record, so rates see the increase.
    total = f"sum(scrubber_assigned_partitions{{{SELECTOR}}})"
    prometheus.wait(total, 2, scrubber.assert_alive, 30)
    values = _records()
    kafka.produce(source, values, spread=2)
    kafka.wait_committed(config["kafka"]["group_id"], source, alive=scrubber.assert_alive)
    total = f"sum(scrubber_records_in_total{{{SELECTOR}}})"
    prometheus.wait(total, len(values), scrubber.assert_alive, 30)
    time.sleep(2.5)  # a few more scrapes and rule evaluations
    metrics = scrubber.metrics_text()

    dashboard = check_dashboard(prometheus, json.loads(DASHBOARD.read_text()))
    alerts, problems = check_alerts(prometheus, rule_files)
    print(f"\ndashboard: ready after {ready:.1f}s; "
          + "; ".join(f"{len(v)} {k}" for k, v in dashboard.items())
          + f"; {alerts} alert expressions; {time.monotonic() - started:.1f}s\n  serve-only: "
          + "\n  serve-only: ".join(dashboard["serve-only"]))  # fmt: skip
    assert dashboard["empty"] == [], "queries without data:\n" + "\n".join(dashboard["empty"])
    assert problems == [], "alerts:\n" + "\n".join(problems)
    # The exceptions are real: a `scrubber run` exports none of those series.
    assert [n for n in SERVE_ONLY if prometheus.query(f"{n}{{{SELECTOR}}}")] == []
    reasons = f"sum by (reason) (scrubber_records_quarantined_total{{{SELECTOR}}}) > 0"
    quarantined = {r["metric"]["reason"] for r in prometheus.query(reasons)}
    assert quarantined == {"invalid_utf8", "too_large"}
    assert prometheus.value(f"sum(scrubber_entities_total{{{SELECTOR}}})") > len(values) / 2

    # Nothing planted reaches a series: not /metrics, not any label value Prometheus stored.
    labels = prometheus.get("/api/v1/labels")
    stored = " ".join(v for name in labels for v in prometheus.get(f"/api/v1/label/{name}/values"))
    for where in (metrics, stored):
        assert PLANTED not in where and "planted.person" not in where
        assert canaries_in(where) == []

    # Process metrics: the parent's own unlabelled, each worker's labelled; one build info.
    digest = parse_config(config).digest()
    assert metric_value(metrics, "scrubber_build_info", config_hash=digest) == 1
    for name in ("process_cpu_seconds_total", "process_resident_memory_bytes",
                 "process_open_fds", "process_max_fds"):  # fmt: skip
        series = re.findall(rf"^{name}(\{{[^}}]*\}})? ", metrics, re.M)
        assert sorted(series) == ["", '{worker="0"}', '{worker="1"}'], (name, series)
    assert scrubber.terminate() == 0
