"""NER over a batch: a window that recurs is read once, and gets what it would get alone."""

from __future__ import annotations

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
