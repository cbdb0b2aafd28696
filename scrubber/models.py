"""Plain value types shared by the core: findings and per-record results."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class Finding:
    """A detected entity: [start, end) in code points of the string it was found in."""

    start: int
    end: int
    entity_type: str
    score: float
    recognizer: str


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
    """Where a value was replaced: field path ("" for text), [start, end) in the input string."""

    path: str
    start: int
    end: int
    entity_type: str


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
