"""Checks the Helm chart as it renders.

    helm template ... | python scripts/check_chart.py     one rendered stream: `check` below
    python scripts/check_chart.py all --helm H --psa P --kubernetes-validate KV --promtool PT

`check` reads what Scrubber itself needs from a rendering: the mounted config is a valid Scrubber
config, read from where it is mounted; every replica gets its own instance id (exactly-once
transactional ids depend on it); the root filesystem is read-only and every path Scrubber writes
(vault, audit log, anchor) is on a writable mount; no service-account token is mounted; ports,
probes, Service, ServiceMonitor, PDB, HPA and ScaledObject agree with each other.

`all` renders every scenario (SCENARIOS: each mode, every switch, the worked examples) and runs
on each: `check`, kubernetes-validate --strict against the oldest and newest Kubernetes the chart
supports, and the Pod Security "restricted" evaluator (scripts/psa, the admission plugin's own
code); then, for each mode, promtool check rules + test rules (helm/tests/alerts-<mode>.test.yaml)
on the PrometheusRule as rendered.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from scrubber.config import parse_config
from scrubber.gateway.serve import gateway_config

ROOT = Path(__file__).resolve().parents[1]
CHART = ROOT / "helm"
CONFIG_PATH = "/etc/scrubber/config.yaml"
WORKDIR = "/var/lib/scrubber"
KUBE_VERSIONS = ("1.27.0", "1.37.0")  # Chart.yaml kubeVersion's floor, and the newest schemas
MODES = ("run", "serve", "gateway")
# What a mode needs besides the chart's defaults to render at all (gateway: its upstream).
MODE_ARGS: dict[str, list[str]] = {
    "run": [],
    "serve": [],
    "gateway": ["--set", "config.gateway.upstream=https://llm.example.com"],
}
# name -> helm template arguments (values files are relative to the repository)
SCENARIOS: dict[str, list[str]] = {
    "run": [],
    "serve": ["--set", "mode=serve"],
    "gateway": [
        "--set",
        "mode=gateway",
        *MODE_ARGS["gateway"],
        "--set",
        "config.keys.default.file=/var/run/secrets/scrubber/token.key",
        "--set",
        "keys.existingSecret=scrubber-keys",
    ],
    "run-everything": ["-f", "helm/ci/run-everything-values.yaml"],
    "serve-everything": ["-f", "helm/ci/serve-everything-values.yaml"],
    "example-sidecar": ["-f", "helm/examples/sidecar/values.yaml"],
    "example-standalone": ["-f", "helm/examples/standalone/values.yaml"],
    "example-gateway": ["-f", "helm/examples/gateway/values.yaml"],
}
CRD_KINDS = {"ServiceMonitor", "PrometheusRule", "ScaledObject"}
METRIC = re.compile(r"\b(?:scrubber|process|python)_[a-z0-9_]+\b")
PROMETHEUS_OWN = {"up"}  # series Prometheus makes itself, not the processes


# ---------------------------------------------------------------- one rendered stream


def check(documents: list[dict[str, Any]]) -> list[str]:
    """Problems with one rendering (empty: fine). A bad mounted config raises ConfigError."""
    documents = [doc for doc in documents if doc]
    by_kind = {doc["kind"]: doc for doc in documents}
    config_map = next((d for d in documents if d["kind"] == "ConfigMap" and
                       "config.yaml" in d.get("data", {})), None)  # fmt: skip
    if config_map is None:
        return ["no ConfigMap"]
    config = parse_config(yaml.safe_load(config_map["data"]["config.yaml"]))  # raises ConfigError
    deployment = by_kind.get("Deployment")
    if deployment is None:
        return ["no Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    [container] = [c for c in pod["containers"] if c["name"] == "scrubber"]
    if container["args"][:1] == ["gateway"]:
        gateway_config(config)  # upstream and the default policy's key: raises ConfigError
    problems = _container_problems(container)
    problems += _path_problems(container, config)
    problems += _pod_problems(pod, deployment)
    problems += _companion_problems(by_kind, deployment, container)
    return problems


def _container_problems(container: dict[str, Any]) -> list[str]:
    problems = []
    if CONFIG_PATH not in container["args"]:
        problems.append(f"container does not read {CONFIG_PATH}: {container['args']}")
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    if CONFIG_PATH.rsplit("/", 1)[0] not in mounts:
        problems.append("config directory is not mounted")
    env = {e["name"]: e for e in container.get("env", [])}
    pod_name = env.get("SCRUBBER_INSTANCE_ID", {}).get("valueFrom", {}).get("fieldRef", {})
    if pod_name.get("fieldPath") != "metadata.name":
        problems.append("SCRUBBER_INSTANCE_ID is not the pod name")
    if not container["securityContext"].get("readOnlyRootFilesystem"):
        problems.append("root filesystem is writable")
    ports = {p["name"] for p in container.get("ports", [])}
    for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
        port = container.get(kind, {}).get("httpGet", {}).get("port")
        if port is not None and port not in ports:
            problems.append(f"{kind} asks port {port}, which the container does not name")
    return problems


def _writable(container: dict[str, Any]) -> list[str]:
    return [m["mountPath"] for m in container.get("volumeMounts", []) if not m.get("readOnly")]


def _path_problems(container: dict[str, Any], config: Any) -> list[str]:
    """Every file Scrubber writes must be on a writable mount (the root is read-only)."""
    if config.vault is None:
        return []
    workdir = container.get("workingDir", "/")
    wanted = (
        [("vault.sqlite_path", config.vault.sqlite_path)] if config.vault.store == "sqlite" else []
    )
    wanted += [
        ("vault.audit_log", config.vault.audit_log),
        ("vault.audit.anchor", config.vault.audit.anchor),
    ]
    problems = []
    for key, path in wanted:
        if path is None:
            continue
        absolute = Path(workdir) / path
        if not any(absolute.is_relative_to(mount) for mount in _writable(container)):
            problems.append(
                f"{key} ({absolute}) is not on a writable mount; put it under {WORKDIR}"
            )
    return problems


def _pod_problems(pod: dict[str, Any], deployment: dict[str, Any]) -> list[str]:
    problems = []
    if pod.get("automountServiceAccountToken") is not False:
        problems.append("the service-account token is mounted (automountServiceAccountToken)")
    volumes = {v["name"] for v in pod.get("volumes", [])}
    problems += [
        f"{container['name']} mounts {mount['name']}, not a pod volume"
        for container in pod["containers"] + pod.get("initContainers", [])
        for mount in container.get("volumeMounts", [])
        if mount["name"] not in volumes
    ]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    selector = deployment["spec"]["selector"]["matchLabels"]
    if not selector.items() <= labels.items():
        problems.append("the Deployment's selector does not select its own pods")
    return problems


def _companion_problems(
    by_kind: dict[str, dict[str, Any]], deployment: dict[str, Any], container: dict[str, Any]
) -> list[str]:
    """Service, ServiceMonitor, PDB and the autoscalers point at what exists."""
    problems = []
    name = deployment["metadata"]["name"]
    ports = {p["name"] for p in container["ports"]}
    service = by_kind.get("Service")
    service_ports = {p["name"] for p in service["spec"]["ports"]} if service else set()
    if service and not {p["targetPort"] for p in service["spec"]["ports"]} <= ports:
        problems.append("the Service targets a port the container does not name")
    if monitor := by_kind.get("ServiceMonitor"):
        scraped = {e["port"] for e in monitor["spec"]["endpoints"]}
        if scraped != service_ports:
            problems.append(
                f"the ServiceMonitor scrapes {sorted(scraped)}, not the Service's ports"
            )
    for kind in ("HorizontalPodAutoscaler", "ScaledObject"):
        if (scaler := by_kind.get(kind)) and scaler["spec"]["scaleTargetRef"]["name"] != name:
            problems.append(f"the {kind} scales another Deployment")
        if scaler and "replicas" in deployment["spec"]:
            problems.append(f"replicas is set although a {kind} owns it")
    if (pdb := by_kind.get("PodDisruptionBudget")) and pdb["spec"]["selector"]["matchLabels"] != (
        deployment["spec"]["selector"]["matchLabels"]
    ):
        problems.append("the PodDisruptionBudget selects other pods")
    if policy := by_kind.get("NetworkPolicy"):
        dns = [
            r
            for r in policy["spec"].get("egress", [])
            if {"port": 53, "protocol": "UDP"} in r.get("ports", [])
        ]
        if not dns:
            problems.append("the NetworkPolicy allows no DNS")
        if any("to" not in rule for rule in policy["spec"].get("egress", [])):
            problems.append(
                "a NetworkPolicy egress rule has no `to`: it opens its ports to anywhere"
            )
    return problems


# ---------------------------------------------------------------- metric names


def metric_names_in(expressions: Iterable[str]) -> set[str]:
    """Series names a set of PromQL expressions read (ours, and the few Prometheus makes)."""
    names: set[str] = set()
    for expression in expressions:
        names |= set(METRIC.findall(expression))
        names |= {n for n in PROMETHEUS_OWN if re.search(rf"\b{n}\s*\{{", expression)}
    return names


def rule_expressions(rules: dict[str, Any]) -> list[str]:
    return [rule["expr"] for group in rules["groups"] for rule in group["rules"]]


def dashboard_expressions(dashboard: dict[str, Any]) -> list[str]:
    found = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    found += [v["definition"] for v in dashboard["templating"]["list"] if v.get("definition")]
    return found


# ---------------------------------------------------------------- the whole chart


class Tools:
    def __init__(self, args: argparse.Namespace) -> None:
        self.helm, self.psa = args.helm, args.psa
        self.kubernetes_validate, self.promtool = args.kubernetes_validate, args.promtool


def run(command: list[str], stdin: str | None = None) -> str:
    done = subprocess.run(  # noqa: S603  # the tools the Makefile names, on our own files
        command, input=stdin, capture_output=True, text=True, check=False, cwd=ROOT
    )
    if done.returncode != 0:
        raise CheckFailed(
            f"{' '.join(command[:3])} ...: exit {done.returncode}\n{done.stdout}{done.stderr}"
        )
    return done.stdout


class CheckFailed(Exception):
    pass


def render(helm: str, args: list[str]) -> str:
    return run([helm, "template", "scrubber", str(CHART), "--namespace", "default", *args])


def check_scenario(tools: Tools, name: str, args: list[str], workdir: Path) -> str:
    rendered = render(tools.helm, args)
    documents = [d for d in yaml.safe_load_all(rendered) if d]
    if problems := check(documents):
        raise CheckFailed(f"{name}: " + "; ".join(problems))
    manifest = workdir / f"{name}.yaml"
    manifest.write_text(rendered)
    for version in KUBE_VERSIONS:
        # Only CRD kinds lack a schema; their content is checked by `check` and promtool.
        out = run([tools.kubernetes_validate, "--strict", "--quiet", "-k", version, str(manifest)])
        unknown = set(re.findall(r"schema for kind (\w+)", out)) - CRD_KINDS
        if unknown:
            raise CheckFailed(f"{name}: no schema for {sorted(unknown)}")
    psa = run([tools.psa, "-level", "restricted", "-version", "latest"], stdin=rendered).strip()
    kinds = sorted({d["kind"] for d in documents})
    return f"{name}: {len(documents)} documents ({', '.join(kinds)}); {psa.removeprefix('psa: ')}"


def check_rules(tools: Tools, mode: str, workdir: Path) -> str:
    rendered = render(tools.helm, ["--set", f"mode={mode}", *MODE_ARGS[mode], "--set",
                                   "prometheusRule.enabled=true",
                                   "--show-only", "templates/prometheusrule.yaml"])  # fmt: skip
    rules = workdir / f"rules-{mode}.yaml"
    rules.write_text(yaml.safe_dump(yaml.safe_load(rendered)["spec"], sort_keys=False))
    test = workdir / f"alerts-{mode}.test.yaml"
    shutil.copy(CHART / "tests" / test.name, test)
    run([tools.promtool, "check", "rules", str(rules)])
    out = run([tools.promtool, "test", "rules", str(test)])
    count = len(rule_expressions(yaml.safe_load(rules.read_text())))
    return f"rules-{mode}: {count} alerts, promtool check + test: {out.strip().splitlines()[-1]}"


def check_dashboard() -> str:
    dashboard = json.loads((CHART / "dashboards" / "scrubber.json").read_text())
    ids = [p["id"] for p in dashboard["panels"]]
    if len(ids) != len(set(ids)):
        raise CheckFailed("dashboard: panel ids repeat")
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            if "$job" not in target["expr"] or "$namespace" not in target["expr"]:
                raise CheckFailed(
                    f"dashboard: {panel['title']!r} ignores the $namespace/$job variables"
                )
    return f"dashboard: {len(ids)} panels, {len(dashboard_expressions(dashboard))} queries"


def check_all(tools: Tools) -> int:
    lines = [run([tools.helm, "lint", "--strict", str(CHART)]).strip().splitlines()[-1]]
    with tempfile.TemporaryDirectory(prefix="scrubber-chart-") as tmp:
        workdir = Path(tmp)
        lines += [check_scenario(tools, name, args, workdir) for name, args in SCENARIOS.items()]
        lines += [check_rules(tools, mode, workdir) for mode in MODES]
    lines.append(check_dashboard())
    for line in lines:
        print(f"chart: {line}")
    return 0


def main(argv: list[str]) -> int:
    if not argv:
        documents = list(yaml.safe_load_all(sys.stdin))
        problems = check(documents)
        for problem in problems:
            print(f"chart: {problem}", file=sys.stderr)
        print(f"chart: {len(documents)} documents, {'ok' if not problems else 'FAILED'}")
        return 1 if problems else 0
    parser = argparse.ArgumentParser(prog="check_chart.py")
    sub = parser.add_subparsers(dest="command", required=True)
    every = sub.add_parser("all", help="every scenario, the schemas, Pod Security and the alerts")
    for tool in ("helm", "psa", "kubernetes-validate", "promtool"):
        every.add_argument(f"--{tool}", required=True)
    args = parser.parse_args(argv)
    try:
        return check_all(Tools(args))
    except CheckFailed as failure:
        print(f"chart: FAILED {failure}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
