"""The typed configuration: one YAML file, validated at start, frozen afterwards.

One module per YAML section: `engine` (detection, limits, policy), `pipeline` (kafka, routes,
quarantine, pipeline), `vault` (vault, access); `base` holds what they share (`Strict`,
`SecretSource`, `read_secret`). Operators' params live beside their transforms in
`scrubber.operators`. Secrets never live here: a key is named by the environment variable or file
that holds it. Errors name the key path of the bad value (`ConfigError`), so `scrubber config
validate` can print something a person can act on.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ValidationError, ValidationInfo, field_validator, model_validator

from recognizers.custom import CustomRecognizer
from recognizers.entity_types import (
    FIELD_ENTITY_TYPE,
    TIMESTAMP_ENTITY_TYPE,
    detected_entity_types,
    entity_types,
)
from scrubber.config.api import ApiConfig
from scrubber.config.base import KeySource, SecretSource, Strict, did_you_mean, read_secret
from scrubber.config.engine import DetectionConfig, LimitsConfig, NerConfig, PolicyConfig
from scrubber.config.gateway import GatewayConfig
from scrubber.config.pipeline import KafkaConfig, PipelineConfig, QuarantineConfig, RouteConfig
from scrubber.config.policies import (
    NAME_PATTERN,
    NamedPolicy,
    ShadowConfig,
    unknown_name,
    with_policy,
)
from scrubber.config.presidio import ImportedRecognizers, imported
from scrubber.config.privacy_metrics import PrivateMetricsConfig
from scrubber.config.recognizers import RecognizerConfig, recognizer_problems
from scrubber.config.vault import AccessConfig, ApiKeyConfig, AuditConfig, RoleConfig, VaultConfig
from scrubber.errors import ConfigError
from scrubber.operators import KEYED_OPERATORS, Operator, VaultOp

__all__ = [
    "AccessConfig", "ApiConfig", "ApiKeyConfig", "AuditConfig", "Config", "DetectionConfig",
    "GatewayConfig",
    "KafkaConfig", "KeySource", "LimitsConfig", "NamedPolicy", "NerConfig", "PipelineConfig",
    "PolicyConfig", "QuarantineConfig", "RoleConfig", "RouteConfig", "SecretSource",
    "ShadowConfig", "VaultConfig", "load_config", "parse_config", "read_secret",
]  # fmt: skip


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
    # `scrubber serve` (see config/api.py).
    api: ApiConfig = ApiConfig()
    # `scrubber gateway` (see config/gateway.py).
    gateway: GatewayConfig = GatewayConfig()
    # A team's own recognizers (config/recognizers.py, docs/recognizers.md), and Presidio
    # recognizer-registry files read as they are (config/presidio.py).
    recognizers: tuple[RecognizerConfig, ...] = ()
    recognizers_from: tuple[ImportedRecognizers, ...] = ()
    # Named policies that routes use (`routes[].policy`) or try in the shadow (`shadow:`),
    # merged over the sections above (config/policies.py, docs/configuration.md).
    policies: dict[str, NamedPolicy] = {}
    shadow: ShadowConfig = ShadowConfig()
    # The differentially private view of the per-entity counters (docs/privacy-metrics.md).
    privacy_metrics: PrivateMetricsConfig = PrivateMetricsConfig()

    @field_validator("policies")
    @classmethod
    def _policy_names_are_labels(cls, value: dict[str, NamedPolicy]) -> dict[str, NamedPolicy]:
        if bad := [name for name in value if not re.match(NAME_PATTERN, name)]:
            raise ValueError(f"{bad[0]!r} is not a policy name: [a-z0-9][a-z0-9_.-]{{0,62}}")
        return value

    @model_validator(mode="after")
    def _policies_are_named_and_valid(self) -> Config:
        known = self.policies.keys()
        used = [("shadow.policies", name) for name in self.shadow.policies]
        for i, route in enumerate(self.routes):
            used += [(f"routes.{i}.policy", route.policy)] if route.policy else []
            used += [(f"routes.{i}.shadow", name) for name in route.shadow or ()]
        problems = [f"{where}: {unknown_name(n, known)}" for where, n in used if n not in known]
        problems += [
            f"policies.{name}: used by no route and no shadow (name it in `routes[].policy`, "
            "`routes[].shadow` or `shadow.policies`, or remove it)"
            for name in known
            if name not in {n for _, n in used}
        ]
        if problems:
            raise ValueError("; ".join(problems))
        for name in known:
            try:
                self.effective(name)
            except ValidationError as exc:
                raise ValueError(_format_errors(exc, f"policies.{name}")) from None
        return self

    def effective(self, name: str | None) -> Config:
        """The config a route scrubs under: the base, with policy `name` merged over it (None:
        the base alone). Its `digest()` is the hash the route's output carries; without
        policies it is the file's."""
        data = self.model_dump(mode="json", exclude_unset=True)  # validated again as written
        data.pop("policies", None)
        data.pop("shadow", None)  # `privacy_metrics` and `kanon` stay: they shape what goes out
        for route in data.get("routes", ()):
            route.pop("policy", None)
            route.pop("shadow", None)
        if name is not None:
            data = with_policy(data, self.policies[name])
        return Config.model_validate(data)

    def route_policies(self) -> dict[str, str | None]:
        """Each route's policy name (None: the base)."""
        return {route.name: route.policy for route in self.routes}

    def shadow_policies(self, route: RouteConfig) -> tuple[str, ...]:
        return self.shadow.policies if route.shadow is None else route.shadow

    @field_validator("recognizers_from", mode="before")
    @classmethod
    def _read_presidio_files(cls, value: Any, info: ValidationInfo) -> Any:
        return imported(value, (info.context or {}).get("base_dir"))

    @model_validator(mode="after")
    def _recognizers_can_report(self) -> Config:
        detection = self.detection
        if problems := recognizer_problems(
            self.declared_recognizers(),
            detection.score_threshold,
            detection.entities,
            detection.skip_entities,
        ):
            raise ValueError("; ".join(problems))
        return self

    def declared_recognizers(self) -> list[tuple[str, RecognizerConfig]]:
        """(where it was declared, entry) for `recognizers:` and every `recognizers_from` file."""
        found = [("recognizers", entry) for entry in self.recognizers]
        found += [(f.file, entry) for f in self.recognizers_from for entry in f.recognizers]
        return found

    def custom_recognizers(self) -> tuple[CustomRecognizer, ...]:
        """The declared recognizers, compiled (the engine calls this once)."""
        return tuple(r for where, e in self.declared_recognizers() for r in e.build(where))

    def python_recognizers(self) -> list[RecognizerConfig]:
        """The `python:` plug-in entries (their classes are built by the engine)."""
        return [entry for entry in self.recognizers if entry.python is not None]

    def declared_entity_types(self) -> frozenset[str]:
        return frozenset(entry.entity_type for _, entry in self.declared_recognizers())

    def recognizer_notes(self) -> list[str]:
        """What `recognizers_from` files hold that is honoured differently or ignored."""
        return [note for f in self.recognizers_from for note in f.notes]

    @model_validator(mode="after")
    def _keyed_operators_name_known_keys(self) -> Config:
        for where, op in self.operators_with_paths():
            if isinstance(op, KEYED_OPERATORS) and op.key not in self.keys:
                raise ValueError(
                    f"{where} uses key {op.key!r}, which is not defined under `keys` "
                    f"(add `keys: {{{op.key}: {{env: SCRUBBER_{op.key.upper()}_KEY}}}}`)"
                )
        return self

    @model_validator(mode="after")
    def _entity_types_can_apply(self) -> Config:
        problems = [
            f"{where}: {_refusal(name, allowed)}"
            for where, names, allowed in self.entity_type_names()
            for name in names
            if name not in allowed
        ]
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def entity_type_names(self) -> list[tuple[str, Collection[str], frozenset[str]]]:
        """Each place that names entity types, the names, and the types that can apply there.

        Detection and policy take what detection reports (DATE_TIME only when timestamps are
        redacted); the vault and its roles take every type a token can carry (FIELD too).
        """
        detection = self.detection
        declared = self.declared_entity_types()
        found = detected_entity_types() | declared
        every = entity_types() | declared
        if detection.redact_timestamps or TIMESTAMP_ENTITY_TYPE in detection.ner.entities:
            found |= {TIMESTAMP_ENTITY_TYPE}
        places: list[tuple[str, Collection[str], frozenset[str]]] = [
            ("detection.entities", detection.entities, found),
            ("detection.skip_entities", detection.skip_entities, found),
            ("policy.entities", self.policy.entities.keys(), found),
            ("gateway.block", self.gateway.block, found),
        ]
        if self.vault is not None:
            places += [
                ("vault.random_tokens", self.vault.random_tokens, every),
                ("vault.ttl", [name for name in self.vault.ttl if name != "*"], every),
            ]
        places += [
            (f"access.roles.{name}.reveal", [t for t in role.reveal if t != "*"], every)
            for name, role in self.access.roles.items()
        ]
        return places

    def operators_with_paths(self) -> list[tuple[str, Operator]]:
        found: list[tuple[str, Operator]] = [("policy.default", self.policy.default)]
        found += [(f"policy.entities.{k}", v) for k, v in self.policy.entities.items()]
        found += [(f"policy.fields.{k}", v) for k, v in self.policy.fields.items()]
        return found

    def digest(self) -> str:
        """A short stable hash of the effective config: ties output to a config version.

        Settings added after the hash was first published enter it only when they differ from
        their default, so an upgrade alone never changes the hash of an unchanged config file.
        """
        dumped = self.model_dump(mode="json")
        for path, default in _later_defaults().items():
            _drop_if_default(dumped, path, default)
        canonical = json.dumps(dumped, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    @model_validator(mode="after")
    def _vault_operators_have_a_vault(self) -> Config:
        for where, op in self.operators_with_paths():
            if isinstance(op, VaultOp) and self.vault is None:
                raise ValueError(
                    f"{where} uses the vault operator, but there is no `vault:` section (add "
                    "`vault: {encryption_keys: {1: {env: SCRUBBER_VAULT_KEY_V1}}, active_key: 1, "
                    "audit: {key: {env: SCRUBBER_AUDIT_KEY}}}`)"
                )
        return self

    @model_validator(mode="after")
    def _shared_conversations_have_a_vault(self) -> Config:
        if self.gateway.conversation_store == "vault" and self.vault is None:
            raise ValueError(
                "gateway.conversation_store: vault keeps conversation books in the `vault:` "
                "section's store, sealed with its keys, but there is no `vault:` section (add one "
                "with `store: postgres` for replicas; see docs/gateway.md)"
            )
        return self

    @model_validator(mode="after")
    def _presidio_routes_have_a_caller(self) -> Config:
        presidio = self.api.presidio
        keys = self.access.api_keys.values()
        if presidio.enabled and presidio.require_scrub_role and not any(
            self.access.roles[k.role].scrub for k in keys if k.role in self.access.roles
        ):
            raise ValueError(
                "api.presidio: no API key has a role with `scrub: true`, so every Presidio route "
                "would answer 401; add one (access.roles, access.api_keys) or set "
                "api.presidio.require_scrub_role: false"
            )
        return self


def _refusal(name: str, allowed: frozenset[str]) -> str:
    if name == FIELD_ENTITY_TYPE:
        return (
            "'FIELD' never applies here: it is the type of values replaced by a field rule, "
            "which take that rule's operator (see `policy.fields`)"
        )
    if name == TIMESTAMP_ENTITY_TYPE:
        return "'DATE_TIME' is found only with `detection.redact_timestamps: true`"
    return f"unknown entity type '{name}'{did_you_mean(name, allowed)}"


def _later_defaults() -> dict[tuple[str, ...], Any]:
    """Key paths added after the config hash was first published (see `Config.digest`), with
    their defaults; `*` stands for every key of a mapping (every role)."""
    return {
        ("api",): ApiConfig().model_dump(mode="json"),
        ("gateway",): GatewayConfig().model_dump(mode="json"),
        ("vault", "audit"): AuditConfig().model_dump(mode="json"),
        ("vault", "random_tokens"): [],
        ("access", "roles", "*", "scrub"): False,
        ("access", "roles", "*", "scopes"): ["api"],
        ("detection", "structured_text"): True,
        ("detection", "propagate"): True,
        ("recognizers",): [],
        ("recognizers_from",): [],
        ("policies",): {},
        ("shadow",): ShadowConfig().model_dump(mode="json"),
        ("routes", "*", "policy"): None,
        ("routes", "*", "shadow"): None,
        ("routes", "*", "kanon"): None,
        ("privacy_metrics",): PrivateMetricsConfig().model_dump(mode="json"),
        ("pipeline", "batch_linger_ms"): 0,
        ("pipeline", "scrub_budget_ms"): 50,
    }


def _drop_if_default(node: Any, path: tuple[str, ...], default: Any) -> None:
    first, *rest = path
    if isinstance(node, list) and first == "*":  # every element of a list (every route)
        for item in node:
            _drop_if_default(item, tuple(rest), default)
        return
    if not isinstance(node, dict):
        return
    if not rest:
        if first in node and node[first] == default:
            del node[first]
        return
    for key in node if first == "*" else [first]:
        _drop_if_default(node.get(key), tuple(rest), default)


def _format_errors(error: ValidationError, prefix: str = "") -> str:
    """`key.path: message` per error; a check of the whole config names its own key paths.
    `prefix`: where the validated data sits (`policies.strict`)."""
    lines = []
    for item in error.errors():
        message = item["msg"].removeprefix("Value error, ")
        path = ".".join(str(p) for p in (prefix, *item["loc"]) if p != "")
        lines.append(f"{path}: {message}" if path else message)
    return "; ".join(lines)


def _yaml_problem(path: Path, exc: yaml.YAMLError) -> str:
    """`my.yaml:7:3: not valid YAML: ...`, on one line (PyYAML counts lines and columns from 0)."""
    mark = getattr(exc, "problem_mark", None)
    if not isinstance(exc, yaml.MarkedYAMLError) or mark is None:
        return f"{path}: not valid YAML ({' '.join(str(exc).split())})"
    where = ""
    if exc.context and exc.context_mark is not None and exc.context_mark.line != mark.line:
        where = f" ({exc.context} at line {exc.context_mark.line + 1})"
    problem = exc.problem or exc.context or "syntax error"
    return f"{path}:{mark.line + 1}:{mark.column + 1}: not valid YAML: {problem}{where}"


def parse_config(data: Any, source: str = "<config>", base_dir: Path | None = None) -> Config:
    """`base_dir`: where relative `recognizers_from` paths start (the config file's folder)."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the top level must be a mapping, got {type(data).__name__}")
    try:
        return Config.model_validate(data, context={"base_dir": base_dir})
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
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(_yaml_problem(path, exc)) from None
    return parse_config(data, str(path), path.parent)
