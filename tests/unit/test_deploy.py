"""The Dockerfile and the Helm chart agree with the product: a valid default config, mounted
where the image reads it, ports that the processes serve."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from scripts.check_chart import CONFIG_PATH, check
from scrubber.config import parse_config
from scrubber.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm"


def test_chart_default_config_is_a_valid_scrubber_config() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    config = parse_config(values["config"])
    assert config.routes and config.quarantine.topic


def test_image_reads_the_config_where_the_chart_mounts_it_and_serves_the_chart_ports() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert f'"{CONFIG_PATH}"' in dockerfile
    assert f"EXPOSE {values['metrics']['port']} {values['serve']['port']}" in dockerfile
    assert "USER 10001" in dockerfile and values["podSecurityContext"]["runAsUser"] == 10001


def test_chart_checker_catches_a_shared_instance_id_and_a_bad_config() -> None:
    container = {
        "name": "scrubber",
        "args": ["run", "--config", CONFIG_PATH],
        "volumeMounts": [{"mountPath": "/etc/scrubber"}],
        "env": [],
        "securityContext": {"readOnlyRootFilesystem": True},
    }
    deployment = {"kind": "Deployment", "spec": {"template": {"spec": {"containers": [container]}}}}
    config_map = {"kind": "ConfigMap", "data": {"config.yaml": "routes: []\n"}}
    assert check([config_map, deployment]) == ["SCRUBBER_INSTANCE_ID is not the pod name"]
    bad = {"kind": "ConfigMap", "data": {"config.yaml": "kafka: {acks: 1}\n"}}
    with pytest.raises(ConfigError, match="kafka"):
        check([bad, deployment])
