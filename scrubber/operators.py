"""Operators: what replaces a detected value. Each operator's typed params (the YAML under
`policy:`) sit beside its transform; transforms are pure functions of (value, entity type).

The `vault` operator is the one that keeps something: it hands the value to a `TokenSink` (the
port the engine is given; `scrubber.vault` provides the real one, `MemoryTokenSink` is the test
double), and the engine flushes the sink once per batch before any record leaves.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from typing import Annotated, Literal, Protocol

from pydantic import Field

from scrubber.errors import ConfigError
from scrubber.models import Strict

Transform = Callable[[str, str], str]


class RedactOp(Strict):
    """Replace the value with a fixed placeholder that says nothing about it."""

    type: Literal["redact"]
    placeholder: str = "[REDACTED]"


class ReplaceOp(Strict):
    """Replace the value with its type label, e.g. `<EMAIL_ADDRESS>`, or a fixed `new_value`."""

    type: Literal["replace"]
    new_value: str | None = None


class MaskOp(Strict):
    """Overwrite every character but the last `keep_last` with `char`."""

    type: Literal["mask"]
    char: str = Field("*", min_length=1, max_length=1)
    keep_last: int = Field(4, ge=0, le=16)


class HashOp(Strict):
    """Keyed HMAC-SHA256 of the value, hex, truncated to `length` characters."""

    type: Literal["hash"]
    key: str = "default"
    length: int = Field(16, ge=8, le=64)


class TokenOp(Strict):
    """Deterministic keyed pseudonym `<TYPE_hex>`: same value, type and key give the same token."""

    type: Literal["token"]
    key: str = "default"
    length: int = Field(8, ge=8, le=32)


class KeepOp(Strict):
    """Leave the value as it is (an explicit, audited decision)."""

    type: Literal["keep"]


class VaultOp(Strict):
    """Reversible token `<TYPE_V1_hex>`: a keyed token, the value sealed in the token vault."""

    type: Literal["vault"]
    key: str = "default"
    # Hex characters (4 bits each): at least 64 bits, 96 by default. Two values sharing a token
    # would make one unrevealable; a short token makes that likely (the birthday bound).
    length: int = Field(24, ge=16, le=32)


class GeneralizeOp(Strict):
    """Coarsen a quasi-identifier instead of removing it, so records stay countable by group:
    small numbers to bands (`34` -> `30-39`, `95` -> `90+`), dates to their year
    (`1985-04-12` -> `1985`), codes with digits to a prefix (`94107` -> `941**`). A value of
    none of these shapes (a name) gets its type label: nothing is ever left as it was."""

    type: Literal["generalize"]
    band: int = Field(10, ge=2, le=100)
    # Numbers from `top` up become `{top}+`: few people are 95, so 95 alone singles one out
    # (HIPAA's Safe Harbor aggregates ages over 89).
    top: int = Field(90, ge=2, le=1000)
    keep_prefix: int = Field(3, ge=0, le=10)


Operator = Annotated[
    RedactOp | ReplaceOp | MaskOp | HashOp | TokenOp | KeepOp | VaultOp | GeneralizeOp,
    Field(discriminator="type"),
]
KEYED_OPERATORS = (HashOp, TokenOp, VaultOp)

# Our own replacement outputs. Detection skips them, so scrubbing twice changes nothing.
PLACEHOLDER_PATTERN = re.compile(r"<[A-Z][A-Z0-9_]*?(?:_[0-9a-f]{8,32})?>|\[REDACTED\]")


DEFAULT_SCOPE = "pipeline"  # the log pipeline's own scope (`scrubber run`, `scrubber scrub`)
Purpose = Literal["hash", "token", "vault", "index", "subject"]


def derive_key(key: bytes, purpose: Purpose, scope: str, version: int = 1) -> bytes:
    """HKDF-SHA256 (RFC 5869) of a configured key, for one purpose, scope and key version.

    Domain separation: `hash`, `token` and vault tokens never share output, a token of one
    scope cannot be computed from another scope's, and a token relabelled with another key
    version does not match (the version is in the derivation).
    """
    prk = hmac.new(b"scrubber-kdf-v1", key, hashlib.sha256).digest()
    info = f"scrubber/{purpose}/v{version}/{scope}".encode("utf-8", "surrogatepass")
    return hmac.new(prk, info + b"\x01", hashlib.sha256).digest()


def keyed_digest(key: bytes, entity_type: str, value: str) -> str:
    """HMAC-SHA256 over (type, value) under an already derived key, hex."""
    message = entity_type.encode() + b"\x00" + value.encode("utf-8", "surrogatepass")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def token_for(
    key: bytes, entity_type: str, value: str, length: int = 8, scope: str = DEFAULT_SCOPE
) -> str:
    """The keyed pseudonym of a value: stable across processes and restarts for one key."""
    digest = keyed_digest(derive_key(key, "token", scope), entity_type, value)
    return f"<{entity_type}_{digest[:length]}>"


def vault_token(
    key: bytes, version: int, entity_type: str, value: str, length: int, *, scope: str
) -> str:
    """A reversible token: `<TYPE_V{key version}_hex>`, keyed per scope and key version."""
    digest = keyed_digest(derive_key(key, "vault", scope, version), entity_type, value)
    return f"<{entity_type}_V{version}_{digest[:length]}>"


class TokenSink(Protocol):
    """Where the `vault` operator's values go. Not thread-safe: one engine call at a time."""

    def transform(self, key: bytes, length: int, scope: str) -> Transform:
        """The `vault` operator bound to its token key and scope: (value, entity type) -> token."""
        ...

    def flush(self) -> frozenset[str]:
        """Store what the transforms handed over; the tokens that could NOT be stored (empty when
        all are durable). Records carrying them must fail closed."""
        ...


class MemoryTokenSink:
    """A TokenSink in a dict, for tests: `available = False` makes every flush fail."""

    def __init__(self, version: int = 1) -> None:
        self.version = version
        self.available = True
        self.stored: dict[str, tuple[str, str]] = {}  # token -> (scope, value)
        self._pending: dict[str, tuple[str, str]] = {}

    def transform(self, key: bytes, length: int, scope: str) -> Transform:
        def vault(value: str, entity_type: str) -> str:
            token = vault_token(key, self.version, entity_type, value, length, scope=scope)
            self._pending[token] = (scope, value)
            return token

        return vault

    def flush(self) -> frozenset[str]:
        pending, self._pending = self._pending, {}
        if not self.available:
            return frozenset(pending)
        self.stored.update(pending)
        return frozenset()


def _mask(value: str, char: str, keep_last: int) -> str:
    keep = min(keep_last, len(value) // 2)  # never reveal half or more of a short value
    return char * (len(value) - keep) + (value[len(value) - keep :] if keep else "")


_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)")
_DATE_SHAPE = re.compile(r"\d[./ -]|[./ -]\d|[A-Za-z]{3}")


def generalize(value: str, entity_type: str, op: GeneralizeOp) -> str:
    """See GeneralizeOp: a band, a year or a prefix, whichever the value's shape allows."""
    stripped = value.strip()
    if stripped.isdigit() and len(stripped) <= 3:
        number = int(stripped)
        if number >= op.top:
            return f"{op.top}+"
        low = number - number % op.band
        return f"{low}-{min(low + op.band, op.top) - 1}"
    year = _YEAR.search(stripped)
    if year is not None and _DATE_SHAPE.search(stripped) and len(stripped) <= 40:
        return year.group(1)
    if any(c.isdigit() for c in stripped) and op.keep_prefix > 0:
        kept, out = 0, []
        for char in stripped:
            if char.isalnum():
                out.append(char if kept < op.keep_prefix else "*")
                kept += 1
            else:
                out.append(char)
        if kept > op.keep_prefix:  # something was hidden; else the prefix is the whole value
            return "".join(out)
    return f"<{entity_type}>"


def build_transform(
    op: Operator, keys: dict[str, bytes], sink: TokenSink | None = None, scope: str = DEFAULT_SCOPE
) -> Transform:
    """Bind an operator's params (and key, derived for `scope`) once; called per value."""
    match op:
        case RedactOp(placeholder=placeholder):
            return lambda value, entity_type: placeholder
        case ReplaceOp(new_value=None):
            return lambda value, entity_type: f"<{entity_type}>"
        case ReplaceOp(new_value=str(fixed)):
            return lambda value, entity_type: fixed
        case MaskOp(char=char, keep_last=keep_last):
            return lambda value, entity_type: _mask(value, char, keep_last)
        case HashOp(key=name, length=length):
            hash_key = derive_key(keys[name], "hash", scope)
            return lambda value, entity_type: keyed_digest(hash_key, entity_type, value)[:length]
        case TokenOp(key=name, length=length):
            token_key = derive_key(keys[name], "token", scope)
            return lambda value, entity_type: (
                f"<{entity_type}_{keyed_digest(token_key, entity_type, value)[:length]}>"
            )
        case KeepOp():
            return lambda value, entity_type: value
        case GeneralizeOp():
            return lambda value, entity_type: generalize(value, entity_type, op)
        case VaultOp(key=name, length=length):
            # The value goes into the sink's buffer; the engine flushes it once per batch.
            if sink is None:
                raise ConfigError(
                    "the vault operator needs a token vault, and this command opened none "
                    "(build the engine with `scrubber.vault.recorder.scrubber_for`)"
                )
            return sink.transform(keys[name], length, scope)
    raise AssertionError(f"unhandled operator {op!r}")
