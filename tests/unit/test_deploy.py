"""The Dockerfile, the lock file and the Helm chart agree with the product: a valid default config,
mounted where the image reads it, ports that the processes serve, writable paths where Scrubber
writes, and only pinned, hashed dependencies. (tests/integration/test_chart.py runs helm itself.)"""

from __future__ import annotations

import copy
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from scripts.check_chart import CONFIG_PATH, SCENARIOS, check, metric_names_in
from scripts.healthcheck import target
from scrubber.config import parse_config
from scrubber.config.gateway import GatewayConfig, GatewayTimeouts
from scrubber.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm"
VALUES = yaml.safe_load((CHART / "values.yaml").read_text())


def test_chart_default_config_is_a_valid_scrubber_config() -> None:
    config = parse_config(VALUES["config"])
    assert config.routes and config.quarantine.topic


@pytest.mark.parametrize(
    "path",
    sorted((CHART / "examples").glob("*/values.yaml")) + sorted((CHART / "ci").glob("*.yaml")),
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_every_example_config_is_valid_and_rendered_by_chart_check(path: Path) -> None:
    values = yaml.safe_load(path.read_text())
    parse_config(values["config"])
    assert ["-f", str(path.relative_to(ROOT))] in SCENARIOS.values()


def test_image_reads_the_config_where_the_chart_mounts_it_and_serves_the_chart_ports() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert f'"{CONFIG_PATH}"' in dockerfile
    assert f"EXPOSE {VALUES['metrics']['port']} {VALUES['serve']['port']}" in dockerfile
    assert "USER 10001:10001" in dockerfile and VALUES["podSecurityContext"]["runAsUser"] == 10001
    # The chart's working directory is the image's: a relative vault path lands on the volume.
    assert "WORKDIR /var/lib/scrubber" in dockerfile


def test_image_base_is_pinned_by_digest_and_installs_only_hashed_pins() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim-bookworm@sha256:[0-9a-f]{64}$",
                     dockerfile, re.M)  # fmt: skip
    assert "--require-hashes" in dockerfile and "-r /src/requirements.lock" in dockerfile
    assert 'CMD ["scrubber-healthcheck"]' in dockerfile
    for label in ("title", "version", "revision", "created", "licenses", "base.name"):
        assert f"org.opencontainers.image.{label}=" in dockerfile


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_the_lock_pins_every_runtime_dependency_with_hashes() -> None:
    lock = (ROOT / "requirements.lock").read_text()
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+) \\$", lock, re.M))
    requirements = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    wanted = {_normalise(re.split(r"[\[<>=~! ]", r, maxsplit=1)[0]) for r in requirements}
    assert wanted | {"setuptools", "wheel"} <= {_normalise(n) for n in pins}
    blocks = re.split(r"\n(?=[A-Za-z0-9])", lock.split("\n\n", 1)[1])
    assert all("--hash=sha256:" in block for block in blocks if "==" in block)
    assert "--find-links" not in lock and "--index-url" not in lock


def _rendered(**changes: Any) -> list[dict[str, Any]]:
    """A minimal rendering of the chart's shape, for the checker's own tests."""
    container = {
        "name": "scrubber",
        "args": ["run", "--config", CONFIG_PATH],
        "workingDir": "/var/lib/scrubber",
        "ports": [{"name": "http", "containerPort": 9400}],
        "readinessProbe": {"httpGet": {"path": "/readyz", "port": "http"}},
        "volumeMounts": [
            {"name": "config", "mountPath": "/etc/scrubber", "readOnly": True},
            {"name": "data", "mountPath": "/var/lib/scrubber"},
        ],
        "env": [
            {
                "name": "SCRUBBER_INSTANCE_ID",
                "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}},
            }
        ],
        "securityContext": {"readOnlyRootFilesystem": True},
    }
    labels = {"app.kubernetes.io/name": "scrubber"}
    pod = {"automountServiceAccountToken": False, "containers": [container],
           "volumes": [{"name": "config"}, {"name": "data"}]}  # fmt: skip
    deployment = {
        "kind": "Deployment",
        "metadata": {"name": "scrubber"},
        "spec": {"selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels}, "spec": pod}},
    }  # fmt: skip
    config_map = {"kind": "ConfigMap", "data": {"config.yaml": "routes: []\n"}}
    documents = copy.deepcopy([config_map, deployment])
    for path, value in changes.items():
        *parents, last = path.split("__")
        node: Any = documents[1]["spec"]["template"]["spec"]["containers"][0]
        if parents and parents[0] == "pod":
            node, parents = documents[1]["spec"]["template"]["spec"], parents[1:]
        if parents and parents[0] == "config":
            documents[0]["data"]["config.yaml"] = value
            continue
        for key in parents:
            node = node[key]
        node[last] = value
    return documents


def test_chart_checker_passes_the_minimal_shape() -> None:
    assert check(_rendered()) == []


def test_chart_checker_catches_a_shared_instance_id_a_token_and_a_bad_config() -> None:
    assert check(_rendered(env=[])) == ["SCRUBBER_INSTANCE_ID is not the pod name"]
    assert check(_rendered(pod__automountServiceAccountToken=True)) == [
        "the service-account token is mounted (automountServiceAccountToken)"
    ]
    assert check(_rendered(securityContext={})) == ["root filesystem is writable"]
    with pytest.raises(ConfigError, match="kafka"):
        check(_rendered(config__x="kafka: {acks: 1}\n"))


def test_chart_checker_wants_the_vault_on_a_writable_mount() -> None:
    vault = (
        "vault: {encryption_keys: {1: {env: K}}, active_key: 1, audit: {key: {env: A}}, "
        "sqlite_path: %s}\n"
    )
    assert check(_rendered(config__x=vault % "scrubber-vault.db")) == []
    assert check(_rendered(config__x=vault % "/opt/scrubber/vault.db")) == [
        "vault.sqlite_path (/opt/scrubber/vault.db) is not on a writable mount; "
        "put it under /var/lib/scrubber"
    ]


@pytest.mark.parametrize(
    ("argv", "port"),
    [
        (
            ["/opt/scrubber/bin/python", "/opt/scrubber/bin/scrubber", "serve", "--port", "9000"],
            9000,
        ),
        (["scrubber", "serve", "--config", "/etc/scrubber/config.yaml"], 8080),
        (["scrubber", "run", "--config", "/etc/scrubber/config.yaml"], 9400),
        (["scrubber", "run", "--metrics-port=9500", "--workers", "2"], 9500),
        (["scrubber", "gateway", "--config", "/etc/scrubber/config.yaml"], 8080),
        (["scrubber", "gateway", "--config", "c.yaml", "--host", "0.0.0.0", "--port=8090"], 8090),
        (["scrubber", "scrub", "in.log"], None),
    ],
)
def test_the_image_healthcheck_asks_the_port_of_the_mode_it_runs(
    argv: list[str], port: int | None
) -> None:
    assert target(argv) == port


def test_metric_names_are_read_from_promql_without_functions_or_labels() -> None:
    expression = ('histogram_quantile(0.99, sum by (le) (rate(scrubber_end_to_end_seconds_bucket'
                  '{job="x"}[5m]))) / up{job="x"} + process_open_fds')  # fmt: skip
    assert metric_names_in([expression]) == {
        "scrubber_end_to_end_seconds_bucket", "up", "process_open_fds"
    }  # fmt: skip


def test_chart_checker_runs_the_gateways_own_checks_in_mode_gateway() -> None:
    args = ["gateway", "--config", CONFIG_PATH, "--host", "0.0.0.0", "--port", "8080"]
    with pytest.raises(ConfigError, match=r"gateway\.upstream"):
        check(_rendered(args=args))
    config = "keys: {default: {env: K}}\ngateway: {upstream: https://api.openai.com}\n"
    assert check(_rendered(args=args, config__x=config)) == []


def test_the_values_schema_knows_every_gateway_key_and_no_other() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    gateway = schema["properties"]["config"]["properties"]["gateway"]
    assert set(gateway["properties"]) == set(GatewayConfig.model_fields)
    timeouts = gateway["properties"]["timeouts"]["properties"]
    assert set(timeouts) == set(GatewayTimeouts.model_fields)
    assert "gateway" in schema["properties"]["mode"]["enum"]
