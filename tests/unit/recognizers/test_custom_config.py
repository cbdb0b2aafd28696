"""`recognizers:` and `recognizers_from:` in the config: what validation refuses (naming the
recognizer and the construct), declared entity types, the config hash, Presidio's format."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from benchmarks.bench_custom_recognizers import write_config
from scrubber.config import load_config, parse_config
from scrubber.config.presidio import convert_registry
from scrubber.errors import ConfigError


def _one(**entry: Any) -> dict[str, Any]:
    return {"recognizers": [{"name": "emp", "entity_type": "EMPLOYEE_ID", **entry}]}


def _refused(data: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(data)
    return str(caught.value)


def test_the_fixture_config_holds_five_recognizers(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path))
    names = [entry.name for _, entry in config.declared_recognizers()]
    assert names == [
        "employee_number", "vip_names", "order_number", "project_code",
        "Internal host Recognizer",
    ]  # fmt: skip
    assert {"EMPLOYEE_ID", "ORDER_ID", "PROJECT_CODE", "INTERNAL_HOST"} <= (
        config.declared_entity_types()
    )
    [note] = config.recognizer_notes()  # said, not hidden: RE2's \b is ASCII
    assert "1 pattern(s) use \\w, \\d, \\s or \\b" in note


def test_a_pattern_re2_cannot_compile_names_recognizer_pattern_and_construct() -> None:
    message = _refused(_one(patterns=[{"name": "after_id", "regex": r"(?<=id )\d{6}"}]))
    assert "recognizers.0: recognizer 'emp': pattern 'after_id': RE2 cannot compile" in message
    assert "lookbehind `(?<=...)`" in message
    message = _refused(_one(patterns=[{"regex": r"(\d)\1{5}"}]))
    assert "pattern '1'" in message
    assert r"backreference `\1`" in message


def test_an_unknown_validator_is_refused_with_the_known_ones() -> None:
    message = _refused(_one(patterns=[{"regex": r"E\d{6}"}], validators=["lunh"]))
    assert "unknown validator 'lunh' (did you mean 'luhn'?)" in message
    assert "iban, luhn, mod97, verhoeff" in message


def test_a_duplicate_name_is_refused() -> None:
    entry = {"name": "emp", "entity_type": "EMPLOYEE_ID", "patterns": [{"regex": r"E\d{6}"}]}
    message = _refused({"recognizers": [entry, {**entry, "entity_type": "OTHER"}]})
    assert "recognizer 'emp': duplicate name" in message


def test_a_duplicate_across_a_presidio_file_is_refused(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    data = yaml.safe_load(path.read_text("utf-8"))
    data["recognizers"][0]["name"] = "Internal host Recognizer"
    path.write_text(yaml.safe_dump(data), "utf-8")
    with pytest.raises(ConfigError, match="'Internal host Recognizer': duplicate name"):
        load_config(path)


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({}, "give `patterns` or a `deny_list`"),
        ({"patterns": [{"regex": r"E\d+", "group": 2}]}, "group 2 does not exist"),
        ({"patterns": [{"regex": r"E\d+", "score": 0.2}]}, "can never be reported"),
        ({"deny_list": ["x"], "allow_list": ["x"]}, "on both the deny list and the allow list"),
        ({"deny_list": ["x"], "fields": ["user\\..*"]}, "looks like a regular expression"),
        ({"deny_list": ["x"], "triggers": ["EMP"]}, "write them in lower case"),
        ({"deny_list": ["x"], "validators": [{"charset": "z-a"}]}, "invalid character class range"),
        ({"deny_list": ["x"], "validators": [{"length": {"min": 5, "max": 2}}]}, "below min"),
    ],
)
def test_what_would_find_less_than_it_says_is_refused(entry: dict[str, Any], expected: str) -> None:
    assert expected in _refused(_one(**entry))


def test_weak_patterns_with_context_can_reach_the_threshold() -> None:
    parse_config(_one(patterns=[{"regex": r"\d{5}", "score": 0.01}], context=["zip"]))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("employee_id", "(e.g. 'EMPLOYEE_ID')"),
        ("EMPLOYEE-ID", "(e.g. 'EMPLOYEE_ID')"),
        ("9LIVES", "starting with a letter"),
        ("FIELD", "the type of field-rule replacements"),
    ],
)
def test_entity_type_names_must_be_metric_labels(name: str, expected: str) -> None:
    entry = {"name": "e", "entity_type": name, "deny_list": ["x"]}
    assert expected in _refused({"recognizers": [entry]})


def test_declared_types_are_usable_wherever_types_are_named() -> None:
    data = {
        **_one(patterns=[{"regex": r"\bE-\d{6}\b"}]),
        "detection": {"entities": ["EMPLOYEE_ID", "EMAIL_ADDRESS"]},
        "policy": {"entities": {"EMPLOYEE_ID": {"type": "redact"}}},
    }
    parse_config(data)
    misspelt = {**data, "policy": {"entities": {"EMPLOYE_ID": {"type": "redact"}}}}
    assert "unknown entity type 'EMPLOYE_ID' (did you mean 'EMPLOYEE_ID'?)" in _refused(misspelt)
    assert "unknown entity type 'EMPLOYEE_ID'" in _refused(
        {"policy": {"entities": {"EMPLOYEE_ID": {"type": "redact"}}}}
    )


def test_a_type_left_out_by_detection_is_refused() -> None:
    data = {**_one(deny_list=["x"]), "detection": {"entities": ["EMAIL_ADDRESS"]}}
    assert "EMPLOYEE_ID is not in detection.entities" in _refused(data)
    skipped = {**_one(deny_list=["x"]), "detection": {"skip_entities": ["EMPLOYEE_ID"]}}
    assert "EMPLOYEE_ID is in detection.skip_entities" in _refused(skipped)


def test_the_hash_is_unchanged_without_recognizers_and_changes_with_them(tmp_path: Path) -> None:
    base = parse_config({}).digest()
    assert parse_config({"recognizers": [], "recognizers_from": []}).digest() == base
    assert parse_config(_one(deny_list=["x"])).digest() != base
    path = write_config(tmp_path)
    first = load_config(path).digest()
    presidio = tmp_path / "presidio.yaml"
    presidio.write_text(presidio.read_text("utf-8").replace("0.8", "0.75"), "utf-8")
    assert load_config(path).digest() != first  # the file's content enters the hash


def test_recognizers_from_is_read_beside_the_config(tmp_path: Path) -> None:
    nested = tmp_path / "conf"
    nested.mkdir()
    write_config(nested)
    config = load_config(nested / "scrubber.yaml")
    assert config.recognizers_from[0].file == "presidio.yaml"
    missing = tmp_path / "other.yaml"
    missing.write_text("recognizers_from: [nope.yaml]\n", "utf-8")
    with pytest.raises(ConfigError, match=r"nope\.yaml: cannot read it"):
        load_config(missing)


PRESIDIO_EXAMPLE = {
    "supported_languages": ["en"],
    "global_regex_flags": 26,
    "recognizers": [
        {
            "name": "Zip code Recognizer",
            "supported_language": "de",
            "patterns": [{"name": "zip code (weak)", "regex": r"(\b\d{5}(?:\-\d{4})?\b)",
                          "score": 0.01}],
            "context": ["zip", "code"],
            "supported_entity": "ZIP",
        },
        {"name": "Titles recognizer", "supported_language": "en", "supported_entity": "TITLE",
         "deny_list": ["Mr.", "Mrs.", "Ms.", "Miss", "Dr.", "Prof."]},
        {"name": "CreditCardRecognizer", "type": "predefined"},
        "UsSsnRecognizer",
        {"name": "Disabled one", "supported_entity": "X", "enabled": False, "deny_list": ["x"]},
        {"name": "Tagged", "supported_entity": "BR_CPF", "country_code": "br",
         "supported_languages": [{"language": "pt", "context": ["cpf"]}],
         "patterns": [{"name": "cpf", "regex": r"\b\d{3}\.\d{3}\.\d{3}-\d{2}\b", "score": 0.5}]},
    ],
}  # fmt: skip


def test_presidio_registry_entries_become_ours_and_the_rest_is_reported() -> None:
    conversion = convert_registry(PRESIDIO_EXAMPLE, "p.yaml")
    assert conversion.errors == []
    zip_code, titles, tagged = conversion.recognizers
    assert zip_code == {
        "name": "Zip code Recognizer", "entity_type": "ZIP", "context": ["zip", "code"],
        "patterns": [{"name": "zip code (weak)", "regex": r"(?ms)(\b\d{5}(?:\-\d{4})?\b)",
                      "score": 0.01}],
        "ignore_case": True,
    }  # fmt: skip
    assert titles["deny_list_case"] == "insensitive"
    assert tagged["context"] == ["cpf"]
    notes = "\n".join(conversion.notes)
    for expected in (
        "'Zip code Recognizer': supported_language de: it runs on every text",
        "'CreditCardRecognizer': predefined recognizer is not loaded",
        "predefined recognizer 'UsSsnRecognizer' is not loaded",
        "'Disabled one': disabled in the file",
        "'Tagged': ignored: country_code",
        "'Tagged': supported_language pt",
        "match ASCII only",
    ):
        assert expected in notes


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"global_regex_flags": 64}, "global_regex_flags 64"),
        ({"recognizers": [{"name": "x", "supported_entity": "X",
                           "patterns": [{"name": "p", "regex": r"(?<=a)b", "score": 0.5}]}]},
         "pattern 'p': RE2 cannot compile a lookbehind"),
        ({"recognizers": [{"name": "x", "patterns": [{"regex": "a", "score": 0.5}]}]},
         "needs one `supported_entity`"),
        ({"recognizers": [{"name": "x", "supported_entity": "X",
                           "patterns": [{"name": "p", "regex": "a"}]}]},
         "`score` must be a number"),
        ({"recognizers": [{"supported_entity": "X"}]}, "an entry needs a `name`"),
        ({"recognizers": None}, "no `recognizers:` list"),
    ],
)  # fmt: skip
def test_what_presidio_files_hold_that_cannot_run_is_an_error(
    change: dict[str, Any], expected: str
) -> None:
    conversion = convert_registry({**PRESIDIO_EXAMPLE, **change}, "p.yaml")
    assert any(expected in error for error in conversion.errors), conversion.errors


def test_a_presidio_file_that_cannot_be_honoured_fails_validation(tmp_path: Path) -> None:
    bad = {"recognizers": [{"name": "x", "supported_entity": "X",
                            "patterns": [{"name": "p", "regex": r"a(?!b)", "score": 0.5}]}]}  # fmt: skip
    (tmp_path / "presidio.yaml").write_text(yaml.safe_dump(bad), "utf-8")
    (tmp_path / "c.yaml").write_text("recognizers_from: presidio.yaml\n", "utf-8")
    with pytest.raises(ConfigError, match="negative lookahead"):
        load_config(tmp_path / "c.yaml")


def test_presidio_notes_are_kept_on_the_config(tmp_path: Path) -> None:
    (tmp_path / "presidio.yaml").write_text(yaml.safe_dump(PRESIDIO_EXAMPLE), "utf-8")
    (tmp_path / "c.yaml").write_text("recognizers_from: presidio.yaml\n", "utf-8")
    config = load_config(tmp_path / "c.yaml")
    assert any("CreditCardRecognizer" in note for note in config.recognizer_notes())
    assert {"ZIP", "TITLE", "BR_CPF"} <= config.declared_entity_types()


def test_a_presidio_wrapper_section_is_read_too() -> None:
    wrapped = {"recognizer_registry": PRESIDIO_EXAMPLE}
    assert len(convert_registry(wrapped, "p.yaml").recognizers) == 3
