"""Presidio `EntityRecognizer` subclasses for the plug-in tests (named by config as
`tests.unit.engine.plugin_recognizers:Class`)."""

from __future__ import annotations

import time
from typing import Any

from presidio_analyzer import EntityRecognizer, RecognizerResult


class CodenameRecognizer(EntityRecognizer):
    """Project code names from a word list, as a team's own Presidio recognizer would."""

    def __init__(self, words: tuple[str, ...] = ("nightjar", "osprey"), score: float = 0.8) -> None:
        self.words = tuple(w.lower() for w in words)
        self.score = score
        super().__init__(supported_entities=["CODENAME"], name="codename")

    def load(self) -> None:
        return None

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[Any]:
        lowered = text.lower()
        found = []
        for word in self.words:
            at = lowered.find(word)
            while at >= 0:
                found.append(RecognizerResult("CODENAME", at, at + len(word), self.score))
                at = lowered.find(word, at + 1)
        return found


class BrokenRecognizer(CodenameRecognizer):
    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[Any]:
        raise RuntimeError("plug-in bug")


class SlowRecognizer(CodenameRecognizer):
    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[Any]:
        time.sleep(0.05)
        return super().analyze(text, entities, nlp_artifacts)


class NotARecognizer:
    pass
