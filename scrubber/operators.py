"""Operators: what replaces a detected value. Pure functions of (value, entity type, key)."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from scrubber.config import HashOp, KeepOp, MaskOp, Operator, RedactOp, ReplaceOp, TokenOp, VaultOp

if TYPE_CHECKING:
    from scrubber.vault import TokenRecorder

Transform = Callable[[str, str], str]

# Our own replacement outputs. Detection skips them, so scrubbing twice changes nothing.
PLACEHOLDER_PATTERN = re.compile(r"<[A-Z][A-Z0-9_]*?(?:_[0-9a-f]{8,32})?>|\[REDACTED\]")


def _digest(key: bytes, entity_type: str, value: str) -> str:
    message = entity_type.encode() + b"\x00" + value.encode("utf-8", "surrogatepass")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def token_for(key: bytes, entity_type: str, value: str, length: int = 8) -> str:
    """The keyed pseudonym of a value: stable across processes and restarts for one key."""
    return f"<{entity_type}_{_digest(key, entity_type, value)[:length]}>"


def _mask(value: str, char: str, keep_last: int) -> str:
    keep = min(keep_last, len(value) // 2)  # never reveal half or more of a short value
    return char * (len(value) - keep) + (value[len(value) - keep :] if keep else "")


def build_transform(
    op: Operator, keys: dict[str, bytes], vault: TokenRecorder | None = None
) -> Transform:
    """Bind an operator's params (and key) once, at start-up; the result is called per value."""
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
            key = keys[name]
            return lambda value, entity_type: _digest(key, entity_type, value)[:length]
        case TokenOp(key=name, length=length):
            key = keys[name]
            return lambda value, entity_type: token_for(key, entity_type, value, length)
        case KeepOp():
            return lambda value, entity_type: value
        case VaultOp(key=name, length=length):
            # The value goes into the recorder's buffer; the engine stores it once per batch.
            if vault is None:
                raise ValueError("the vault operator needs the engine's token recorder")
            return vault.transform(keys[name], length)
    raise AssertionError(f"unhandled operator {op!r}")
