"""Test secrets: distinct, random-looking and reproducible (a real key is never a repeated
character, and the configuration refuses keys that look like one)."""

from __future__ import annotations

import hashlib


def key(label: str, length: int = 32) -> str:
    """A hex secret of `length` characters derived from `label`."""
    digest = hashlib.sha256(f"scrubber test key {label}".encode()).hexdigest()
    return (digest * (length // len(digest) + 1))[:length]
