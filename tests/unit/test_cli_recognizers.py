"""Configured recognizers from the command line: `scrub` with the five, `config validate`
refusals (exit 2, naming recognizer and construct), `recognizers import` of Presidio's YAML."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from benchmarks.bench_custom_recognizers import TOKEN_KEY_ENV, write_config
from tests.keys import key

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, TOKEN_KEY_ENV: key("cli recognizers")}
    return subprocess.run(
        [sys.executable, "-m", "scrubber.cli", *args],
        input=stdin, capture_output=True, text=True, check=False, cwd=ROOT, env=env,
    )  # fmt: skip


def test_scrub_uses_the_five_recognizers(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    lines = [
        "badge EMP-12345674 checked in",
        "purchase 4711000042 shipped to Project Nightjar",
        '{"msg": "PRJ-QRS-0042 deployed on web3.corp.example.net"}',
    ]
    result = _run("scrub", "--config", str(config), stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout.splitlines()
    assert out[0] == "badge <EMPLOYEE_ID> checked in"
    assert out[1] == "purchase <ORDER_ID> shipped to <PERSON>"
    assert re.fullmatch(r"<PROJECT_CODE_[0-9a-f]{8}> deployed on <INTERNAL_HOST>",
                        json.loads(out[2])["msg"])  # fmt: skip


def test_validate_accepts_them(tmp_path: Path) -> None:
    result = _run("config", "validate", str(write_config(tmp_path)))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["valid"] is True
    assert "note: " in result.stderr  # RE2's ASCII \b, said once for the Presidio file


def _invalid(tmp_path: Path, entry: dict[str, object]) -> str:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"recognizers": [entry]}), "utf-8")
    result = _run("config", "validate", str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    return result.stderr


def test_validate_refuses_a_pattern_re2_cannot_compile(tmp_path: Path) -> None:
    error = _invalid(tmp_path, {"name": "amount", "entity_type": "AMOUNT",
                                "patterns": [{"name": "eur", "regex": r"\d+(?= EUR)"}]})  # fmt: skip
    assert error.startswith("config error: ")
    assert "recognizer 'amount': pattern 'eur': RE2 cannot compile a lookahead" in error


def test_validate_refuses_an_unknown_validator(tmp_path: Path) -> None:
    error = _invalid(tmp_path, {"name": "card", "entity_type": "LOYALTY",
                                "patterns": [{"regex": r"\bL\d{12}\b"}], "validators": ["luhnn"]})  # fmt: skip
    assert (
        "recognizer 'card': validators: unknown validator 'luhnn' (did you mean 'luhn'?)" in error
    )


def test_validate_refuses_a_duplicate_name(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    entry = {"name": "same", "entity_type": "A_ID", "deny_list": ["x1"]}
    path.write_text(yaml.safe_dump({"recognizers": [entry, {**entry, "entity_type": "B_ID"}]}))
    result = _run("config", "validate", str(path))
    assert result.returncode == 2
    assert "recognizer 'same': duplicate name" in result.stderr


def test_import_converts_presidio_yaml_and_lists_what_it_cannot(tmp_path: Path) -> None:
    presidio = {
        "recognizers": [
            {"name": "Order", "supported_entity": "ORDER", "context": ["order"],
             "patterns": [{"name": "weak", "regex": r"\b\d{10}\b", "score": 0.3}]},
            {"name": "Around", "supported_entity": "AROUND",
             "patterns": [{"name": "lb", "regex": r"(?<=id:)\d+", "score": 0.6}]},
            {"name": "PhoneRecognizer", "type": "predefined"},
        ]
    }  # fmt: skip
    source = tmp_path / "presidio.yaml"
    source.write_text(yaml.safe_dump(presidio), "utf-8")
    result = _run("recognizers", "import", str(source))
    assert result.returncode == 1  # something is left out, and said
    assert "not imported: " in result.stderr and "lookbehind" in result.stderr
    assert "note: " in result.stderr and "PhoneRecognizer" in result.stderr
    converted = yaml.safe_load(result.stdout)
    assert [r["name"] for r in converted["recognizers"]] == ["Order"]
    ours = tmp_path / "ours.yaml"
    ours.write_text(result.stdout, "utf-8")
    assert _run("config", "validate", str(ours)).returncode == 0
