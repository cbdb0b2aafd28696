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


def test_l_diversity_and_prosecutor_risk_of_a_file() -> None:
    records = [{"zip": "941**", "dx": "flu"}, {"zip": "941**", "dx": "asthma"}]
    records += [{"zip": "100**", "dx": "flu"}] * 3
    report = k_anonymity(_lines(records), ("zip",), k=2, sensitive="dx", l=2)
    assert (report.smallest_class, report.l_diversity, report.l_breached) == (2, 1, True)
    assert report.as_dict()["prosecutor_risk"] == 0.5
    assert report.as_dict()["l_diverse"] is False
    assert "l_diversity" not in k_anonymity(_lines(records), ("zip",), k=2).as_dict()
    with pytest.raises(ValueError, match="also a quasi-identifier"):
        k_anonymity([], ("zip",), k=2, sensitive="zip")


def test_logfmt_lines_are_records_too() -> None:
    lines = ["level=info age=30-39 zip=941**", 'age=30-39 zip="941**"', "age=40-49 zip=941**"]
    report = k_anonymity(lines, ("age", "zip"), k=2)
    assert (report.records, report.classes, report.smallest_class) == (3, 2, 1)


def test_windows_are_reported_one_by_one_beside_the_whole_file() -> None:
    records = [{"zip": "941**"}] * 4 + [{"zip": "941**"}, {"zip": "100**"}] * 2 + [{"zip": "x"}]
    windows: list[tuple[int, int, int]] = []
    report = k_anonymity(
        _lines(records), ("zip",), k=2, window_records=4,
        on_window=lambda n, f: windows.append((n, f.records, f.smallest_class)),
    )  # fmt: skip
    assert windows == [(0, 4, 4), (1, 4, 2), (2, 1, 1)]  # the last window is shorter
    assert (report.windows, report.records, report.smallest_class) == (3, 9, 1)
    with pytest.raises(ValueError, match="never hold a class"):
        k_anonymity([], ("zip",), k=5, window_records=4)


def test_cli_windows_and_l_diversity_print_counts_and_gate_on_l(tmp_path: Path) -> None:
    rare_value = "Zyxwvut-Diagnosis-77"
    data = tmp_path / "scrubbed.jsonl"
    records = [{"zip": "941**", "dx": "flu"}, {"zip": "941**", "dx": rare_value}] * 3
    data.write_text("\n".join(_lines(records)) + "\n")
    command = [sys.executable, "-m", "scrubber.cli", "kanon", "--quasi", "zip", "--k", "2",
               "--sensitive", "dx", "--window-records", "4", str(data)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert rare_value not in done.stdout + done.stderr
    *windows, whole = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(w["window"], w["records"], w["l_diversity"]) for w in windows] == [
        (0, 4, 2),
        (1, 2, 2),
    ]
    assert (whole["records"], whole["l_diversity"], whole["windows"]) == (6, 2, 2)
    strict = subprocess.run([*command[:-1], "--l-diversity", "3", str(data)], capture_output=True,
                            text=True, check=False)  # fmt: skip
    assert (
        strict.returncode == 1 and json.loads(strict.stdout.splitlines()[-1])["l_diverse"] is False
    )
