"""What every config section shares: the `Strict` base, where a secret's bytes come from, and
the hint for a misspelt entity type."""

from __future__ import annotations

import difflib
import itertools
import math
import os
from collections.abc import Collection, Mapping
from pathlib import Path

from pydantic import model_validator

from recognizers.fields import hint_for_key
from scrubber.errors import KeyMaterialError
from scrubber.models import Strict

__all__ = [
    "MIN_SECRET_BYTES", "KeySource", "SecretSource", "Strict", "did_you_mean", "read_secret",
]  # fmt: skip
MIN_SECRET_BYTES = 16


class SecretSource(Strict):
    """Where a secret's bytes come from: an environment variable or a file (a Kubernetes Secret)."""

    env: str | None = None
    file: Path | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretSource:
        if (self.env is None) == (self.file is None):
            raise ValueError("give exactly one of `env` or `file`")
        return self


# Where a key's bytes come from: an environment variable or a file (a Kubernetes Secret).
KeySource = SecretSource


def read_secret(what: str, source: SecretSource, environ: Mapping[str, str] | None = None) -> bytes:
    """The secret's bytes; a missing or short one is a start-up error that says how to fix it."""
    env = os.environ if environ is None else environ
    if source.env is not None:
        value = env.get(source.env)
        if value is None:
            raise KeyMaterialError(
                f"{what}: environment variable {source.env} is not set "
                f"(set it to at least {MIN_SECRET_BYTES} random bytes, e.g. `openssl rand -hex 32`)"
            )
        material = value.encode()
    else:
        path = Path(str(source.file))
        try:
            material = path.read_bytes().strip()
        except OSError as exc:
            raise KeyMaterialError(f"{what}: cannot read {path} ({exc.strerror})") from None
    if len(material) < MIN_SECRET_BYTES:
        raise KeyMaterialError(
            f"{what} is {len(material)} bytes; at least {MIN_SECRET_BYTES} are required"
        )
    if (weak := weakness(material)) is not None:
        raise KeyMaterialError(
            f"{what} {weak}: it looks like a placeholder, not a random key "
            "(use e.g. `openssl rand -hex 32`)"
        )
    return material


# A random key of 16 bytes or more, raw or as hex/base64 text, has far more distinct bytes and
# entropy per byte than these; a typed placeholder (`aaaa...`, `changeme...`, `abcabc...`) not.
MIN_DISTINCT_BYTES = 8
MIN_BITS_PER_BYTE = 2.3


def weakness(material: bytes) -> str | None:
    """Why key material cannot be random (few distinct bytes, a repeated short pattern, a
    sequence, low entropy), or None."""
    distinct = len(set(material))
    if distinct < min(MIN_DISTINCT_BYTES, len(material) // 3):
        return f"has only {distinct} distinct bytes"
    for period in range(1, len(material) // 2 + 1):
        if all(material[i] == material[i % period] for i in range(len(material))):
            return f"repeats a pattern of {period} bytes"
    steps = {b - a for a, b in itertools.pairwise(material)}
    if len(steps) == 1:
        return "is a sequence"
    counts = [material.count(byte) for byte in set(material)]
    bits = -sum(c / len(material) * math.log2(c / len(material)) for c in counts)
    if bits < MIN_BITS_PER_BYTE:
        return f"has {bits:.1f} bits of entropy per byte"
    return None


def did_you_mean(name: str, known: Collection[str]) -> str:
    """` (did you mean 'EMAIL_ADDRESS'?)` for a misspelt entity type, or "" when nothing is close.

    Tried in turn: the name in upper case (`email_address`), what a field of that name would
    hold (`EMAIL`, `DOB`, `PASSWORD`), the one type of which it is a word (`SSN`), a close
    spelling (`EMAIL_ADRESS`).
    """
    upper = name.upper()
    words = set(upper.split("_"))
    containing = [k for k in known if words <= set(k.split("_"))]
    candidates = [upper, hint_for_key(name)]
    if len(containing) == 1:
        candidates += containing
    candidates += difflib.get_close_matches(upper, sorted(known), n=1)
    found = next((c for c in candidates if c in known and c != name), None)
    return f" (did you mean '{found}'?)" if found else ""
