"""The five configured recognizers of benchmarks/bench_custom_recognizers.py (`write_config`)
as `scrubber run` and `scrubber serve` load them, with records each must catch and near-misses
each must let through (shared by tests/integration/test_pipeline_custom_recognizers.py and
tests/unit/api/test_custom_recognizers_served.py).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from benchmarks.bench_custom_recognizers import write_config

ALLOWED = "PRJ-TST-0000"  # a project code on detection.allow_list

# (input, expected output): `<PROJECT_CODE_*>` stands for a token (checked apart, by value).
RECORDS: list[tuple[str, str]] = [
    # employee_number: a Luhn-valid badge; the same shape with a wrong check digit stays.
    ("badge EMP-12345674 checked in at gate 4", "badge <EMPLOYEE_ID> checked in at gate 4"),
    ("badge EMP-12345670 checked in at gate 5", "badge EMP-12345670 checked in at gate 5"),
    # order_number: weak alone, reported with `purchase` before it; vip_names: a deny-list term.
    ("purchase 4711000042 shipped to Project Nightjar", "purchase <ORDER_ID> shipped to <PERSON>"),
    ("batch 5822000097 shipped", "batch 5822000097 shipped"),
    # vip_names in another case (deny_list_case: insensitive) and project_code, in JSON.
    ('{"msg": "escalated to aurelio quintanilla-voss", "project": "PRJ-QRS-0042"}',
     '{"msg": "escalated to <PERSON>", "project": "<PROJECT_CODE_*>"}'),
    # project_code again (the same token) and the Presidio-format Internal host Recognizer.
    ("PRJ-QRS-0042 deployed on web3.corp.example.net",
     "<PROJECT_CODE_*> deployed on <INTERNAL_HOST>"),
    ("PRJ-XYZ-0007 rolled back", "<PROJECT_CODE_*> rolled back"),
    (f"{ALLOWED} is the sample code", f"{ALLOWED} is the sample code"),
]  # fmt: skip

# What must be nowhere after scrubbing (compared case-insensitively), and what must stay.
PLANTED = ("EMP-12345674", "4711000042", "Nightjar", "Aurelio", "Quintanilla", "PRJ-QRS-0042",
           "PRJ-XYZ-0007", "web3.corp.example.net")  # fmt: skip
NEAR_MISSES = ("EMP-12345670", "5822000097", ALLOWED)
# Entity types found in RECORDS, with how many of each.
FOUND = {"EMPLOYEE_ID": 1, "ORDER_ID": 1, "PERSON": 2, "PROJECT_CODE": 3, "INTERNAL_HOST": 1}

# A Python plug-in beside the five, matching nothing in RECORDS: its calls show in /metrics.
PLUGIN = {"name": "codenames", "entity_type": "CODENAME",
          "python": "tests.unit.engine.plugin_recognizers:CodenameRecognizer",
          "python_args": {"words": ["zorblax"]}}  # fmt: skip

TOKEN = re.compile(r"<PROJECT_CODE_[0-9a-f]{8}>")


def five_recognizers(folder: Path, plugin: bool = False) -> dict[str, Any]:
    """write_config's config as a dict (its presidio.yaml written into `folder`: a config
    written there finds it), with ALLOWED on detection.allow_list, and PLUGIN if asked."""
    config: dict[str, Any] = yaml.safe_load(write_config(folder).read_text("utf-8"))
    assert "detection" not in config
    config["recognizers"] += [PLUGIN] if plugin else []
    return {**config, "detection": {"allow_list": [ALLOWED]}}


def project_tokens(outputs: list[str]) -> list[str]:
    """The PROJECT_CODE tokens in the outputs, in order; asserts each output matches RECORDS."""
    assert len(outputs) == len(RECORDS)
    tokens: list[str] = []
    for out, (_, expected) in zip(outputs, RECORDS, strict=True):
        tokens += TOKEN.findall(out)
        assert TOKEN.sub("<PROJECT_CODE_*>", out) == expected
    return tokens


def assert_tokens_per_value(tokens: list[str]) -> None:
    """PRJ-QRS-0042 twice, then PRJ-XYZ-0007: the same value gets the same token."""
    assert len(tokens) == 3
    assert tokens[0] == tokens[1] != tokens[2]


def leaked(*blobs: str) -> list[str]:
    """The planted values found in any of `blobs`."""
    text = "\n".join(blobs).lower()
    return [value for value in PLANTED if value.lower() in text]
