"""Key material for keyed operators, read from the environment or files, never from YAML.

Keys are held apart from the data and the config: the config only names where a key lives.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from scrubber.config import KEYED_OPERATORS, Config, KeySource
from scrubber.errors import KeyMaterialError

MIN_KEY_BYTES = 16


def _read(name: str, source: KeySource, environ: Mapping[str, str]) -> bytes:
    if source.env is not None:
        value = environ.get(source.env)
        if value is None:
            raise KeyMaterialError(
                f"key {name!r}: environment variable {source.env} is not set "
                f"(set it to at least {MIN_KEY_BYTES} random bytes, e.g. `openssl rand -hex 32`)"
            )
        material = value.encode()
    else:
        path = Path(str(source.file))
        try:
            material = path.read_bytes().strip()
        except OSError as exc:
            raise KeyMaterialError(f"key {name!r}: cannot read {path} ({exc.strerror})") from None
    if len(material) < MIN_KEY_BYTES:
        raise KeyMaterialError(
            f"key {name!r} is {len(material)} bytes; at least {MIN_KEY_BYTES} are required"
        )
    return material


def load_keys(config: Config, environ: Mapping[str, str] | None = None) -> dict[str, bytes]:
    """Every key a keyed operator uses. Missing or short keys are a start-up error."""
    env = os.environ if environ is None else environ
    used = {op.key for _, op in config.operators_with_paths() if isinstance(op, KEYED_OPERATORS)}
    return {name: _read(name, config.keys[name], env) for name in sorted(used)}
