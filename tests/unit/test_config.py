from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from connectors.kafka.clients import INSTANCE_ID_ENV
from connectors.kafka.transactions import transactional_id_for
from scrubber.config import load_config, parse_config
from scrubber.engine.keys import load_keys
from scrubber.errors import ConfigError, KeyMaterialError
from tests.keys import key


def test_embedded_default_replaces_with_type_label() -> None:
    config = load_config(None)
    assert config.policy.default.type == "replace"
    assert config.keys == {}


@pytest.mark.parametrize(
    ("data", "path_in_message"),
    [
        ({"detection": {"score_treshold": 0.5}}, "detection.score_treshold"),
        ({"policy": {"default": {"type": "shred"}}}, "policy.default"),
        (
            {"policy": {"entities": {"EMAIL_ADDRESS": {"type": "mask", "keep_last": 99}}}},
            "policy.entities.EMAIL_ADDRESS.mask.keep_last",
        ),
        ({"limits": {"max_record_bytes": "big"}}, "limits.max_record_bytes"),
        ({"keys": {"default": {"env": "A", "file": "/b"}}}, "keys.default"),
    ],
)
def test_bad_config_names_the_key_path(data: dict[str, object], path_in_message: str) -> None:
    with pytest.raises(ConfigError, match=path_in_message.replace(".", r"\.")):
        parse_config(data)


def test_keyed_operator_needs_a_declared_key() -> None:
    with pytest.raises(ConfigError, match="key 'default'"):
        parse_config({"policy": {"default": {"type": "token"}}})


def test_key_comes_from_env_and_must_exist() -> None:
    config = parse_config(
        {"policy": {"default": {"type": "hash"}}, "keys": {"default": {"env": "MY_KEY"}}}
    )
    with pytest.raises(KeyMaterialError, match="MY_KEY is not set"):
        load_keys(config, environ={})
    with pytest.raises(KeyMaterialError, match="at least 16"):
        load_keys(config, environ={"MY_KEY": "short"})
    assert load_keys(config, environ={"MY_KEY": key("x", 16)}) == {"default": key("x", 16).encode()}


def test_key_from_file(tmp_path: Path) -> None:
    key_file = tmp_path / "token.key"
    key_file.write_text(key("y", 40) + "\n")
    config = parse_config(
        {"policy": {"default": {"type": "token"}}, "keys": {"default": {"file": str(key_file)}}}
    )
    assert load_keys(config, environ={}) == {"default": key("y", 40).encode()}


def test_config_hash_is_stable_and_changes_with_config() -> None:
    a = parse_config({})
    assert a.digest() == parse_config({}).digest()
    assert a.digest() != parse_config({"detection": {"score_threshold": 0.9}}).digest()


def _validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scrubber.cli", "config", "validate", str(path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_cli_validate_exit_codes(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("version: 1\npolicy:\n  default: {type: redact}\n")
    result = _validate(good)
    assert result.returncode == 0, result.stderr
    assert '"valid": true' in result.stdout

    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "version: 1\npolicy:\n  entities:\n    EMAIL_ADDRESS: {type: mask, keep_last: -1}\n"
    )
    result = _validate(bad)
    assert result.returncode == 2
    assert "policy.entities.EMAIL_ADDRESS" in result.stderr

    broken = tmp_path / "broken.yaml"
    broken.write_text("policy: [unclosed\n")
    result = _validate(broken)
    assert result.returncode == 2
    assert result.stderr == (
        f"config error: {broken}:2:1: not valid YAML: expected ',' or ']', but got "
        "'<stream end>' (while parsing a flow sequence at line 1)\n"
    )


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("acks", "1"),
        ("enable.auto.offset.store", True),
        ("enable.auto.commit", True),
        ("enable.idempotence", False),
        ("sasl.password", "hunter2"),
    ],
)
def test_unsafe_kafka_settings_are_refused_at_start_up(setting: str, value: object) -> None:
    with pytest.raises(ConfigError, match=r"kafka\.settings"):
        parse_config({"kafka": {"settings": {setting: value}}})


def test_routes_need_valid_names_and_default_to_auto_format() -> None:
    config = parse_config(
        {"routes": [{"name": "app-logs", "input": ["a", "b"], "output": "clean"}]}
    )
    assert config.routes[0].topics == ("a", "b")
    assert config.routes[0].format == "auto"
    with pytest.raises(ConfigError, match=r"routes\.0\.name"):
        parse_config({"routes": [{"name": "Bad Name!", "input": "a", "output": "b"}]})


def test_transactional_ids_carry_the_instance_id_from_config_env_or_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(INSTANCE_ID_ENV, raising=False)
    from_host = parse_config({"kafka": {"group_id": "g"}}).kafka
    assert transactional_id_for(from_host, 1) == f"g-{socket.gethostname()}-1"
    monkeypatch.setenv(INSTANCE_ID_ENV, "pod-7")
    assert transactional_id_for(from_host, 0) == "g-pod-7-0"
    configured = parse_config({"kafka": {"group_id": "g", "instance_id": "replica-2"}}).kafka
    assert transactional_id_for(configured, 0) == "g-replica-2-0"
    with pytest.raises(ConfigError, match=r"kafka\.instance_id"):
        parse_config({"kafka": {"instance_id": "has space"}})


# Unknown entity types and unmatchable field rules fail closed: a typo must not validate and then
# scrub nothing.

VAULT = {"encryption_keys": {1: {"env": "K"}}, "active_key": 1, "audit": {"key": {"env": "A"}}}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"detection": {"entities": ["EMAIL"]}},
            "detection.entities: unknown entity type 'EMAIL' (did you mean 'EMAIL_ADDRESS'?)",
        ),
        (
            {"detection": {"skip_entities": ["SERVER_HOST"]}},
            "detection.skip_entities: unknown entity type 'SERVER_HOST' "
            "(did you mean 'SERVER_HOSTNAME'?)",
        ),
        (
            {"detection": {"ner": {"entities": ["PERSONS"]}}},
            "detection.ner.entities: NER reports PERSON, LOCATION, NRP, DATE_TIME, not 'PERSONS' "
            "(did you mean 'PERSON'?)",
        ),
        (
            {"detection": {"ner": {"entities": ["EMAIL_ADDRESS"]}}},
            "detection.ner.entities: NER reports PERSON, LOCATION, NRP, DATE_TIME, "
            "not 'EMAIL_ADDRESS'",
        ),
        (
            {"policy": {"entities": {"CREDITCARD": {"type": "redact"}}}},
            "policy.entities: unknown entity type 'CREDITCARD' (did you mean 'CREDIT_CARD'?)",
        ),
        (
            {"vault": {**VAULT, "random_tokens": ["SSN"]}},
            "vault.random_tokens: unknown entity type 'SSN' (did you mean 'US_SSN'?)",
        ),
        (
            {"vault": {**VAULT, "ttl": {"EMAIL_ADRESS": 60, "*": 3600}}},
            "vault.ttl: unknown entity type 'EMAIL_ADRESS' (did you mean 'EMAIL_ADDRESS'?)",
        ),
        (
            {"access": {"roles": {"support": {"reveal": ["*", "phone"]}}}},
            "access.roles.support.reveal: unknown entity type 'phone' "
            "(did you mean 'PHONE_NUMBER'?)",
        ),
        (
            {"policy": {"entities": {"FIELD": {"type": "redact"}}}},
            "policy.entities: 'FIELD' never applies here",
        ),
        (
            {"policy": {"entities": {"DATE_TIME": {"type": "redact"}}}},
            "policy.entities: 'DATE_TIME' is found only with `detection.redact_timestamps: true`",
        ),
    ],
)
def test_unknown_entity_types_are_refused_where_they_appear(
    data: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(data)
    assert f"<config>: {message}" in str(caught.value)


def test_no_suggestion_when_nothing_is_close() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"detection": {"entities": ["XYZZY"]}})
    assert str(caught.value) == "<config>: detection.entities: unknown entity type 'XYZZY'"


@pytest.mark.parametrize(
    ("typo", "meant"),
    [
        ("email_address", "EMAIL_ADDRESS"),  # case
        ("EMAIL", "EMAIL_ADDRESS"),  # what a field named so holds
        ("DOB", "DATE_OF_BIRTH"),
        ("PASSWORD", "SECRET"),
        ("VIN", "VEHICLE_VIN"),  # the one type it is a word of
        ("EMAIL_ADRESS", "EMAIL_ADDRESS"),  # spelling
        ("PERSN", "PERSON"),
    ],
)
def test_a_misspelt_entity_type_gets_the_closest_known_one(typo: str, meant: str) -> None:
    with pytest.raises(ConfigError, match=rf"did you mean '{meant}'\?"):
        parse_config({"policy": {"entities": {typo: {"type": "redact"}}}})


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(
            {
                "detection": {"entities": ["EMAIL", "PHONE_NUMBER"]},
                "policy": {"entities": {"PHONE": {"type": "redact"}}},
            }
        )
    assert str(caught.value) == (
        "<config>: detection.entities: unknown entity type 'EMAIL' (did you mean "
        "'EMAIL_ADDRESS'?); policy.entities: unknown entity type 'PHONE' (did you mean "
        "'PHONE_NUMBER'?)"
    )


def test_known_entity_types_are_accepted_wherever_they_apply() -> None:
    config = parse_config(
        {
            "detection": {
                "entities": ["EMAIL_ADDRESS", "PERSON", "NRP", "DATE_TIME"],
                "skip_entities": ["SERVER_HOSTNAME", "HOSTNAME"],
                "redact_timestamps": True,
                "ner": {"entities": ["PERSON", "LOCATION", "NRP", "DATE_TIME"]},
            },
            "policy": {"entities": {"DATE_TIME": {"type": "redact"}, "US_SSN": {"type": "mask"}}},
            "vault": {**VAULT, "random_tokens": ["US_SSN", "FIELD"], "ttl": {"FIELD": 60, "*": 9}},
            "access": {"roles": {"admin": {"reveal": ["*"]}, "hr": {"reveal": ["FIELD", "AGE"]}}},
        }
    )
    assert config.policy.entities["DATE_TIME"].type == "redact"
    # DATE_TIME named under detection.ner.entities is reported too, without redact_timestamps.
    parse_config(
        {
            "detection": {"ner": {"entities": ["PERSON", "DATE_TIME"]}},
            "policy": {"entities": {"DATE_TIME": {"type": "redact"}}},
        }
    )


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (r"user\..*", r"'user\..*' looks like a regular expression (`\`)"),
        (r"user\..*", "(did you mean 'user.*'?)"),
        ("^name$", "'^name$' looks like a regular expression (`^`)"),
        ("^name$", "(did you mean 'name'?)"),
        ("user.[abc]", "looks like a regular expression (`[`)"),
        ("(a|b).name", "looks like a regular expression (`(`)"),
        ("user.+", "looks like a regular expression (`+`)"),
        ("user.+", "(did you mean 'user*'?)"),
        ("names?", "looks like a regular expression (`?`)"),
        ("id{2}", "looks like a regular expression (`{`)"),
        ("", "'' is empty"),
        ("  ", "'  ' is empty"),
        ("user..name", "'user..name' has an empty key between dots"),
        ("user.", "'user.' has an empty key between dots"),
        (".user", "'.user' has an empty key between dots"),
        ("*.", "'*.' has an empty key between dots"),
    ],
)
def test_field_rules_that_cannot_match_a_path_are_refused(rule: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"policy": {"fields": {rule: {"type": "redact"}}}})
    assert str(caught.value).startswith(f"<config>: policy.fields: '{rule}' ")
    assert message in str(caught.value)


def test_a_field_rule_that_only_differs_in_case_never_applies() -> None:
    fields = {"User.Email": {"type": "redact"}, "user.email": {"type": "keep"}}
    with pytest.raises(ConfigError) as caught:
        parse_config({"policy": {"fields": fields}})
    assert str(caught.value) == (
        "<config>: policy.fields: 'user.email' never applies: 'User.Email' comes first, and keys "
        "compare case-insensitively"
    )


@pytest.mark.parametrize(
    ("rule", "path"),
    [
        ("user.email", "user.email"),
        ("*.password", "password"),
        ("*.password", "a.b.password"),
        ("*", "anything.at.all"),
        ("http.*.authorization", "http.headers.authorization"),
        ("$schema", "$schema"),
        ("http.headers.x-api-key", "http.headers.x-api-key"),
        ("first name", "first name"),
        ("user.*", "user.name"),  # the glob a rule written as `user\..*` is pointed to
        ("name", "name"),  # and `^name$`
    ],
)
def test_glob_field_rules_are_accepted_and_match(rule: str, path: str) -> None:
    from scrubber.engine.policy import Policy

    config = parse_config({"policy": {"fields": {rule: {"type": "redact"}}}})
    found = Policy(config.policy, {}).rule_for_path(path)
    assert found is not None and found.rule == rule


def test_yaml_syntax_error_names_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "my.yaml"
    path.write_text(
        "version: 1\n"
        "detection:\n"
        "  score_threshold: 0.4\n"
        "policy:\n"
        "  default: {type: redact}\n"
        "  fields:\n"
        "  @user.email: {type: redact}\n"  # line 7, column 3: `@` cannot start a YAML token
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == (
        f"{path}:7:3: not valid YAML: found character '@' that cannot start any token"
    )


def test_yaml_error_position_is_where_the_problem_is(tmp_path: Path) -> None:
    path = tmp_path / "flow.yaml"
    path.write_text("version: 1\npolicy:\n  default: {type: redact\n  fields: {}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == (
        f"{path}:4:9: not valid YAML: expected ',' or '}}', but got ':' "
        "(while parsing a flow mapping at line 3)"
    )


def test_a_config_that_is_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("version: 1\n# caf\xe9\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(path)


def test_cli_validate_refuses_a_typo_in_an_entity_type(tmp_path: Path) -> None:
    typo = tmp_path / "typo.yaml"
    typo.write_text("version: 1\ndetection:\n  entities: [EMAIL]\n")
    result = _validate(typo)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"config error: {typo}: detection.entities: unknown entity type 'EMAIL' "
        "(did you mean 'EMAIL_ADDRESS'?)\n"
    )
