"""Plain value types shared by the core: findings and per-record results."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict

Format = Literal["auto", "text", "json"]


class Strict(BaseModel):
    """The base of every config model: unknown keys are errors (a typo must not be ignored),
    and a validated config is frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Outcome(StrEnum):
    OK = "ok"
    QUARANTINED = "quarantined"


class Reason(StrEnum):
    """Why a record failed closed. Small fixed set: these are metric label values."""

    INVALID_UTF8 = "invalid_utf8"
    MALFORMED_JSON = "malformed_json"
    TOO_LARGE = "too_large"
    TOO_DEEP = "too_deep"
    DETECTION_ERROR = "detection_error"
    DEADLINE_EXCEEDED = "deadline_exceeded"
    # The token vault could not store a value this record's tokens stand for.
    VAULT_UNAVAILABLE = "vault_unavailable"


@dataclass(frozen=True, slots=True)
class Replacement:
    """Where a value was replaced: field path ("" for text), [start, end) in the input string,
    and the operator that replaced it (as named in the config), so nobody re-derives it."""

    path: str
    start: int
    end: int
    entity_type: str
    operator: str


@dataclass(slots=True)
class RecordResult:
    """What the engine made of one input record.

    `output` is always safe to emit: the scrubbed record, or a placeholder that carries only the
    reason code. `entity_counts` counts findings by type; it never holds a value.
    """

    output: str
    outcome: Outcome
    reason: Reason | None = None
    entity_counts: dict[str, int] = field(default_factory=dict)
    replacements: list[Replacement] = field(default_factory=list)
