"""`scrubber vault rotate`: a new key version, written where the config can read it.

Rotation is a config change, never a rewrite of the store: a new encryption key version becomes
active, and since the vault token's MAC key is derived per key version (`operators.derive_key`),
new values get new `_V{n}_` tokens under a new data key and a new MAC. Old tokens keep restoring
while their version's key is listed; listing a version under `retired_keys` (and removing its key)
makes them answer `retired_key` for ever. The command writes the new key to a file (mode 0600,
never over an existing one) and prints the lines to put in the config; it never prints the key.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

from scrubber.config import Config
from scrubber.errors import ConfigError
from scrubber.vault.store import open_store

KEY_BYTES = 32


def write_key_file(path: Path) -> None:
    """32 random bytes as hex, readable by the owner only; an existing file is never replaced."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ConfigError(f"{path} exists: rotate writes a new key file, never over one") from None
    except OSError as exc:
        raise ConfigError(f"cannot write {path} ({exc.strerror})") from None
    with os.fdopen(descriptor, "w") as out:
        out.write(secrets.token_hex(KEY_BYTES) + "\n")


def rotate(config: Config, key_file: Path) -> dict[str, Any]:
    if config.vault is None:
        raise ConfigError("there is no `vault:` section, so there is no key to rotate")
    vault = config.vault
    version = max((*vault.encryption_keys, *vault.retired_keys)) + 1
    write_key_file(key_file)
    rows = open_store(vault).rows_by_key_version()
    keys = {
        str(v): s.model_dump(mode="json", exclude_none=True)
        for v, s in vault.encryption_keys.items()
    }
    keys[str(version)] = {"file": str(key_file)}
    return {
        "new_version": version,
        "key_file": str(key_file),
        "config": {"vault": {"encryption_keys": keys, "active_key": version}},
        "rows_by_key_version": {str(v): n for v, n in sorted(rows.items())},
        "next": (
            f"put `config` into the vault section and restart: new values get _V{version}_ "
            "tokens; older tokens restore until their version is moved to retired_keys"
        ),
    }


def print_rotation(config: Config, key_file: Path) -> int:
    print(json.dumps(rotate(config, key_file), indent=2))
    return 0
