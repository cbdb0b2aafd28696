"""NER over a batch: a window that recurs is read once, and gets what it would get alone."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from recognizers.base import Finding
from scrubber.config import NerConfig
from scrubber.engine.ner import NerDetector


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
