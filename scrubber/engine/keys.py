"""Key material for keyed operators, read from the environment or files, never from YAML.

Keys are held apart from the data and the config: the config only names where a key lives.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from scrubber.config import Config, KeySource, read_secret
from scrubber.operators import KEYED_OPERATORS


def _read(name: str, source: KeySource, environ: Mapping[str, str]) -> bytes:
    return read_secret(f"key {name!r}", source, environ)


def load_keys(config: Config, environ: Mapping[str, str] | None = None) -> dict[str, bytes]:
    """Every key a keyed operator uses. Missing or short keys are a start-up error."""
    env = os.environ if environ is None else environ
    used = {op.key for _, op in config.operators_with_paths() if isinstance(op, KEYED_OPERATORS)}
    return {name: _read(name, config.keys[name], env) for name in sorted(used)}
