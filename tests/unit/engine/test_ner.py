"""NER over a batch: a window that recurs is read once, and gets what it would get alone."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
import spacy
from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import SpacyRecognizer
from threadpoolctl import threadpool_info

from recognizers.base import Finding
from scrubber.config import NerConfig
from scrubber.engine.ner import (
    NerDetector,
    _EntitiesOnly,
    _OpenBlasOps,
    frequent_words,
    shared_model,
)


def test_repeated_texts_get_the_findings_they_get_alone() -> None:
    detector = NerDetector(NerConfig())
    texts = ["ticket from Noah Schmidt in Chicago", "no names here", "ticket from Noah Schmidt in Chicago",
             "Maria Garcia flew to Lisbon"]  # fmt: skip
    alone = [detector.detect_batch([text])[0] for text in texts]
    batched = detector.detect_batch(texts)
    assert batched == alone
    assert batched[0] and batched[0] is not batched[2]  # copies: a caller may extend one


def test_a_text_read_recently_is_not_read_again_by_any_detector_of_the_same_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A shadow policy's engine reads the windows the live engine just read: from memory."""
    live, shadow = NerDetector(NerConfig()), NerDetector(NerConfig())
    other = NerDetector(NerConfig(min_score=0.99))  # other settings: its own results
    texts = ["call Ingrid Vasquez-Okonkwo tomorrow", "Zanele Mbeki wrote from Durban"]
    first = live.detect_batch(texts)
    read: list[str] = []
    original = NerDetector._detect_distinct

    def counting(self: NerDetector, batch: Sequence[str]) -> list[list[Finding]]:
        read.extend(batch)
        return original(self, batch)

    monkeypatch.setattr(NerDetector, "_detect_distinct", counting)
    assert shadow.detect_batch(texts) == first
    assert read == []
    other.detect_batch(texts)
    assert read == texts


def test_frequent_words_keep_their_lexemes_and_the_memory_zone_still_forgets_the_rest() -> None:
    """Lexemes kept at load outlive every memory zone; a word off the list does not."""
    detector = NerDetector(NerConfig())
    nlp, _ = shared_model(NerConfig().model)
    kept = ["from", "From", ",", "Maria", "ticket"]
    assert all(word in frequent_words() for word in kept)
    detector.detect_batch(["ticket from Maria Zorbulaxian, in Qwixtonburgh"])
    assert all(word in nlp.vocab for word in kept)
    assert "Zorbulaxian" not in nlp.vocab
    assert "Qwixtonburgh" not in nlp.vocab


TEXTS = [
    "ticket from Noah Schmidt in Chicago, reply to ops",
    "Maria Garcia flew to Lisbon on Monday with Dr. Akira Tanaka.",
    "customer Liam Petrova wrote from Boston. The Germans and the French agreed.",
    "nothing to see here",
]


def _entities(engine: SpacyNlpEngine, texts: list[str]) -> list[list[tuple[str, int, int, float]]]:
    entities = ["PERSON", "LOCATION", "NRP"]
    recognizer = SpacyRecognizer(supported_entities=entities)
    nlp = engine.nlp["en"]  # type: ignore[index]
    found = []
    with nlp.memory_zone():
        for output in engine.process_batch(texts, "en", batch_size=8):
            text, artifacts = output[0], output[1]
            results = recognizer.analyze(text, entities, artifacts)
            found.append([(r.entity_type, r.start, r.end, r.score) for r in results])
    return found


def test_entities_only_artifacts_read_as_presidio_full_artifacts() -> None:
    """Only entities and scores go into the artifacts: what SpacyRecognizer reads is the same."""
    nlp, _ = shared_model(NerConfig().model)
    config = NerModelConfiguration(labels_to_ignore=["ORG", "CARDINAL"])
    full = SpacyNlpEngine(ner_model_configuration=config)
    trimmed = _EntitiesOnly(ner_model_configuration=config)
    full.nlp = trimmed.nlp = {"en": nlp}  # type: ignore[assignment]
    expected = _entities(full, TEXTS)
    assert any(expected)
    assert _entities(trimmed, TEXTS) == expected


def test_the_shared_model_multiplies_with_openblas_on_one_blas_thread() -> None:
    """blis' reference kernels made NER 3x slower than OpenBLAS; a second BLAS thread only
    spins. (The cold model of the next test, on thinc's default blis ops, finds the same.)"""
    nlp, _ = shared_model(NerConfig().model)
    nodes = list(nlp.get_pipe("ner").model.walk())
    assert nodes and all(isinstance(node.ops, _OpenBlasOps) for node in nodes)
    blas = [pool for pool in threadpool_info() if pool["user_api"] == "blas"]
    assert blas and all(pool["num_threads"] == 1 for pool in blas)


def test_spacy_is_a_release_whose_parser_does_not_take_the_gil_per_state() -> None:
    """3.8.8 and later wheels acquire the GIL in every parser state access (NER 2-2.7x
    slower for the same entities, docs/performance.md): a bump must be measured first."""
    major, minor, patch = (int(part) for part in spacy.__version__.split(".")[:3])
    assert (major, minor) == (3, 8) and 2 <= patch < 8


def test_a_model_without_kept_lexemes_finds_the_same_entities() -> None:
    """Also a model on thinc's default operations (blis) beside the shared one (OpenBLAS)."""
    cold = spacy.load(NerConfig().model, exclude=["tok2vec", "tagger", "parser", "attribute_ruler",
                                                  "lemmatizer", "senter"])  # fmt: skip
    warm, _ = shared_model(NerConfig().model)
    assert "Maria" not in cold.vocab and "Maria" in warm.vocab
    assert not isinstance(cold.get_pipe("ner").model.ops, _OpenBlasOps)
    engines = []
    for nlp in (cold, warm):
        engine = SpacyNlpEngine()
        engine.nlp = {"en": nlp}  # type: ignore[assignment]
        engines.append(engine)
    assert _entities(engines[0], TEXTS) == _entities(engines[1], TEXTS)
