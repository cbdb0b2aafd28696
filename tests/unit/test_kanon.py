"""k-anonymity report: classes counted over quasi-identifiers, counts only, exit code as a gate."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from scrubber.kanon import k_anonymity


def _lines(records: list[dict[str, object]]) -> list[str]:
    return [json.dumps(r) for r in records]


def test_classes_and_the_records_below_k_are_counted() -> None:
    records = [{"user": {"age": "30-39", "zip": "941**"}}] * 5
    records += [{"user": {"age": "40-49", "zip": "941**"}}] * 2
    records += [{"user": {"age": "90+", "zip": "100**"}}]
    report = k_anonymity(_lines(records), ("user.age", "user.zip"), k=3)
    assert (report.records, report.classes, report.smallest_class) == (8, 3, 1)
    assert (report.classes_below_k, report.records_below_k) == (2, 3)
    assert not report.k_anonymous
    by_zip = k_anonymity(_lines(records), ("user.zip",), k=3)
    assert (by_zip.classes, by_zip.smallest_class, by_zip.records_below_k) == (2, 1, 1)


def test_a_missing_field_is_its_own_value_and_non_objects_are_skipped() -> None:
    lines = [*_lines([{"age": 1}, {"age": None}, {}]), "not json", "[1, 2]", ""]
    report = k_anonymity(lines, ("age",), k=2)
    assert report.classes == 3  # 1, null and missing differ
    assert (report.records, report.skipped_lines) == (3, 2)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="quasi-identifier"):
        k_anonymity([], (), k=5)
    with pytest.raises(ValueError, match="at least 2"):
        k_anonymity([], ("a",), k=1)


def test_cli_prints_counts_never_values_and_exits_1_below_k(tmp_path: Path) -> None:
    rare_value = "Zyxwvut-Postcode-77"
    data = tmp_path / "scrubbed.jsonl"
    data.write_text("\n".join(_lines([{"zip": "941**"}] * 4 + [{"zip": rare_value}])) + "\n")
    command = [sys.executable, "-m", "scrubber.cli", "kanon", "--quasi", "zip", "--k", "3"]
    below = subprocess.run([*command, str(data)], capture_output=True, text=True, check=False)
    assert below.returncode == 1
    assert rare_value not in below.stdout + below.stderr
    assert json.loads(below.stdout)["records_below_k"] == 1
    ok = subprocess.run([*command, "--k", "1"], capture_output=True, text=True, check=False,
                        input=data.read_text())  # fmt: skip
    assert ok.returncode == 2 and "at least 2" in ok.stderr
