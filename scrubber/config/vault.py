"""Config sections of the token vault and re-identification: `vault:` and `access:`.

Part of the one YAML file (`Config.vault`, `Config.access`). Every secret here (encryption keys,
the PostgreSQL DSN with its password, API keys) is named by the environment variable or file that
holds it, never written in the YAML (`config.base.read_secret` reads one).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import model_validator

from scrubber.config.base import SecretSource, Strict


class AuditConfig(Strict):
    """The audit chain's protection: see docs/vault.md "Audit".

    `key` is required (fail closed): a vault whose audit log cannot be keyed would protect less
    than the docs say, so opening the audit log without it is refused with `refusal()`'s text.
    `anchor` is optional; without it, verification cannot see the newest records cut away with
    the head rewound, or the whole log wiped.
    """

    # HMAC key of the chain and of the anchor's signatures, held apart from the store (env or
    # file), so whoever can write the store cannot recompute a valid chain.
    key: SecretSource | None = None
    # A signed checkpoint of the head is appended (fsync'd) here after every append: an outside
    # anchor against truncation with a head rewind, and against a wipe. A file apart from the
    # store, that takes appends only (`chattr +a`, another owner, a shipped log).
    anchor: Path | None = None

    def refusal(self) -> str | None:
        """Why this section cannot protect an audit log, with the fix; None when it can."""
        if self.key is None:
            return (
                "vault.audit.key is not set: the audit chain is keyed (HMAC-SHA256) with a "
                "secret held apart from the store. Add `audit: {key: {env: SCRUBBER_AUDIT_KEY}}` "
                "(or `{file: PATH}`) under `vault:`, holding at least 16 random bytes "
                "(`openssl rand -hex 32`), and `anchor: PATH` for an append-only checkpoint file"
            )
        return None


class VaultConfig(Strict):
    """Where vaulted values live, the keys that seal them, and how long they are kept."""

    store: Literal["sqlite", "postgres"] = "sqlite"
    sqlite_path: Path = Path("scrubber-vault.db")
    # The DSN carries a password, so it is read from the environment or a file.
    postgres_dsn: SecretSource | None = None
    # AES-256-GCM key material per key version; the active version seals new values and is
    # written into each token (`<EMAIL_ADDRESS_V2_...>`), so old tokens still find their key.
    encryption_keys: dict[int, SecretSource]
    active_key: int
    # Versions whose key was destroyed on purpose: their tokens can never be revealed again.
    retired_keys: tuple[int, ...] = ()
    # How long a value is kept after the last record that used it, per entity type ("*" for
    # every other type): seconds or an ISO 8601 duration such as P30D. No entry: kept until erased.
    ttl: dict[str, timedelta] = {}
    # The hash-chained audit log: a JSONL file, or (default) tables in the vault store.
    audit_log: Path | None = None
    audit: AuditConfig = AuditConfig()
    # Entity types whose tokens are random per value and scope instead of keyed digests: for
    # low-entropy values (SSNs, card numbers, phone numbers, dates of birth, postcodes), whose
    # deterministic tokens anyone holding the token key could match against every guess. The
    # same value still gets the same token, found through the vault's keyed index.
    random_tokens: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> VaultConfig:
        if not 1 <= self.active_key <= 9999 or any(
            not 1 <= v <= 9999 for v in (*self.encryption_keys, *self.retired_keys)
        ):
            raise ValueError("key versions are numbers from 1 to 9999")
        if self.active_key not in self.encryption_keys:
            raise ValueError(f"active_key {self.active_key} has no entry under encryption_keys")
        if retired := sorted(set(self.retired_keys) & set(self.encryption_keys)):
            raise ValueError(
                f"key versions {retired} are retired; remove them from encryption_keys"
            )
        if (refused := self.audit.refusal()) is not None:
            raise ValueError(refused)
        if self.store == "postgres" and self.postgres_dsn is None:
            raise ValueError("store: postgres needs `postgres_dsn: {env: SCRUBBER_VAULT_DSN}`")
        if any(ttl.total_seconds() <= 0 for ttl in self.ttl.values()):
            raise ValueError("every ttl must be positive")
        return self


class RoleConfig(Strict):
    """What a role may do: reveal these entity types ("*": every type), and serve subject rights."""

    reveal: tuple[str, ...] = ()
    subject_rights: bool = False
    # Tokenize through the API (needed when the policy has a keyed operator: a caller who may
    # scrub can test guesses against tokens of its scopes).
    scrub: bool = False
    # The scopes whose tokens this role may mint, reveal and serve subject rights for. "api" is
    # the API's own; the log pipeline's scope ("pipeline", or a route's `scope`) is reachable only
    # if named here.
    scopes: tuple[str, ...] = ("api",)

    @model_validator(mode="after")
    def _has_scopes(self) -> RoleConfig:
        if not self.scopes and (self.reveal or self.subject_rights or self.scrub):
            raise ValueError("a role that may scrub, reveal or serve subject rights needs scopes")
        return self


class ApiKeyConfig(SecretSource):
    role: str


class AccessConfig(Strict):
    """Roles, and API keys mapped to roles. The name of a key is what the audit log records."""

    roles: dict[str, RoleConfig] = {}
    api_keys: dict[str, ApiKeyConfig] = {}
    # A sidecar on loopback usually lets its pod scrub freely; a shared service may not.
    scrub_requires_key: bool = False

    @model_validator(mode="after")
    def _keys_name_known_roles(self) -> AccessConfig:
        for name, key in self.api_keys.items():
            if key.role not in self.roles:
                raise ValueError(f"api_keys.{name} names role {key.role!r}, not under `roles`")
        return self
