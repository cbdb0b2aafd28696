"""The token vault on SQLite: tokens, sealing, rotation, TTL, idempotent writes, fail-closed
batches, subject lookup and erasure. (The same store on PostgreSQL: tests/integration.)"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from scrubber.config import parse_config
from scrubber.engine import Scrubber
from scrubber.errors import ConfigError, VaultUnavailable
from scrubber.models import Outcome, Reason
from scrubber.operators import DEFAULT_SCOPE, PLACEHOLDER_PATTERN, vault_token
from scrubber.vault.recorder import TokenRecorder, scrubber_for
from scrubber.vault.store import SealedRow, SqlStore
from scrubber.vault.tokens import (
    TOKEN_PATTERN,
    Keyring,
    Status,
    Vault,
    normalize_identifier,
    subject_digest,
)
from tests.keys import key

SCOPES = [DEFAULT_SCOPE]
TOKEN, V1, V2 = key("token").encode(), key("vault v1").encode(), key("vault v2").encode()
ENV = {"TOKEN_KEY": TOKEN.decode(), "VAULT_V1": V1.decode(), "VAULT_V2": V2.decode(),
       "AUDIT_KEY": key("audit")}  # fmt: skip
EMAIL = "maria.garcia@example.org"
OTHER_EMAIL = "john.smith@example.net"


def vault_config(tmp_path: Path, **vault: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "sqlite_path": str(tmp_path / "vault.db"),
        "encryption_keys": {1: {"env": "VAULT_V1"}},
        "active_key": 1,
        "audit": {"key": {"env": "AUDIT_KEY"}},
    }
    settings.update(vault)
    return {
        "detection": {"ner": {"enabled": False}},
        "policy": {"default": {"type": "vault"}, "entities": {"IP_ADDRESS": {"type": "replace"}}},
        "keys": {"default": {"env": "TOKEN_KEY"}},
        "vault": settings,
    }


def engine_for(tmp_path: Path, **vault: Any) -> Scrubber:
    return scrubber_for(parse_config(vault_config(tmp_path, **vault)), environ=ENV)


def recorder_of(engine: Scrubber) -> TokenRecorder:
    assert isinstance(engine.token_sink, TokenRecorder)
    return engine.token_sink


def reader_for(engine: Scrubber, keyring: Keyring | None = None) -> Vault:
    ring = keyring or Keyring({1: V1, 2: V2}, 1, ())
    return Vault(recorder_of(engine).store, ring, [TOKEN])


def rows_in(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT count(*) FROM scrubber_vault").fetchone()[0])


def tokens_of(text: str) -> list[str]:
    return [m.group(0) for m in TOKEN_PATTERN.finditer(text)]


def test_token_format_is_deterministic_versioned_and_a_placeholder() -> None:
    key = b"k" * 32
    token = vault_token(key, 3, "EMAIL_ADDRESS", EMAIL, 16, scope=DEFAULT_SCOPE)
    assert token == vault_token(key, 3, "EMAIL_ADDRESS", EMAIL, 16, scope=DEFAULT_SCOPE)
    assert token.startswith("<EMAIL_ADDRESS_V3_") and len(token) == len("<EMAIL_ADDRESS_V3_>") + 16
    assert token != vault_token(b"x" * 32, 3, "EMAIL_ADDRESS", EMAIL, 16, scope=DEFAULT_SCOPE)
    assert token != vault_token(key, 3, "PERSON", EMAIL, 16, scope=DEFAULT_SCOPE)
    match = TOKEN_PATTERN.fullmatch(token)
    assert match is not None and match.group(1) == "EMAIL_ADDRESS" and match.group(2) == "3"
    # Detection skips placeholders, so scrubbing twice changes nothing.
    assert PLACEHOLDER_PATTERN.fullmatch(token)


def test_keyring_seals_per_token_and_knows_retired_and_unknown_versions() -> None:
    ring = Keyring({1: V1, 2: V2}, active=2, retired=(7,))
    sealed = ring.seal("<A_V2_0123456789ab>", "secret value")
    assert b"secret value" not in sealed
    assert ring.open(2, "<A_V2_0123456789ab>", sealed).value == "secret value"
    # The token is the associated data: a row moved under another token does not open.
    assert ring.open(2, "<A_V2_ba9876543210>", sealed).status is Status.CORRUPT
    assert ring.open(1, "<A_V2_0123456789ab>", sealed).status is Status.CORRUPT
    assert ring.open(7, "<A_V7_0123456789ab>", sealed).status is Status.RETIRED_KEY
    assert ring.open(9, "<A_V9_0123456789ab>", sealed).status is Status.UNKNOWN_KEY


def test_round_trip_through_the_engine_and_the_store(tmp_path: Path) -> None:
    engine = engine_for(tmp_path)
    record = json.dumps({"user": {"email": EMAIL}, "msg": f"write to {OTHER_EMAIL} now"})
    result = engine.scrub_batch([record, f"mail from {EMAIL} via 203.0.113.7"])
    assert [r.outcome for r in result] == [Outcome.OK, Outcome.OK]
    assert EMAIL not in result[0].output and OTHER_EMAIL not in result[0].output
    assert "<IP_ADDRESS>" in result[1].output  # not every operator is the vault
    resolved = reader_for(engine).resolve(tokens_of(result[0].output + result[1].output), SCOPES)
    assert sorted(r.value for r in resolved.values() if r.value) == [OTHER_EMAIL, EMAIL]
    # The same value gets the same token in every record (and field or free text alike).
    assert len(resolved) == 2
    assert {r.path for r in result[0].replacements} == {"user.email", "msg"}
    assert rows_in(tmp_path / "vault.db") == 2


@pytest.fixture(scope="module")
def shared_engine(tmp_path_factory: pytest.TempPathFactory) -> Scrubber:
    return engine_for(tmp_path_factory.mktemp("vault"))


PROSE = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)
EMAILS = st.from_regex(
    r"[a-z]{2,8}\.[a-z]{2,8}[0-9]{0,3}@[a-z]{3,8}\.(com|org|net)", fullmatch=True
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(before=PROSE, between=PROSE, email=EMAILS, digits=st.integers(2_000_000, 9_999_999))
def test_restore_of_scrub_is_the_input(
    shared_engine: Scrubber, before: str, between: str, email: str, digits: int
) -> None:
    text = f"{before} {email} {between} call +1 415 {digits // 10_000:03d}-{digits % 10_000:04d}"
    result = shared_engine.scrub_batch([text], "text")[0]
    assume(result.outcome is Outcome.OK)
    tokens = tokens_of(result.output)
    assert tokens and email not in result.output
    resolved = reader_for(shared_engine).resolve(tokens, SCOPES)
    values = {token: r.value for token, r in resolved.items()}
    assert TOKEN_PATTERN.sub(lambda m: values[m.group(0)] or "", result.output) == text


def test_writes_are_idempotent_and_scrubbing_twice_changes_nothing(tmp_path: Path) -> None:
    engine = engine_for(tmp_path)
    first = engine.scrub_batch([f"a {EMAIL}", f"b {EMAIL}"])
    again = engine.scrub_batch([f"a {EMAIL}"])
    assert first[0].output == again[0].output
    assert rows_in(tmp_path / "vault.db") == 1
    assert engine.scrub_batch([first[0].output])[0].output == first[0].output
    assert rows_in(tmp_path / "vault.db") == 1


class BrokenStore:
    def put(self, rows: Sequence[SealedRow], purge_before: float | None) -> None:
        raise VaultUnavailable("sqlite vault store failed (OperationalError)")


def test_a_failed_flush_fails_closed_every_record_that_used_the_vault(tmp_path: Path) -> None:
    engine = engine_for(tmp_path)
    recorder = recorder_of(engine)
    working = recorder.store
    recorder.store = BrokenStore()  # type: ignore[assignment]
    records = [f"mail {EMAIL}", '{"msg": "write to ' + OTHER_EMAIL + '"}', "nothing personal here"]
    results = engine.scrub_batch(records)
    assert [r.reason for r in results] == [Reason.VAULT_UNAVAILABLE, Reason.VAULT_UNAVAILABLE, None]
    assert results[0].output == "[SCRUBBER QUARANTINED reason=vault_unavailable]"
    assert json.loads(results[1].output) == {"scrubber_quarantined": True,
                                             "reason": "vault_unavailable"}  # fmt: skip
    assert results[2].output == "nothing personal here"
    recorder.store = working  # back: the same records go through, and resolve
    results = engine.scrub_batch(records)
    assert [r.outcome for r in results] == [Outcome.OK] * 3
    resolved = reader_for(engine).resolve(tokens_of(results[0].output), SCOPES)
    assert [r.value for r in resolved.values()] == [EMAIL]


def test_key_rotation_old_tokens_resolve_and_retired_versions_say_so(tmp_path: Path) -> None:
    old = engine_for(tmp_path).scrub_batch([f"mail {EMAIL}"])[0].output
    rotated = engine_for(
        tmp_path, encryption_keys={1: {"env": "VAULT_V1"}, 2: {"env": "VAULT_V2"}}, active_key=2
    )
    new = rotated.scrub_batch([f"mail {EMAIL}"])[0].output
    (old_token,), (new_token,) = tokens_of(old), tokens_of(new)
    assert "_V1_" in old_token and "_V2_" in new_token
    both = Keyring({1: V1, 2: V2}, 2, ())
    resolved = reader_for(rotated, both).resolve([old_token, new_token], SCOPES)
    assert [r.value for r in resolved.values()] == [EMAIL, EMAIL]
    retired = Keyring({2: V2}, 2, (1,))
    resolved = reader_for(rotated, retired).resolve([old_token, new_token], SCOPES)
    assert resolved[old_token].status is Status.RETIRED_KEY
    assert resolved[new_token].value == EMAIL
    assert (
        reader_for(rotated, Keyring({2: V2}, 2, ())).resolve([old_token], SCOPES)[old_token].status
        is Status.UNKNOWN_KEY
    )


def test_ttl_per_entity_type_expires_and_purges(tmp_path: Path) -> None:
    now = [1_000_000.0]
    store = SqlStore.sqlite(tmp_path / "ttl.db")
    ring = Keyring({1: V1}, 1, ())
    ttl = {"EMAIL_ADDRESS": timedelta(hours=1), "*": timedelta(days=1)}
    recorder = TokenRecorder(store, ring, ttl, clock=lambda: now[0])
    vault_op = recorder.transform(TOKEN, 16, DEFAULT_SCOPE)
    email, person = vault_op(EMAIL, "EMAIL_ADDRESS"), vault_op("Maria", "PERSON")
    assert recorder.flush() == frozenset()
    reader = Vault(store, ring, [TOKEN], clock=lambda: now[0])
    now[0] += 2 * 3600
    resolved = reader.resolve([email, person], SCOPES)
    assert resolved[email].status is Status.EXPIRED and resolved[person].value == "Maria"
    vault_op("someone else", "PERSON")  # the next flush also purges expired rows
    recorder.flush()
    assert store.get([email]) == {}
    # Using a value again pushes its expiry out (the row is the same).
    before = store.get([person])[person].expires_at
    now[0] += 60
    vault_op("Maria", "PERSON")
    recorder.flush()
    after = store.get([person])[person].expires_at
    assert before is not None and after is not None and after > before


def test_identifiers_are_normalised_for_subject_lookup() -> None:
    assert normalize_identifier("  Maria.Garcia@Example.ORG ") == "maria.garcia@example.org"
    assert normalize_identifier("+1 (415) 555-0199") == normalize_identifier("+14155550199")
    assert normalize_identifier("Maria   Garcia") == "maria garcia"
    key = TOKEN
    assert subject_digest(key, "MARIA.GARCIA@example.org") == subject_digest(key, EMAIL)
    assert subject_digest(key, EMAIL) != subject_digest(b"u" * 32, EMAIL)


def test_find_and_erase_touch_only_the_subject(tmp_path: Path) -> None:
    engine = engine_for(tmp_path)
    phone = "+1 415-555-0199"
    outputs = [
        r.output
        for r in engine.scrub_batch(
            [f"from {EMAIL}", json.dumps({"phone": phone, "note": f"cc {OTHER_EMAIL}"})]
        )
    ]
    reader = reader_for(engine)
    found = reader.find(
        ["Maria.Garcia@example.org", "(415) 555 0199", "nobody@example.com"], SCOPES
    )
    assert [len(rows) for rows in found] == [1, 0, 0]  # no country code: another number
    found = reader.find([EMAIL, "+14155550199"], SCOPES)
    mine = {row.token for rows in found for row in rows}
    assert mine == set(tokens_of(outputs[0])) | {t for t in tokens_of(outputs[1]) if "PHONE" in t}
    erased = reader.erase([EMAIL, "+14155550199"], SCOPES)
    assert {row.token for rows in erased for row in rows} == mine
    resolved = reader.resolve(tokens_of(" ".join(outputs)), SCOPES)
    assert {t for t, r in resolved.items() if r.status is Status.NOT_FOUND} == mine
    assert [r.value for r in resolved.values() if r.value] == [OTHER_EMAIL]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c.pop("vault"), "uses the vault operator, but there is no `vault:` section"),
        (lambda c: c["vault"].update(active_key=2), "active_key 2 has no entry"),
        (lambda c: c["vault"].update(retired_keys=[1]), "are retired; remove them"),
        (lambda c: c["vault"].update(store="postgres"), "store: postgres needs `postgres_dsn"),
        (lambda c: c["vault"].update(ttl={"PERSON": 0}), "every ttl must be positive"),
        (lambda c: c["policy"]["default"].update(length=8), "length"),
        (lambda c: c["vault"].update(password="x"), "vault.password"),
    ],
)
def test_vault_config_errors_name_the_problem(
    tmp_path: Path, change: Callable[[dict[str, Any]], Any], message: str
) -> None:
    data = vault_config(tmp_path)
    change(data)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        parse_config(data)


def test_an_unreachable_store_is_a_value_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "dir.db").mkdir()  # a directory where the database file should be
    store = SqlStore.sqlite(tmp_path / "dir.db")
    with pytest.raises(VaultUnavailable, match=r"sqlite vault store failed \(\w+\)"):
        store.ping()
