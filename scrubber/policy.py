"""The decide step: which operator a finding or a field gets.

Field-path rules are decided before any detection runs: a field with a rule is transformed whole
(or kept) without being scanned. Otherwise each finding's entity type picks its operator, falling
back to the policy default.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

from scrubber.config import KeepOp, Operator, PolicyConfig
from scrubber.operators import Transform, build_transform

if TYPE_CHECKING:
    from scrubber.vault import TokenRecorder


def _path_regex(rule: str) -> re.Pattern[str]:
    """`*` spans any characters (dots included); a leading `*.` also matches at the top level."""
    body = rule.lower()
    prefix = ""
    if body.startswith("*."):
        prefix, body = r"(?:.*\.)?", body[2:]
    pattern = ".*".join(re.escape(part) for part in body.split("*"))
    return re.compile(prefix + pattern)


class FieldRule:
    def __init__(self, rule: str, operator: Operator, transform: Transform) -> None:
        self.rule = rule
        self.regex = _path_regex(rule)
        self.keep = isinstance(operator, KeepOp)
        self.transform = transform

    def matches(self, path: str) -> bool:
        """The rule names this path or one of its ancestors (so a rule on an object covers it)."""
        lowered = path.lower()
        if self.regex.fullmatch(lowered):
            return True
        parts = lowered.split(".")
        return any(self.regex.fullmatch(".".join(parts[:n])) for n in range(1, len(parts)))


class Policy:
    """Built once from config and keys; answers per entity type and per field path."""

    def __init__(
        self, config: PolicyConfig, keys: dict[str, bytes], vault: TokenRecorder | None = None
    ) -> None:
        self._default = build_transform(config.default, keys, vault)
        self._by_entity = {
            name: build_transform(op, keys, vault) for name, op in config.entities.items()
        }
        self._rules = tuple(
            FieldRule(rule, op, build_transform(op, keys, vault))
            for rule, op in config.fields.items()
        )
        self.rule_for_path = lru_cache(maxsize=4096)(self._rule_for_path)

    def transform_for(self, entity_type: str) -> Transform:
        return self._by_entity.get(entity_type, self._default)

    def _rule_for_path(self, path: str) -> FieldRule | None:
        """The first configured rule matching this field path, in config order."""
        for rule in self._rules:
            if rule.matches(path):
                return rule
        return None
