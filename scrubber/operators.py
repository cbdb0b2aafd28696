"""Operators: what replaces a detected value. Pure functions of (value, entity type, key)."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from scrubber.config import (
    GeneralizeOp,
    HashOp,
    KeepOp,
    MaskOp,
    Operator,
    RedactOp,
    ReplaceOp,
    TokenOp,
    VaultOp,
)

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
        case GeneralizeOp():
            return lambda value, entity_type: generalize(value, entity_type, op)
        case VaultOp(key=name, length=length):
            # The value goes into the recorder's buffer; the engine stores it once per batch.
            if vault is None:
                raise ValueError("the vault operator needs the engine's token recorder")
            return vault.transform(keys[name], length)
    raise AssertionError(f"unhandled operator {op!r}")
