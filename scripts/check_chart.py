"""Checks a rendered Helm chart (`helm template ... | python scripts/check_chart.py`): the mounted
config is a valid Scrubber config, the container reads it from where it is mounted, and every
replica gets its own instance id (exactly-once transactional ids depend on it)."""

from __future__ import annotations

import sys
from typing import Any

import yaml

from scrubber.config import parse_config

CONFIG_PATH = "/etc/scrubber/config.yaml"


def check(documents: list[dict[str, Any]]) -> list[str]:
    problems: list[str] = []
    by_kind = {doc["kind"]: doc for doc in documents if doc}
    config_map = by_kind.get("ConfigMap")
    if config_map is None:
        return ["no ConfigMap"]
    parse_config(yaml.safe_load(config_map["data"]["config.yaml"]))  # raises ConfigError
    deployment = by_kind.get("Deployment")
    if deployment is None:
        return ["no Deployment"]
    [container] = [
        c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == "scrubber"
    ]
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
    return problems


def main() -> int:
    documents = list(yaml.safe_load_all(sys.stdin))
    problems = check(documents)
    for problem in problems:
        print(f"chart: {problem}", file=sys.stderr)
    print(f"chart: {len(documents)} documents, {'ok' if not problems else 'FAILED'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
