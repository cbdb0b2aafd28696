"""Every entity type the engine can report is documented for policy writers, and the one list of
them (recognizers/entity_types.py, which config validation uses) is what the engine reports."""

from __future__ import annotations

import re
from pathlib import Path

from recognizers import default_recognizers
from recognizers.entity_types import (
    NER_ENTITY_TYPES,
    PATTERN_ENTITY_TYPES,
    PROPER_NOUN_ENTITY_TYPES,
    TIMESTAMP_ENTITY_TYPE,
    entity_types,
)
from recognizers.fields import FIELD_HINTS

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "configuration.md"


def _section(title: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end]


def test_the_configuration_guide_lists_exactly_the_known_entity_types() -> None:
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", _section("Entity types")))
    assert sorted(entity_types() - documented) == []
    assert sorted(documented - entity_types()) == []


def test_the_known_pattern_types_are_what_the_recognizers_and_key_hints_report() -> None:
    reported = {r.entity_type for r in default_recognizers()} | {h.entity_type for h in FIELD_HINTS}
    assert sorted(reported ^ set(PATTERN_ENTITY_TYPES)) == []
    assert len(PATTERN_ENTITY_TYPES) == len(set(PATTERN_ENTITY_TYPES))


def test_the_proper_noun_pass_reports_only_its_declared_types() -> None:
    source = (ROOT / "recognizers" / "proper_nouns.py").read_text(encoding="utf-8")
    assert set(re.findall(r'"([A-Z][A-Z_]{2,})"', source)) == set(PROPER_NOUN_ENTITY_TYPES)


def test_ner_reports_the_declared_types() -> None:
    """spaCy's labels, through Presidio's mapping, less the labels the engine ignores."""
    import spacy
    from presidio_analyzer.nlp_engine import NerModelConfiguration

    from scrubber.config import NerConfig
    from scrubber.engine.ner import _IGNORED_LABELS

    labels = spacy.load(NerConfig().model).get_pipe("ner").labels
    mapping = NerModelConfiguration().model_to_presidio_entity_mapping
    kept = {mapping[label] for label in labels if label in mapping} - {
        mapping.get(label, label) for label in _IGNORED_LABELS
    }
    assert kept == {*NER_ENTITY_TYPES, TIMESTAMP_ENTITY_TYPE}
    assert NerConfig().entities == NER_ENTITY_TYPES
