"""The engine built from a config with `recognizers:` finds their entities in `scrub_batch` and
`detect_texts` with no extra call, through the same prefilter as the built-in recognizers."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from benchmarks.bench_custom_recognizers import TOKEN_KEY_ENV, write_config
from recognizers.base import Finding
from scrubber.config import load_config
from scrubber.engine import Scrubber
from scrubber.engine.detection import Prefilter
from tests.keys import key

LINE = (
    "EMP-12345674 (not EMP-12345675) paid order 4711000042 for aurelio quintanilla-voss on "
    "PRJ-ABC-1234 via build7.corp.example.net; 9988776655 alone"
)


@pytest.fixture(scope="module")
def five(tmp_path_factory: pytest.TempPathFactory) -> Scrubber:
    config = load_config(write_config(tmp_path_factory.mktemp("five")))
    return Scrubber(config, environ={TOKEN_KEY_ENV: key("custom recognizers")})


def test_scrub_batch_finds_all_five(five: Scrubber) -> None:
    [result] = five.scrub_batch([LINE], "text")
    output = result.output
    assert "EMP-12345674" not in output
    assert "<EMPLOYEE_ID> (not EMP-12345675)" in output  # the Luhn check rejects the second
    assert "order <ORDER_ID>" in output  # a weak number with its context word
    assert "9988776655 alone" in output  # ... and the same shape without it
    assert "<PERSON>" in output and "quintanilla" not in output.lower()  # the deny list, any case
    assert re.search(r"<PROJECT_CODE_[0-9a-f]{8}>", output)  # a new type, tokenized
    assert "<INTERNAL_HOST>" in output  # from the Presidio file
    assert result.entity_counts == {
        "EMPLOYEE_ID": 1, "ORDER_ID": 1, "PERSON": 1, "PROJECT_CODE": 1, "INTERNAL_HOST": 1,
    }  # fmt: skip
    operators = {r.entity_type: r.operator for r in result.replacements}
    assert operators["PROJECT_CODE"] == "token"


def test_json_leaves_and_keys_are_scanned_too(five: Scrubber) -> None:
    record = json.dumps(
        {"note": "see PRJ-XYZ-0001", "EMP-12345674": {"host": "db.corp.example.net"}}
    )
    [result] = five.scrub_batch([record], "json")
    document = json.loads(result.output)
    assert document["note"].startswith("see <PROJECT_CODE_")
    assert document["<EMPLOYEE_ID>"] == {"host": "<INTERNAL_HOST>"}


def test_detect_texts_reports_them(five: Scrubber) -> None:
    [found] = five.detect_texts([LINE])
    assert isinstance(found, list)
    kinds = {LINE[f.start : f.end]: f.entity_type for f in found}
    assert kinds["EMP-12345674"] == "EMPLOYEE_ID"
    assert kinds["4711000042"] == "ORDER_ID"
    assert kinds["PRJ-ABC-1234"] == "PROJECT_CODE"
    assert kinds["build7.corp.example.net"] == "INTERNAL_HOST"
    assert "9988776655" not in kinds


def test_they_sit_in_the_one_prefilter(five: Scrubber) -> None:
    custom = [r for r in five.detector._recognizers if getattr(r, "source", None)]
    assert {r.name: r.triggers for r in custom} == {
        "employee_number": ("emp-",),
        "vip_names": ("aurelio quintanilla-voss", "project nightjar"),
        "order_number": (),  # no literal: it joins the shape set
        "project_code": ("prj-",),
        "Internal host Recognizer": (".corp.example.net",),
    }
    prefilter = Prefilter(custom)
    text = "nothing of theirs here: 2024-01-01 user=bob"
    assert prefilter.candidates(text, text.lower(), True) == []
    text = "ticket for PRJ-ABC-1234"
    assert [r.name for r in prefilter.candidates(text, text.lower(), True)] == ["project_code"]


@pytest.fixture(scope="module")
def scoped(make_engine: Callable[..., Scrubber]) -> Scrubber:
    ticket = {"name": "ticket", "entity_type": "TICKET_ID", "fields": ["ticket.*", "case_id"],
              "patterns": [{"regex": r"\bT-\d{5}\b"}]}  # fmt: skip
    json_only = {"name": "sku", "entity_type": "SKU", "formats": ["json"],
                 "patterns": [{"regex": r"\bSKU\d{6}\b"}]}  # fmt: skip
    data = {"detection": {"ner": {"enabled": False}}, "recognizers": [ticket, json_only]}
    return make_engine(data)


@pytest.mark.parametrize(
    ("record", "fmt", "expected"),
    [
        # (a value found is replaced at its other mentions in the record: another one here)
        ('{"ticket": {"id": "T-12345"}, "other": "T-54321"}', "json",
         '{"ticket": {"id": "<TICKET_ID>"}, "other": "T-54321"}'),
        ("case_id=T-12345 note=T-54321", "text", "case_id=<TICKET_ID> note=T-54321"),
        ("T-12345 in a plain line", "text", "T-12345 in a plain line"),
        ('{"a": "SKU123456"}', "json", '{"a": "<SKU>"}'),
        ("SKU123456 in text", "text", "SKU123456 in text"),
    ],
)  # fmt: skip
def test_formats_and_fields_limit_where_a_recognizer_runs(
    scoped: Scrubber, record: str, fmt: Any, expected: str
) -> None:
    [result] = scoped.scrub_batch([record], fmt)
    assert result.output == expected


def test_scoped_findings_merge_with_the_others(scoped: Scrubber) -> None:
    # The built-in email finding and the scoped one overlap: one span, no fragment left.
    [result] = scoped.scrub_batch(['{"case_id": "T-12345@example.com"}'], "json")
    assert "T-12345" not in result.output


def test_an_allow_list_and_case_rules(make_engine: Callable[..., Scrubber]) -> None:
    vip = {"name": "vip", "entity_type": "VIP", "deny_list": ["Falcon"],
           "deny_list_case": "sensitive", "patterns": [{"regex": r"\bV\d{4}\b"}],
           "allow_list": ["V0000"]}  # fmt: skip
    engine = make_engine({"detection": {"ner": {"enabled": False}}, "recognizers": [vip]})
    [result] = engine.scrub_batch(["Falcon falcon V1234 V0000"], "text")
    assert result.output == "<VIP> falcon <VIP> V0000"


def _spans(found: list[Finding] | object, text: str) -> list[str]:
    assert isinstance(found, list)
    return [text[f.start : f.end] for f in found]


def test_the_builtin_engine_is_unchanged_without_them(engine: Scrubber, tmp_path: Path) -> None:
    [found] = engine.detect_texts([LINE])
    assert "PRJ-ABC-1234" not in _spans(found, LINE)
