"""The token vault: reversible tokens whose values are sealed (AES-256-GCM) in a token store.

Write side: `recorder.TokenRecorder`, all the scrubbing path holds. Read side, `Vault`: resolve
tokens, list and erase a subject's tokens, within the caller's scopes. Only re-identification
(access.py) uses it, behind API keys, roles and the audit log.

A token is `<EMAIL_ADDRESS_V2_5f2c9a1b0c3d4e5f0a1b2c3d>`: entity type, the version of the
encryption key that sealed the value, and HMAC-SHA256 over (type, value) under a key derived from
the token key for the vault, the scope and that version (`operators.derive_key`), truncated. Same
value, type, key, scope and version give the same token in every process: replicas sharing one
store agree, and a retried record writes the same row again (an upsert). Low-entropy types and
erased subjects get random tokens instead (see recorder.py).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from scrubber.config import Config, VaultConfig, read_secret
from scrubber.operators import VaultOp
from scrubber.vault.store import SealedRow, TokenStore

TOKEN_PATTERN = re.compile(r"<([A-Z][A-Z0-9_]*?)_V([0-9]{1,4})_([0-9a-f]{12,32})>")
NONCE_BYTES = 12
_PHONE_LIKE = re.compile(r"\+?[0-9 ().\-/]{7,}")


class Status(StrEnum):
    """What became of one token on restore. A small fixed set: audit and metric values."""

    REVEALED = "revealed"
    DENIED = "denied"  # the caller's role may not reveal this entity type
    NOT_FOUND = "not_found"  # never stored, or erased
    EXPIRED = "expired"
    RETIRED_KEY = "retired_key"  # sealed with a key version that was destroyed on purpose
    UNKNOWN_KEY = "unknown_key"  # a key version this config does not know
    CORRUPT = "corrupt"  # the ciphertext fails authentication (edited or moved row)


@dataclass(frozen=True, slots=True)
class Resolution:
    status: Status
    value: str | None = None


def _mac(key: bytes, label: bytes, value: str) -> str:
    message = label + b"\x00" + value.encode("utf-8", "surrogatepass")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def normalize_identifier(value: str) -> str:
    """Case and spacing do not make another person; nor does a phone number's punctuation."""
    text = " ".join(value.split()).casefold()
    if _PHONE_LIKE.fullmatch(text) and sum(c.isdigit() for c in text) >= 7:
        return "".join(c for c in text if c.isdigit())
    return text


def subject_digest(key: bytes, identifier: str) -> str:
    return _mac(key, b"subject", normalize_identifier(identifier))


class Keyring:
    """AES-256-GCM per key version. The token is the associated data: a row moved under another
    token fails authentication instead of revealing the wrong value."""

    def __init__(self, materials: Mapping[int, bytes], active: int, retired: Iterable[int]) -> None:
        self._aead = {version: AESGCM(_derive(m, version)) for version, m in materials.items()}
        self.active = active
        self._retired = frozenset(retired)

    def seal(self, token: str, value: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead[self.active].encrypt(nonce, value.encode(), token.encode())

    def open(self, version: int, token: str, sealed: bytes) -> Resolution:
        if version in self._retired:
            return Resolution(Status.RETIRED_KEY)
        aead = self._aead.get(version)
        if aead is None:
            return Resolution(Status.UNKNOWN_KEY)
        try:
            plain = aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], token.encode())
        except InvalidTag:
            return Resolution(Status.CORRUPT)
        return Resolution(Status.REVEALED, plain.decode())


def _derive(material: bytes, version: int) -> bytes:
    """A 256-bit AES key from key material of any length (at least 16 bytes)."""
    info = f"scrubber vault aes-256-gcm v{version}".encode()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(material)


class Vault:
    """The read side: resolve tokens, find and erase a subject's rows. No access control here:
    callers go through access.Gatekeeper, which decides and audits."""

    def __init__(
        self,
        store: TokenStore,
        keyring: Keyring,
        token_keys: Sequence[bytes],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self._keyring = keyring
        self._token_keys = tuple(token_keys)
        self._clock = clock
        # Told (subject digests, scopes) after each erasure: this process's writers then mint
        # new tokens at once instead of learning it from a refused write.
        self.erase_listeners: list[Callable[[Sequence[str], Sequence[str]], None]] = []

    def resolve(self, tokens: Iterable[str], scopes: Iterable[str]) -> dict[str, Resolution]:
        """Tokens of these scopes only: one of another scope (pasted from elsewhere) is answered
        as if it did not exist, so asking tells nothing about other scopes."""
        wanted = sorted(set(tokens))
        allowed = frozenset(scopes)
        rows = self.store.get(wanted) if wanted else {}
        now = self._clock()
        resolved: dict[str, Resolution] = {}
        for token in wanted:
            row = rows.get(token)
            if row is None or row.scope not in allowed:
                resolved[token] = Resolution(Status.NOT_FOUND)
            elif row.expires_at is not None and row.expires_at <= now:
                resolved[token] = Resolution(Status.EXPIRED)
            else:
                resolved[token] = self._keyring.open(row.key_version, token, row.sealed)
        return resolved

    def subjects(self, identifier: str) -> list[str]:
        """The identifier's digests under every token key in use (one per key)."""
        return [subject_digest(key, identifier) for key in self._token_keys]

    def find(self, identifiers: Sequence[str], scopes: Sequence[str]) -> list[list[SealedRow]]:
        """Per identifier, the rows of these scopes whose value is that identifier."""
        return self._by_identifier(identifiers, lambda s: self.store.find(s, sorted(scopes)))

    def erase(self, identifiers: Sequence[str], scopes: Sequence[str]) -> list[list[SealedRow]]:
        """Delete every row of these identifiers in these scopes and leave tombstones, so their
        values never get those tokens again; per identifier, the rows deleted."""
        now = self._clock()
        erased = self._by_identifier(
            identifiers, lambda s: self.store.erase(s, sorted(scopes), now)
        )
        digests = [d for identifier in identifiers for d in self.subjects(identifier)]
        for listener in self.erase_listeners:
            listener(digests, scopes)
        return erased

    def _by_identifier(
        self, identifiers: Sequence[str], action: Callable[[Sequence[str]], list[SealedRow]]
    ) -> list[list[SealedRow]]:
        digests = [self.subjects(identifier) for identifier in identifiers]
        rows = action(sorted({d for ds in digests for d in ds}))
        by_subject: dict[str, list[SealedRow]] = {}
        for row in rows:
            by_subject.setdefault(row.subject, []).append(row)
        return [
            sorted((r for d in ds for r in by_subject.get(d, [])), key=lambda r: r.token)
            for ds in digests
        ]


# ---------------------------------------------------------------- building from config


def uses_vault(config: Config) -> bool:
    return any(isinstance(op, VaultOp) for _, op in config.operators_with_paths())


def vault_token_keys(config: Config, keys: Mapping[str, bytes]) -> list[bytes]:
    names = sorted({op.key for _, op in config.operators_with_paths() if isinstance(op, VaultOp)})
    return [keys[name] for name in names]


def open_keyring(config: VaultConfig, environ: Mapping[str, str] | None = None) -> Keyring:
    materials = {
        version: read_secret(f"vault.encryption_keys.{version}", source, environ)
        for version, source in config.encryption_keys.items()
    }
    return Keyring(materials, config.active_key, config.retired_keys)
