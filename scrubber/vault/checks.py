"""Every check `serve`, `run` and `scrub` make at start-up, without connecting to anything, so
`scrubber config validate` refuses what they would refuse (a missing or weak key, an API key that
is too short or shared, a vault without its audit key, an unset DSN or SASL password variable)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from scrubber.config import Config, read_secret
from scrubber.engine.keys import load_keys
from scrubber.errors import ConfigError
from scrubber.vault.access import AccessControl
from scrubber.vault.audit import audit_key
from scrubber.vault.tokens import open_keyring


def check_startup(config: Config, environ: Mapping[str, str] | None = None) -> None:
    """Raise the error a command would raise at start-up (ConfigError, KeyMaterialError)."""
    env = os.environ if environ is None else environ
    load_keys(config, env)
    if config.vault is not None:
        open_keyring(config.vault, env)
        audit_key(config.vault.audit, env)
        if config.vault.postgres_dsn is not None:
            read_secret("vault.postgres_dsn", config.vault.postgres_dsn, env)
    AccessControl(config.access, env)
    if (
        config.routes
        and config.kafka.sasl_password_env
        and config.kafka.sasl_password_env not in env
    ):
        raise ConfigError(
            f"kafka.sasl_password_env names {config.kafka.sasl_password_env}, which is not set"
        )
