"""Attacks on the token vault, performed: each test is one attack from the hardening issue and
fails on the vault as it was before (deterministic tokens shared by every scope and operator,
erasure undone by the next scrub, erased ciphertext left in the SQLite WAL)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from scrubber.config import parse_config
from scrubber.engine import Scrubber
from scrubber.errors import ConfigError
from scrubber.models import Outcome, Reason
from scrubber.operators import derive_key, keyed_digest, vault_token
from scrubber.vault.access import open_gatekeeper
from scrubber.vault.recorder import TokenRecorder, scrubber_for
from scrubber.vault.rotate import rotate
from scrubber.vault.store import SqlStore
from scrubber.vault.tokens import TOKEN_PATTERN, Keyring, Status, Vault

TOKEN_KEY = "4f1c0a9e7d3b2c58a6e1f0d9c8b7a6e5"
VAULT_KEY = "c3a19f5e2d7b8046e1f2a3b4c5d6e7f8"
ENV = {
    "TOKEN_KEY": TOKEN_KEY,
    "VAULT_V1": VAULT_KEY,
    "AUDIT_KEY": "5e8d1c0b9a7f6e4d3c2b1a0f9e8d7c6b",
}
SSN = "478-23-6615"
CARD = "4556 7375 8689 9855"
EMAIL = "maria.garcia@example.org"


def config_for(tmp_path: Path, **vault: Any) -> dict[str, Any]:
    return {
        "detection": {"ner": {"enabled": False}},
        "policy": {"default": {"type": "vault"}},
        "keys": {"default": {"env": "TOKEN_KEY"}},
        "vault": {"sqlite_path": str(tmp_path / "vault.db"),
                  "encryption_keys": {1: {"env": "VAULT_V1"}}, "active_key": 1,
                  "audit": {"key": {"env": "AUDIT_KEY"}}, **vault},
    }  # fmt: skip


def engine_for(tmp_path: Path, **vault: Any) -> Scrubber:
    return scrubber_for(parse_config(config_for(tmp_path, **vault)), environ=ENV)


def tokens_in(text: str) -> list[str]:
    return [m.group(0) for m in TOKEN_PATTERN.finditer(text)]


def reader(engine: Scrubber) -> Vault:
    assert isinstance(engine.token_sink, TokenRecorder)
    return Vault(engine.token_sink.store, Keyring({1: VAULT_KEY.encode()}, 1, ()), [b""])


def ssn_serials(area_group: str) -> list[str]:
    return [f"{area_group}-{serial:04d}" for serial in range(1, 10_000)]


def test_ssn_guessing_with_the_token_key_finds_nothing_when_ssn_tokens_are_random(
    tmp_path: Path,
) -> None:
    """An insider with the token key computes the token of all 9,999 serials of the victim's
    area and group: with deterministic tokens one of them is the logged token."""
    engine = engine_for(tmp_path, random_tokens=["US_SSN", "CREDIT_CARD"])
    [logged] = tokens_in(engine.scrub_batch([f"ssn {SSN} on file"])[0].output)
    guesses = {
        vault_token(TOKEN_KEY.encode(), 1, "US_SSN", guess, 24, scope="pipeline")
        for guess in ssn_serials(SSN[:6])
    }
    assert logged not in guesses
    # Still one token per value: scrubbing it again (or from a restarted process) finds it.
    assert tokens_in(engine.scrub_batch([f"again {SSN}"])[0].output) == [logged]
    restarted = engine_for(tmp_path, random_tokens=["US_SSN", "CREDIT_CARD"])
    assert tokens_in(restarted.scrub_batch([f"ssn {SSN}"])[0].output) == [logged]
    assert reader(engine).resolve([logged], ["pipeline"])[logged].value == SSN


def test_a_card_number_from_its_first_six_and_last_four_is_not_recomputable(
    tmp_path: Path,
) -> None:
    engine = engine_for(tmp_path, random_tokens=["CREDIT_CARD"])
    [logged] = tokens_in(engine.scrub_batch([f"card {CARD} declined"])[0].output)
    digits = CARD.replace(" ", "")
    middle = digits[6:12]
    nearby = range(int(middle) - 500, int(middle) + 500)
    candidates = [f"{digits[:6]}{m:06d}{digits[12:]}" for m in nearby]
    spaced = [" ".join(c[i : i + 4] for i in range(0, 16, 4)) for c in candidates]
    guesses = {
        vault_token(TOKEN_KEY.encode(), 1, "CREDIT_CARD", g, 24, scope="pipeline") for g in spaced
    }
    assert CARD in spaced and logged not in guesses


def test_tokens_of_one_scope_are_not_those_of_another(tmp_path: Path) -> None:
    """A caller who may scrub only in its own scope cannot mint the pipeline's tokens."""
    engine = engine_for(tmp_path)
    [in_logs] = tokens_in(engine.scrub_batch([f"to {EMAIL}"])[0].output)
    [in_api] = tokens_in(engine.scrub_batch([f"to {EMAIL}"], scope="api")[0].output)
    assert in_logs != in_api


def test_a_pasted_token_of_another_scope_is_answered_as_not_found(tmp_path: Path) -> None:
    engine = engine_for(tmp_path)
    [foreign] = tokens_in(engine.scrub_batch([f"to {EMAIL}"], scope="tenant-a")[0].output)
    vault = reader(engine)
    assert vault.resolve([foreign], ["tenant-b"])[foreign].status is Status.NOT_FOUND
    assert vault.resolve([foreign], ["tenant-a"])[foreign].value == EMAIL


def test_hash_token_and_vault_outputs_share_nothing() -> None:
    """The first hex of the `hash` operator's output used to be the vault token: a forged
    `<FIELD_V1_{hash}>` revealed the value."""
    key = TOKEN_KEY.encode()
    vaulted = vault_token(key, 1, "EMAIL_ADDRESS", EMAIL, 24, scope="pipeline")
    hashed = keyed_digest(derive_key(key, "hash", "pipeline"), "EMAIL_ADDRESS", EMAIL)
    tokened = keyed_digest(derive_key(key, "token", "pipeline"), "EMAIL_ADDRESS", EMAIL)
    vault_hex = TOKEN_PATTERN.fullmatch(vaulted).group(3)  # type: ignore[union-attr]
    assert len({vault_hex[:16], hashed[:16], tokened[:16]}) == 3


def test_a_token_relabelled_with_another_key_version_does_not_match(tmp_path: Path) -> None:
    key = TOKEN_KEY.encode()
    v1 = vault_token(key, 1, "EMAIL_ADDRESS", EMAIL, 24, scope="pipeline")
    v2 = vault_token(key, 2, "EMAIL_ADDRESS", EMAIL, 24, scope="pipeline")
    assert v1.replace("_V1_", "_V2_") != v2


def test_rescrubbing_after_erasure_never_brings_the_old_token_back(tmp_path: Path) -> None:
    config = parse_config({
        **config_for(tmp_path),
        "access": {"roles": {"dpo": {"subject_rights": True, "scopes": ["pipeline"]}},
                   "api_keys": {"dpo": {"role": "dpo", "env": "DPO_KEY"}}},
    })  # fmt: skip
    env = {**ENV, "DPO_KEY": "9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a"}
    engine = scrubber_for(config, environ=env)
    [old] = tokens_in(engine.scrub_batch([f"mail {EMAIL}"])[0].output)
    keeper = open_gatekeeper(config, env)
    caller = keeper.access.authenticate(env["DPO_KEY"])
    [erased] = keeper.erase_subjects(caller, [EMAIL], "cli")
    assert [row.token for row in erased] == [old]
    # A replica that has not heard of the erasure yet: the store refuses the old token, the
    # record fails closed (never out with a token that would reveal again) ...
    stale = scrubber_for(config, environ=env)
    assert isinstance(stale.token_sink, TokenRecorder)
    stale.token_sink._erased.clear()  # as if the erasure happened after its last refresh
    [first] = stale.scrub_batch([f"mail {EMAIL}"])
    assert first.outcome is Outcome.QUARANTINED and first.reason is Reason.VAULT_UNAVAILABLE
    # ... and the next try gets a new token, which never equals the erased one.
    [again] = stale.scrub_batch([f"mail {EMAIL}"])
    [new] = tokens_in(again.output)
    assert new != old
    # The first engine too learns it from the store (refused once), then agrees on the new one.
    assert engine.scrub_batch([f"mail {EMAIL}"])[0].reason is Reason.VAULT_UNAVAILABLE
    assert tokens_in(engine.scrub_batch([f"mail {EMAIL}"])[0].output) == [new]
    vault = reader(engine)
    assert vault.resolve([old], ["pipeline"])[old].status is Status.NOT_FOUND
    assert vault.resolve([new], ["pipeline"])[new].value == EMAIL


def test_erased_ciphertext_is_not_left_in_the_database_or_its_wal(tmp_path: Path) -> None:
    engine = engine_for(tmp_path)
    [token] = tokens_in(engine.scrub_batch([f"mail {EMAIL}"])[0].output)
    with sqlite3.connect(tmp_path / "vault.db") as conn:
        [(sealed,)] = conn.execute("SELECT sealed FROM scrubber_vault").fetchall()
    store = SqlStore.sqlite(tmp_path / "vault.db")
    vault = Vault(store, Keyring({1: VAULT_KEY.encode()}, 1, ()), [TOKEN_KEY.encode()])
    assert [len(rows) for rows in vault.erase([EMAIL], ["pipeline"])] == [1]
    for path in tmp_path.glob("vault.db*"):
        assert bytes(sealed) not in path.read_bytes(), f"{path.name} still holds the ciphertext"
    assert vault.resolve([token], ["pipeline"])[token].status is Status.NOT_FOUND


@pytest.mark.parametrize("length", [8, 12, 15])
def test_vault_tokens_shorter_than_64_bits_are_refused(tmp_path: Path, length: int) -> None:
    data = config_for(tmp_path)
    data["policy"] = {"default": {"type": "vault", "length": length}}
    with pytest.raises(ConfigError, match="length"):
        parse_config(data)


def test_new_vault_tokens_are_96_bits_by_default(tmp_path: Path) -> None:
    [token] = tokens_in(engine_for(tmp_path).scrub_batch([f"mail {EMAIL}"])[0].output)
    assert len(TOKEN_PATTERN.fullmatch(token).group(3)) == 24  # type: ignore[union-attr]


def test_vault_rotate_writes_a_new_version_old_tokens_keep_restoring(tmp_path: Path) -> None:
    """`vault rotate`: a new data key and MAC version; old tokens restore until retired."""
    data = config_for(tmp_path)
    engine = scrubber_for(parse_config(data), environ=ENV)
    [old] = tokens_in(engine.scrub_batch([f"mail {EMAIL}"])[0].output)
    key_file = tmp_path / "vault-v2.key"
    report = rotate(parse_config(data), key_file)
    assert report["new_version"] == 2 and report["rows_by_key_version"] == {"1": 1}
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert key_file.read_text().strip() not in json.dumps(report)  # the key is never printed
    with pytest.raises(ConfigError, match="exists"):
        rotate(parse_config(data), key_file)
    data["vault"] = {**data["vault"], **report["config"]["vault"]}
    rotated = scrubber_for(parse_config(data), environ=ENV)
    [new] = tokens_in(rotated.scrub_batch([f"mail {EMAIL}"])[0].output)
    assert "_V2_" in new and old != new
    both = Keyring({1: VAULT_KEY.encode(), 2: key_file.read_text().strip().encode()}, 2, ())
    assert isinstance(rotated.token_sink, TokenRecorder)
    vault = Vault(rotated.token_sink.store, both, [b""])
    resolved = vault.resolve([old, new], ["pipeline"])
    assert [r.value for r in resolved.values()] == [EMAIL, EMAIL]
    retired = Vault(rotated.token_sink.store, Keyring({2: b"k" * 32}, 2, (1,)), [b""])
    assert retired.resolve([old], ["pipeline"])[old].status is Status.RETIRED_KEY
