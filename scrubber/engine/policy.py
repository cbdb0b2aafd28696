"""The decide step: which operator a finding or a field gets.

Field-path rules are decided before any detection runs: a field with a rule is transformed whole
(or kept) without being scanned. Otherwise each finding's entity type picks its operator, falling
back to the policy default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from scrubber.config import PolicyConfig
from scrubber.operators import (
    DEFAULT_SCOPE,
    KeepOp,
    Operator,
    TokenSink,
    Transform,
    build_transform,
)


@dataclass(frozen=True, slots=True)
class Action:
    """An operator bound to its params and key: its config name travels with every replacement."""

    operator: str
    transform: Transform

    @classmethod
    def build(
        cls, op: Operator, keys: dict[str, bytes], sink: TokenSink | None, scope: str
    ) -> Action:
        return cls(op.type, build_transform(op, keys, sink, scope))


def _path_regex(rule: str) -> re.Pattern[str]:
    """`*` spans any characters (dots included); a leading `*.` also matches at the top level."""
    body = rule.lower()
    prefix = ""
    if body.startswith("*."):
        prefix, body = r"(?:.*\.)?", body[2:]
    pattern = ".*".join(re.escape(part) for part in body.split("*"))
    return re.compile(prefix + pattern)


class FieldRule:
    def __init__(self, rule: str, operator: Operator, action: Action) -> None:
        self.rule = rule
        self.regex = _path_regex(rule)
        self.keep = isinstance(operator, KeepOp)
        self.action = action

    def matches(self, path: str) -> bool:
        """The rule names this path or one of its ancestors (so a rule on an object covers it)."""
        lowered = path.lower()
        if self.regex.fullmatch(lowered):
            return True
        parts = lowered.split(".")
        return any(self.regex.fullmatch(".".join(parts[:n])) for n in range(1, len(parts)))


class Policy:
    """Built once from config and keys; answers per entity type and per field path.

    Keyed operators derive their key per scope (see `operators.derive_key`): `scoped(scope)`
    binds the operators of one scope, built on first use and kept.
    """

    def __init__(
        self, config: PolicyConfig, keys: dict[str, bytes], sink: TokenSink | None = None
    ) -> None:
        self._config = config
        self._keys = keys
        self._sink = sink
        self._scopes: dict[str, ScopedPolicy] = {}
        self.scoped(DEFAULT_SCOPE)  # a bad operator fails at start, not on the first record

    def scoped(self, scope: str) -> ScopedPolicy:
        found = self._scopes.get(scope)
        if found is None:
            found = self._scopes[scope] = ScopedPolicy(self._config, self._keys, self._sink, scope)
        return found

    def rule_for_path(self, path: str) -> FieldRule | None:
        return self.scoped(DEFAULT_SCOPE).rule_for_path(path)


class ScopedPolicy:
    """The policy's operators bound for one scope."""

    def __init__(
        self, config: PolicyConfig, keys: dict[str, bytes], sink: TokenSink | None, scope: str
    ) -> None:
        self._default = Action.build(config.default, keys, sink, scope)
        self._by_entity = {
            name: Action.build(op, keys, sink, scope) for name, op in config.entities.items()
        }
        self._rules = tuple(
            FieldRule(rule, op, Action.build(op, keys, sink, scope))
            for rule, op in config.fields.items()
        )
        self.rule_for_path = lru_cache(maxsize=4096)(self._rule_for_path)

    def action_for(self, entity_type: str) -> Action:
        return self._by_entity.get(entity_type, self._default)

    def _rule_for_path(self, path: str) -> FieldRule | None:
        """The first configured rule matching this field path, in config order."""
        for rule in self._rules:
            if rule.matches(path):
                return rule
        return None
