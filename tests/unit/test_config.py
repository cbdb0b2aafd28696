from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from connectors.kafka.transactions import INSTANCE_ID_ENV, transactional_id_for
from scrubber.config import load_config, parse_config
from scrubber.engine.keys import load_keys
from scrubber.errors import ConfigError, KeyMaterialError


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
    assert load_keys(config, environ={"MY_KEY": "x" * 16}) == {"default": b"x" * 16}


def test_key_from_file(tmp_path: Path) -> None:
    key_file = tmp_path / "token.key"
    key_file.write_text("y" * 40 + "\n")
    config = parse_config(
        {"policy": {"default": {"type": "token"}}, "keys": {"default": {"file": str(key_file)}}}
    )
    assert load_keys(config, environ={}) == {"default": b"y" * 40}


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
    assert "not valid YAML" in result.stderr


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
