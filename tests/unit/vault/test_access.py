"""API keys -> roles -> what may be revealed, every decision audited; and the CLI twins
(`scrubber vault restore|access|erase`, `scrubber audit verify`) as an operator runs them."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from scrubber.config import AccessConfig, parse_config
from scrubber.errors import AccessDenied, ConfigError, KeyMaterialError
from scrubber.vault.access import AccessControl, Gatekeeper, open_gatekeeper
from scrubber.vault.recorder import scrubber_for
from scrubber.vault.tokens import TOKEN_PATTERN, Status
from tests.keys import key

ENV_KEY, FILE_KEY = key("env key", 20), key("file key", 40)
ROOT = Path(__file__).resolve().parents[2]
EMAIL = "maria.garcia@example.org"
PHONE = "+1 415-555-0199"
KEYS = {"ADMIN_KEY": key("admin"), "SUPPORT_KEY": key("support"), "DPO_KEY": key("dpo"),
        "NOBODY_KEY": key("nobody")}  # fmt: skip
ENV = {"TOKEN_KEY": key("token"), "VAULT_V1": key("vault v1"), "AUDIT_KEY": key("audit"), **KEYS}


def full_config(tmp_path: Path) -> dict[str, Any]:
    return {
        "detection": {"ner": {"enabled": False}},
        "policy": {"default": {"type": "vault"}},
        "keys": {"default": {"env": "TOKEN_KEY"}},
        "vault": {"sqlite_path": str(tmp_path / "vault.db"), "audit": {"key": {"env": "AUDIT_KEY"}},
                  "encryption_keys": {1: {"env": "VAULT_V1"}}, "active_key": 1},
        "access": {
            "roles": {
                "admin": {"reveal": ["*"], "subject_rights": True, "scopes": ["pipeline"]},
                "support": {"reveal": ["EMAIL_ADDRESS"], "scopes": ["pipeline"]},
                "dpo": {"subject_rights": True, "scopes": ["pipeline"]},
                "nobody": {},
            },
            "api_keys": {
                "ops": {"role": "admin", "env": "ADMIN_KEY"},
                "helpdesk": {"role": "support", "env": "SUPPORT_KEY"},
                "privacy": {"role": "dpo", "env": "DPO_KEY"},
                "intern": {"role": "nobody", "env": "NOBODY_KEY"},
            },
        },
    }  # fmt: skip


@pytest.fixture
def scrubbed(tmp_path: Path) -> tuple[Gatekeeper, str]:
    config = parse_config(full_config(tmp_path))
    text = (
        scrubber_for(config, environ=ENV).scrub_batch([f"mail {EMAIL} or call {PHONE}"])[0].output
    )
    return open_gatekeeper(config, ENV), text


def records(gatekeeper: Gatekeeper) -> list[dict[str, Any]]:
    return [json.loads(line) for _, line in gatekeeper.audit.store.audit_records()]


def test_keys_come_from_env_or_files_and_map_to_roles(tmp_path: Path) -> None:
    (tmp_path / "key").write_text(FILE_KEY + "\n")  # a mounted Secret ends with a newline
    config = AccessConfig.model_validate({
        "roles": {"r": {"reveal": ["PERSON"]}},
        "api_keys": {"env-key": {"role": "r", "env": "K"}, "file-key": {"role": "r",
                                                                         "file": str(tmp_path / "key")}},
    })  # fmt: skip
    access = AccessControl(config, {"K": ENV_KEY})
    assert access.authenticate(ENV_KEY).name == "env-key"  # type: ignore[union-attr]
    assert access.authenticate(FILE_KEY).name == "file-key"  # type: ignore[union-attr]
    assert access.authenticate(ENV_KEY[:-1]) is None
    assert access.authenticate("") is None and access.authenticate(None) is None
    with pytest.raises(KeyMaterialError, match=r"access\.api_keys\.env-key is 5 bytes"):
        AccessControl(config, {"K": "short"})
    with pytest.raises(KeyMaterialError, match="environment variable K is not set"):
        AccessControl(config, {})
    with pytest.raises(ConfigError, match="the same key is given to another name"):
        AccessControl(config, {"K": FILE_KEY})


def test_an_api_key_must_name_a_known_role(tmp_path: Path) -> None:
    data = full_config(tmp_path)
    data["access"]["api_keys"]["ops"]["role"] = "root"
    with pytest.raises(ConfigError, match=r"api_keys\.ops names role 'root'"):
        parse_config(data)


def test_role_matrix_every_decision_audited(scrubbed: tuple[Gatekeeper, str]) -> None:
    keeper, text = scrubbed
    tokens = {m.group(1): m.group(0) for m in TOKEN_PATTERN.finditer(text)}
    assert set(tokens) == {"EMAIL_ADDRESS", "PHONE_NUMBER"}
    who = {name: keeper.access.authenticate(key) for name, key in KEYS.items()}

    assert keeper.restore(who["ADMIN_KEY"], [text], "http").texts == [
        f"mail {EMAIL} or call {PHONE}"
    ]
    support = keeper.restore(who["SUPPORT_KEY"], [text], "http")
    assert support.texts == [f"mail {EMAIL} or call {tokens['PHONE_NUMBER']}"]
    assert support.statuses == {tokens["EMAIL_ADDRESS"]: Status.REVEALED,
                                tokens["PHONE_NUMBER"]: Status.DENIED}  # fmt: skip
    refusals = [
        (lambda: keeper.restore(None, [text], "http"), 401),
        (lambda: keeper.restore(keeper.access.authenticate("wrong" * 8), [text], "http"), 401),
        (lambda: keeper.restore(who["DPO_KEY"], [text], "http"), 403),
        (lambda: keeper.restore(who["NOBODY_KEY"], [text], "cli"), 403),
        (lambda: keeper.access_subjects(who["SUPPORT_KEY"], [EMAIL], "http"), 403),
        (lambda: keeper.erase_subjects(who["SUPPORT_KEY"], [EMAIL], "http"), 403),
        (lambda: keeper.erase_subjects(None, [EMAIL], "http"), 401),
    ]
    for attempt, status in refusals:
        with pytest.raises(AccessDenied) as denied:
            attempt()
        assert denied.value.status == status
    assert [len(r) for r in keeper.access_subjects(who["DPO_KEY"], [EMAIL], "http")] == [1]

    log = records(keeper)
    assert [(r["actor"], r["action"], r["outcome"]) for r in log] == [
        ("ops", "restore", "allowed"),
        ("helpdesk", "restore", "partial"),
        ("anonymous", "restore", "unauthenticated"),
        ("anonymous", "restore", "unauthenticated"),
        ("privacy", "restore", "forbidden"),
        ("intern", "restore", "forbidden"),
        ("helpdesk", "access", "forbidden"),
        ("helpdesk", "erase", "forbidden"),
        ("anonymous", "erase", "unauthenticated"),
        ("privacy", "access", "allowed"),
    ]
    assert log[1]["detail"]["tokens"] == {tokens["EMAIL_ADDRESS"]: "revealed",
                                          tokens["PHONE_NUMBER"]: "denied"}  # fmt: skip
    assert keeper.audit.verify().valid
    blob = json.dumps(log)
    # Tokens and digests only. Hex digests and timestamps can hold any 3 digits by chance, so the
    # phone is checked by its distinctive parts, not by `415` alone.
    assert EMAIL not in blob
    assert "415-555" not in blob and "555-0199" not in blob and PHONE not in blob


def test_erase_then_tokens_no_longer_restore(scrubbed: tuple[Gatekeeper, str]) -> None:
    keeper, text = scrubbed
    admin = keeper.access.authenticate(KEYS["ADMIN_KEY"])
    listed = keeper.access_subjects(admin, [EMAIL.upper()], "cli")
    erased = keeper.erase_subjects(admin, [EMAIL], "cli")
    assert [r.token for r in listed[0]] == [r.token for r in erased[0]]
    done = keeper.restore(admin, [text], "cli")
    assert done.texts == [f"mail {listed[0][0].token} or call {PHONE}"]
    assert keeper.access_subjects(admin, [EMAIL], "cli") == [[]]
    detail = records(keeper)[1]["detail"]
    assert detail["subjects"][0]["tokens"] == [listed[0][0].token]
    assert len(detail["subjects"][0]["digests"]) == 1 and EMAIL not in json.dumps(detail)


# ---------------------------------------------------------------- the CLI twins


def _cli(*args: str, stdin: str = "", key: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **ENV, "SCRUBBER_API_KEY": key or ""}
    if key is None:
        env.pop("SCRUBBER_API_KEY")
    command = [sys.executable, "-m", "scrubber.cli", "--log-format", "json", *args]
    return subprocess.run(command, input=stdin, capture_output=True, text=True, env=env,
                          cwd=ROOT, check=False, timeout=120)  # fmt: skip


def test_cli_twins_restore_access_erase_and_verify(
    tmp_path: Path, scrubbed: tuple[Gatekeeper, str]
) -> None:
    _, text = scrubbed
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(full_config(tmp_path)))
    email_token = next(m.group(0) for m in TOKEN_PATTERN.finditer(text) if "EMAIL" in m.group(0))

    done = _cli(
        "vault", "restore", "--config", str(config), stdin=text + "\n", key=KEYS["SUPPORT_KEY"]
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"mail {EMAIL} or call <PHONE_NUMBER_V1_")
    assert EMAIL not in done.stderr

    refused = _cli("vault", "restore", "--config", str(config), stdin=text + "\n")
    assert refused.returncode == 2 and "API key is required" in refused.stderr
    assert refused.stdout == ""

    listed = _cli(
        "vault", "access", "--config", str(config), stdin=EMAIL + "\n", key=KEYS["DPO_KEY"]
    )
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)["subjects"][0]["tokens"][0]["token"] == email_token

    erased = _cli(
        "vault", "erase", "--config", str(config), stdin=EMAIL + "\n", key=KEYS["DPO_KEY"]
    )
    assert erased.returncode == 0 and json.loads(erased.stdout)["erased"] == 1
    done = _cli(
        "vault", "restore", "--config", str(config), stdin=text + "\n", key=KEYS["ADMIN_KEY"]
    )
    assert done.stdout == f"mail {email_token} or call {PHONE}\n"

    verified = _cli("audit", "verify", "--config", str(config))
    assert verified.returncode == 0, verified.stdout
    assert json.loads(verified.stdout) == {"valid": True, "records": 5, "first_bad_seq": None,
                                           "problem": None, "check": None, "anchor_seq": None,
                                           "repair": None}  # fmt: skip
    with sqlite3.connect(tmp_path / "vault.db") as conn:
        conn.execute("DELETE FROM scrubber_audit WHERE seq = 3")
    broken = _cli("audit", "verify", "--config", str(config))
    assert broken.returncode == 1 and json.loads(broken.stdout)["first_bad_seq"] == 3
