"""The Helm chart refuses what it cannot deploy, and its alerts and dashboard read only series the
processes really export.

Runs the real `helm` (scripts/tools.sh builds it into ~/.cache/scrubber/bin; HELM overrides) and
a real `scrubber serve`. Without helm the tests skip locally and fail in CI (CI=true).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry, Counter
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

from scripts.check_chart import (
    CHART,
    MODE_ARGS,
    PROMETHEUS_OWN,
    dashboard_expressions,
    metric_names_in,
    rule_expressions,
)
from scrubber import __version__, metrics_common
from scrubber.gateway.metrics import GatewayMetrics
from scrubber.pipeline.metrics import PipelineMetrics
from scrubber.privacy.kanon_metrics import register_kanon_metrics

ROOT = Path(__file__).resolve().parents[2]
HELM = Path(os.environ.get("HELM", Path.home() / ".cache" / "scrubber" / "bin" / "helm"))
SUFFIXES = {  # family type -> the sample names it is exported as
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("", "_sum", "_count", "_created"),
    "info": ("_info",),
}
GATEWAY = ["--set", "mode=gateway", *MODE_ARGS["gateway"]]


@pytest.fixture(scope="module")
def helm() -> Path:
    if not HELM.is_file():
        message = f"no helm at {HELM}: run `bash scripts/tools.sh install` (or make chart-check)"
        if os.environ.get("CI") or os.environ.get("HELM"):  # `make test` names its helm
            pytest.fail(message)
        pytest.skip(message)
    return HELM


def template(helm: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [str(helm), "template", "scrubber", str(CHART), "--namespace", "default", *args]
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)


# ---------------------------------------------------------------- the schema and the checks


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "replicaCount=two"], "at '/replicaCount': got string, want integer"),
        (["--set", "replicaCont=2"], "additional properties 'replicaCont' not allowed"),
        (["--set", "image.tags=1.0"], "additional properties 'tags' not allowed"),
        (["--set", "probes.liveness.periodSecond=5"], "additional properties 'periodSecond'"),
        (["--set", "mode=batch"], "at '/mode'"),
        (["--set", "config.gateway.upstrem=https://x"], "additional properties 'upstrem'"),
        (["--set", "config.gateway.upstream=api.openai.com"], "at '/config/gateway/upstream'"),
        (["--set", "config.gateway.conversation_store=redis"], "conversation_store"),
        (["--set", "gateway.port=0"], "at '/gateway/port'"),
        (["--set", "workers=0"], "at '/workers'"),
        (["--set", "image.digest=latest"], "at '/image/digest'"),
        (["--set", "persistence.type=hostPath"], "at '/persistence/type'"),
        (["--set", "metrics.port=70000"], "at '/metrics/port'"),
        (
            ["--set-string", "serviceAccount.automountServiceAccountToken=no"],
            "at '/serviceAccount/automountServiceAccountToken'",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else v[-1],
)
def test_an_unknown_or_ill_typed_value_fails_with_the_schemas_message(
    helm: Path, args: list[str], message: str
) -> None:
    done = template(helm, *args)
    assert done.returncode != 0, done.stdout[:500]
    assert "values don't meet the specifications of the schema" in done.stderr
    assert message in done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "mode=gateway"], "mode gateway needs config.gateway.upstream"),
        (
            [*GATEWAY, "--set", "networkPolicy.enabled=true"],
            "networkPolicy.egress.upstream.to is empty",
        ),
        (
            [
                *GATEWAY,
                "--set",
                "config.gateway.upstream=http://litellm.ai:4000",
                "--set",
                "networkPolicy.enabled=true",
                "--set",
                "networkPolicy.egress.upstream.to[0].podSelector.matchLabels.app=litellm",
            ],
            "does not hold 4000",
        ),
        (
            [*GATEWAY, "--set", "config.gateway.scope=conversation", "--set", "replicaCount=2"],
            "conversation_store: vault",
        ),
        (["--set", "autoscaling.enabled=true", "--set", "keda.enabled=true"], "choose one"),
        (["--set", "mode=serve", "--set", "keda.enabled=true"], "only mode run has"),
        (["--set", "networkPolicy.enabled=true"], "networkPolicy.egress.kafka.to is empty"),
        (
            ["--set", "config.vault.store=postgres", "--set", "config.vault.active_key=1"],
            "set vault.postgres.existingSecret",
        ),
        (
            [
                "--set",
                "config.vault.active_key=1",
                "--set",
                "persistence.type=pvc",
                "--set",
                "replicaCount=2",
            ],
            "belongs to one pod",
        ),
        (
            ["--set", "serviceMonitor.enabled=true", "--set", "service.enabled=false"],
            "serviceMonitor.enabled needs service.enabled",
        ),
    ],
    ids=[
        "gateway without an upstream",
        "gateway with open upstream egress",
        "gateway egress on another port",
        "gateway memory books on two pods",
        "two autoscalers",
        "keda on serve",
        "open egress",
        "postgres without a DSN",
        "sqlite on a claim, two pods",
        "a monitor without a service",
    ],
)
def test_values_that_cannot_work_together_fail_with_a_fix(
    helm: Path, args: list[str], message: str
) -> None:
    done = template(helm, *args)
    assert done.returncode != 0
    assert message in done.stderr


def test_the_sqlite_vault_on_an_empty_dir_is_warned_about_in_the_rendering(helm: Path) -> None:
    """In the manifest itself (GitOps tools never show NOTES.txt), and only then."""
    warning = "WARNING: the SQLite token vault is on an emptyDir"
    done = template(helm, "--set", "config.vault.active_key=1")
    assert done.returncode == 0, done.stderr
    assert warning in done.stdout
    on_a_claim = template(
        helm, "--set", "config.vault.active_key=1", "--set", "persistence.type=pvc"
    )
    assert on_a_claim.returncode == 0 and warning not in on_a_claim.stdout


@pytest.mark.parametrize(
    ("args", "rolls"),
    [([], True), (["--set", "hotReload=true"], False),
     (["--set", "hotReload=true", *GATEWAY], True)],  # only `run` reloads its config
    ids=["default", "hot-reload", "hot-reload-gateway"],
)  # fmt: skip
def test_a_config_change_rolls_the_pods_unless_run_reloads_it(
    helm: Path, args: list[str], rolls: bool
) -> None:
    done = template(helm, *args)
    assert done.returncode == 0, done.stderr
    [deployment] = [d for d in yaml.safe_load_all(done.stdout) if d and d["kind"] == "Deployment"]
    annotations = deployment["spec"]["template"]["metadata"].get("annotations") or {}
    assert ("checksum/config" in annotations) is rolls


def test_the_gateway_mode_runs_the_gateway_with_its_probes_service_and_upstream_egress(
    helm: Path,
) -> None:
    done = template(helm, *GATEWAY, "--set", "gateway.port=8090", "--set",
                    "networkPolicy.enabled=true", "--set",
                    "networkPolicy.egress.upstream.to[0].ipBlock.cidr=0.0.0.0/0")  # fmt: skip
    assert done.returncode == 0, done.stderr
    by_kind = {d["kind"]: d for d in yaml.safe_load_all(done.stdout) if d}
    [container] = by_kind["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["gateway", "--config", "/etc/scrubber/config.yaml",
                                 "--host", "0.0.0.0", "--port", "8090"]  # fmt: skip
    assert container["ports"] == [{"name": "http", "containerPort": 8090}]
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert by_kind["Service"]["spec"]["ports"] == [{"name": "http", "port": 8090,
                                                    "targetPort": "http"}]  # fmt: skip
    egress = by_kind["NetworkPolicy"]["spec"]["egress"]
    assert {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}],
            "ports": [{"port": 443, "protocol": "TCP"}]} in egress  # fmt: skip
    assert all(rule["ports"][0]["port"] != 9092 for rule in egress)  # no Kafka in mode gateway


# ---------------------------------------------------------------- metric names


def exported_names(families: Iterable[Metric]) -> set[str]:
    names = set()
    for family in families:
        names |= {family.name + suffix for suffix in SUFFIXES.get(family.type, ("",))}
    return names


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def serve_metrics_text(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """/metrics of a real `scrubber serve` (embedded default config) after one scrub."""
    port, log = free_port(), tmp_path_factory.mktemp("serve") / "serve.log"
    command = [sys.executable, "-m", "scrubber.cli", "serve", "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, log.read_text()[-2000:]
            assert time.monotonic() < deadline, "serve did not answer /healthz in 120 s"
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2).close()
                break
            except (urllib.error.URLError, OSError):
                time.sleep(0.25)
        scrub = urllib.request.Request(base + "/v1/scrub", data=b'{"text": "mail a@example.com"}',
                                       headers={"Content-Type": "application/json"})  # fmt: skip
        urllib.request.urlopen(scrub, timeout=30).close()
        with urllib.request.urlopen(base + "/metrics", timeout=10) as response:
            yield response.read().decode()
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def exported(serve_metrics_text: str) -> dict[str, set[str]]:
    """What each mode exports (run: a worker's registry; the parent of `--workers N` adds only
    `scrubber_workers`, tests/integration/test_dashboard_queries.py scrapes a real one)."""
    registry = PipelineMetrics("0" * 16, __version__).registry
    register_kanon_metrics(registry, {})  # as every worker does (scrubber.pipeline.privacy)
    pipeline = exported_names(registry.collect())
    serve = exported_names(text_string_to_metric_families(serve_metrics_text))
    gateway = exported_names(GatewayMetrics("0" * 16).registry.collect())
    return {"run": pipeline | {"scrubber_workers"}, "serve": serve, "gateway": gateway}


def rendered_rules(helm: Path, mode: str) -> dict[str, object]:
    done = template(helm, "--set", f"mode={mode}", *MODE_ARGS[mode], "--set",
                    "prometheusRule.enabled=true",
                    "--show-only", "templates/prometheusrule.yaml")  # fmt: skip
    assert done.returncode == 0, done.stderr
    spec: dict[str, object] = yaml.safe_load(done.stdout)["spec"]
    return spec


@pytest.mark.parametrize("mode", ["run", "serve", "gateway"])
def test_every_series_an_alert_reads_is_exported_by_that_mode(
    helm: Path, exported: dict[str, set[str]], mode: str
) -> None:
    used = metric_names_in(rule_expressions(rendered_rules(helm, mode)))  # type: ignore[arg-type]
    assert used, "no metric found in the rules"
    missing = used - exported[mode] - PROMETHEUS_OWN
    assert not missing, f"alerts of mode {mode} read series no process exports: {sorted(missing)}"


def test_every_dashboard_series_is_exported_and_its_variables_work_in_every_mode(
    exported: dict[str, set[str]],
) -> None:
    dashboard = json.loads((CHART / "dashboards" / "scrubber.json").read_text())
    used = metric_names_in(dashboard_expressions(dashboard))
    # No gateway panels yet: the dashboard reads run's and serve's series, its variables all three.
    missing = used - exported["run"] - exported["serve"]
    assert not missing, f"dashboard panels read series no process exports: {sorted(missing)}"
    variables = metric_names_in(v["definition"] for v in dashboard["templating"]["list"]
                                if v.get("definition"))  # fmt: skip
    for mode, names in exported.items():
        assert variables <= names, f"the dashboard's variables find nothing in mode {mode}"


def test_the_real_serve_process_exports_the_api_series(serve_metrics_text: str) -> None:
    names = exported_names(text_string_to_metric_families(serve_metrics_text))
    assert {"scrubber_http_requests_total", "scrubber_http_request_seconds_bucket"} <= names
    assert 'route="/v1/scrub"' in serve_metrics_text


def test_the_helpers_export_process_metrics_and_zeroed_series() -> None:
    registry = CollectorRegistry()
    metrics_common.add_process_metrics(registry)
    quarantined = Counter("q", "q", ["route", "reason"], registry=registry)
    metrics_common.zero_series(quarantined, metrics_common.product(["a", "b"], ["x", "y"]))
    samples = {s.name: s for f in registry.collect() for s in f.samples}
    assert {"process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds"} <= (
        set(samples)
    )
    zeroed = [s for f in registry.collect() if f.name == "q" for s in f.samples
              if s.name == "q_total"]  # fmt: skip
    assert sorted((s.labels["route"], s.labels["reason"], s.value) for s in zeroed) == [
        ("a", "x", 0.0), ("a", "y", 0.0), ("b", "x", 0.0), ("b", "y", 0.0)
    ]  # fmt: skip
