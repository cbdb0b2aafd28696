"""What every config section shares: the `Strict` base and where a secret's bytes come from."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import model_validator

from scrubber.errors import KeyMaterialError
from scrubber.models import Strict

__all__ = ["MIN_SECRET_BYTES", "KeySource", "SecretSource", "Strict", "read_secret"]
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
    return material
