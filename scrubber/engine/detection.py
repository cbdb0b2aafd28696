"""Detection over a batch of strings: one pattern pass on every string, NER on free text only.

Pure: strings in, findings out. Failures are values (a `Reason` for the string), so one poisoned
record fails closed without stopping the batch.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

import re2

from recognizers.base import Finding, PatternRecognizer
from recognizers.proper_nouns import ProperNounRecognizer
from recognizers.words import may_hold_names
from scrubber.config import DetectionConfig, LimitsConfig
from scrubber.engine.cache import BoundedCache
from scrubber.engine.ner import NerDetector
from scrubber.engine.normalize import Normalized, normalize
from scrubber.errors import DetectionFailed
from scrubber.models import Reason
from scrubber.operators import PLACEHOLDER_PATTERN

# What an NER entity may not contain if it is to be a name or a place.
_NOT_A_NAME = re.compile(r"[0-9_=/\\@#$%^*{}\[\]<>|~]|::|\.\w|[a-z][A-Z]")
_LOG_WORDS = frozenset(
    """
    error warn warning info debug trace fatal critical exception failed failure success
    request response server client connection session thread process service daemon kernel
    true false null none ok null localhost
    string integer boolean object void char byte bytes dict array enum struct interface
    static final public private protected const
    """.split()  # the last two lines: code that spaCy's small model reads as people
)


@dataclass(frozen=True, slots=True)
class TextItem:
    """One string to scan. `free_text` asks for NER as well as patterns."""

    text: str
    free_text: bool


def looks_like_free_text(text: str) -> bool:
    """Worth the free-text passes (proper nouns, NER): `recognizers.words.may_hold_names`."""
    return may_hold_names(text)


def plausible_ner_value(value: str) -> bool:
    """spaCy's small model tags log identifiers as people; keep only what reads like a name."""
    stripped = value.strip()
    if len(stripped) < 2 or not any(c.isupper() for c in stripped):
        return False
    if _NOT_A_NAME.search(stripped):
        return False
    return stripped.lower() not in _LOG_WORDS


@dataclass(frozen=True, slots=True)
class Filters:
    """What an engine drops from its detector's findings, just before they are merged: a score
    below the threshold, a type it skips. Engines whose detection differs only here share one
    detector and its cache (`detection_parts.detection_key`), each filtering its own way, which
    is exact: nothing before the merge depends on these settings."""

    score_threshold: float
    skipped: frozenset[str]

    @staticmethod
    def of(config: DetectionConfig) -> Filters:
        return Filters(config.score_threshold, frozenset(config.skip_entities))

    def keeps(self, finding: Finding) -> bool:
        return finding.score >= self.score_threshold and finding.entity_type not in self.skipped

    def apply(self, found: list[Finding]) -> list[Finding]:
        """The findings kept, merged (`found` itself when that changes nothing)."""
        kept = [f for f in found if self.keeps(f)]
        return found if len(kept) == len(found) <= 1 else merge(kept)


@dataclass(frozen=True, slots=True)
class _Scanned:
    """A string's findings as the cache holds them: every one (`raw`, before the filters) and
    the detector's own engine's (`own`), so that engine pays nothing again on a repeat."""

    raw: list[Finding]
    own: list[Finding]


def merge(findings: list[Finding]) -> list[Finding]:
    """Overlapping findings become one span (their union), typed by the strongest finding.

    Union rather than pick-one: a span that two recognizers disagree about is replaced whole, so
    no fragment of either value survives.
    """
    if len(findings) <= 1:
        return findings
    ordered = sorted(findings, key=lambda f: (f.start, -f.end))
    merged = [ordered[0]]
    for current in ordered[1:]:
        last = merged[-1]
        if current.start < last.end:
            strongest = max((last, current), key=lambda f: (f.score, f.end - f.start))
            merged[-1] = Finding(
                last.start,
                max(last.end, current.end),
                strongest.entity_type,
                strongest.score,
                strongest.recognizer,
            )
        else:
            merged.append(current)
    return merged


class Prefilter:
    """Which recognizers can match a text, from two RE2 passes over it.

    Each recognizer's `triggers` are substrings, at least one of which must occur in the
    lower-cased text; one RE2 set finds every trigger present (overlapping ones too) in one
    linear scan. Recognizers without triggers (bare shapes: eight digits and a letter, an IPv4) put
    their whole pattern in a second set, which says which of them match anywhere, so a line pays
    one pass for all of them instead of one search each.

    Both sets also hold an empty pattern, which matches every text: RE2 answers "no match" when
    it runs out of memory, and without that sentinel the answer would look like "nothing can
    match". A set that gives no answer at all sends every recognizer it guards to run.
    """

    _SENTINEL = 0

    def __init__(self, recognizers: Sequence[PatternRecognizer]) -> None:
        self._recognizers = tuple(recognizers)
        triggers = sorted({t for r in recognizers for t in r.triggers})
        self._triggered = tuple(i for i, r in enumerate(recognizers) if r.triggers)
        self._untriggered = tuple(i for i, r in enumerate(recognizers) if not r.triggers)
        index = {t: n for n, t in enumerate(triggers, start=1)}
        self._by_trigger: list[list[int]] = [[] for _ in range(len(triggers) + 1)]
        for i, recognizer in enumerate(recognizers):
            for trigger in recognizer.triggers:
                self._by_trigger[index[trigger]].append(i)
        self._triggers = _compiled_set([re.escape(t) for t in triggers])
        self._shapes = _compiled_set([_case_aware(recognizers[i]) for i in self._untriggered])

    def candidates(self, text: str, lowered: str, has_digit: bool) -> list[PatternRecognizer]:
        chosen: set[int] = set()
        hits = self._triggers.Match(lowered)
        if hits is None:  # the set could not answer
            chosen.update(self._triggered)
        else:
            for hit in hits:
                chosen.update(self._by_trigger[hit])
        shapes = self._shapes.Match(text)
        if shapes is None:
            chosen.update(self._untriggered)
        else:
            chosen.update(self._untriggered[hit - 1] for hit in shapes if hit != self._SENTINEL)
        return [
            self._recognizers[i]
            for i in sorted(chosen)
            if has_digit or not self._recognizers[i].needs_digit
        ]


def _case_aware(recognizer: PatternRecognizer) -> str:
    pattern = recognizer.scan_pattern
    return f"(?i:{pattern})" if recognizer.ignore_case else pattern


def _compiled_set(patterns: list[str]) -> re2.Set:
    """An RE2 search set: the empty sentinel at index 0, then `patterns` from index 1."""
    options = re2.Options()
    options.max_mem = 64 << 20
    regex_set = re2.Set.SearchSet(options)
    regex_set.Add("")
    for pattern in patterns:
        regex_set.Add(pattern)
    regex_set.Compile()
    return regex_set


class Detector:
    """Built once: recognizers compiled, NER loaded. Then `detect_batch` per batch."""

    def __init__(
        self,
        recognizers: Sequence[PatternRecognizer],
        config: DetectionConfig,
        limits: LimitsConfig,
        ner: NerDetector | None,
        proper_nouns: ProperNounRecognizer | None = None,
        *,
        finds_skipped: bool = False,
    ) -> None:
        """`finds_skipped`: run the recognizers of skipped types too (their findings are dropped
        by the filters), so that an engine skipping fewer can borrow this detector. That costs
        the pattern pass ~1.5 % (the host-name recognizers, skipped by default): only a shadow
        policy's detector, built to be lent, pays it."""
        wanted = set(config.entities)
        self.unscanned = frozenset(() if finds_skipped else config.skip_entities)
        self._recognizers = tuple(
            r
            for r in recognizers
            if (not wanted or r.entity_type in wanted) and r.entity_type not in self.unscanned
        )
        self._prefilter = Prefilter(self._recognizers)
        self._cache: BoundedCache[_Scanned] = BoundedCache(config.cache_entries, config.cache_chars)
        self._config = config
        self._filters = Filters.of(config)
        self._limits = limits
        self._ner = ner
        self._proper_nouns = proper_nouns
        self._allow = frozenset(config.allow_list)

    def share_cache(self, ways: int) -> None:
        """In one of `ways` workers forked from this detector: scan into a cache of its own,
        with a `ways`-th of the configured bounds (the parent's copy would be written page by
        page, copy-on-write, and every worker would hold the full budget)."""
        self._cache = BoundedCache(
            self._config.cache_entries // ways, self._config.cache_chars // ways
        )

    @property
    def entity_types(self) -> frozenset[str]:
        return frozenset(r.entity_type for r in self._recognizers) - self._filters.skipped

    def _patterns(self, text: str) -> list[Finding]:
        """Every pattern finding in `text`, offsets in `text` (normalisation mapped back)."""
        deadline = time.monotonic() + self._limits.record_deadline_seconds
        norm = normalize(text) if self._config.normalize else Normalized(text, None, None)
        scanned = norm.text
        lowered = scanned.lower()
        has_digit = any(d in scanned for d in "0123456789")  # ten C scans beat a loop in Python
        scanned.encode()  # a lone surrogate (JSON's "\ud800") fails the record closed, as RE2 would
        found: list[Finding] = []
        mapped = norm.starts is not None
        for recognizer in self._prefilter.candidates(scanned, lowered, has_digit):
            if not mapped:
                found.extend(recognizer.find(scanned))
            else:
                for f in recognizer.find(scanned):
                    start, end = norm.original_span(f.start, f.end)
                    found.append(Finding(start, end, f.entity_type, f.score, f.recognizer))
            if time.monotonic() > deadline:
                raise DetectionFailed(Reason.DEADLINE_EXCEEDED)
        return found

    def _keep(self, text: str, finding: Finding, protected: list[tuple[int, int]]) -> bool:
        """Kept under this detector's own settings (filters included)."""
        return self._filters.keeps(finding) and self._acceptable(text, finding, protected)

    def _acceptable(self, text: str, finding: Finding, protected: list[tuple[int, int]]) -> bool:
        """What no engine keeps, whatever its filters: an allowed value, a name that reads as
        none, anything inside one of our placeholders."""
        value = text[finding.start : finding.end]
        if value in self._allow:
            return False
        # Nationalities and religions (NRP) are English words by nature: no name check for them.
        is_name_or_place = finding.entity_type != "NRP"
        if (
            finding.recognizer == "spacy_ner"
            and is_name_or_place
            and not self._plausible_entity(value)
        ):
            return False
        return not any(s <= finding.start and finding.end <= e for s, e in protected)

    def _plausible_entity(self, value: str) -> bool:
        if not plausible_ner_value(value):
            return False
        return self._proper_nouns is None or self._proper_nouns.confirms(value)

    def _finish(self, text: str, findings: list[Finding]) -> _Scanned:
        protected: list[tuple[int, int]] = []
        if "<" in text or "[" in text:
            protected = [m.span() for m in PLACEHOLDER_PATTERN.finditer(text)]
        raw = [f for f in findings if self._acceptable(text, f, protected)]
        return _Scanned(raw, self._filters.apply(raw))

    def detect_batch(
        self, items: Sequence[TextItem], filters: Filters | None = None
    ) -> list[list[Finding] | Reason]:
        """Findings (or a failure reason) per item, in order, kept by `filters` (by default
        this detector's own: another engine's when it borrows this detector).

        Each distinct string is scanned once per batch, and not at all if the cache knows it.
        """
        own = filters is None or filters == self._filters

        def kept(scanned: _Scanned | Reason) -> list[Finding] | Reason:
            if isinstance(scanned, Reason):
                return scanned
            return scanned.own if own or filters is None else filters.apply(scanned.raw)

        results: list[list[Finding] | Reason | None] = [None] * len(items)
        first_of: dict[tuple[str, bool], int] = {}
        fresh: list[TextItem] = []
        for i, item in enumerate(items):
            key = (item.text, item.free_text)
            cached = self._cache.get(key)
            if cached is not None:
                results[i] = kept(cached)
            elif key not in first_of:
                first_of[key] = len(fresh)
                fresh.append(item)
        computed = self._detect_fresh(fresh)
        for item, found in zip(fresh, computed, strict=True):
            if not isinstance(found, Reason):
                self._cache.put((item.text, item.free_text), found)
        for i, item in enumerate(items):
            if results[i] is None:
                results[i] = kept(computed[first_of[(item.text, item.free_text)]])
        return [r for r in results if r is not None]

    def _detect_fresh(self, items: Sequence[TextItem]) -> list[_Scanned | Reason]:
        results: list[list[Finding] | Reason] = []
        ner_inputs: list[list[tuple[str, int]]] = []
        for item in items:
            try:
                found = self._patterns(item.text)
                ner_inputs.append(self._free_text_pass(item, found))
                results.append(found)
            except DetectionFailed as failed:
                results.append(failed.reason)
                ner_inputs.append([])
            except Exception:  # a broken recognizer must fail the record closed, not the batch
                results.append(Reason.DETECTION_ERROR)
                ner_inputs.append([])
        if self._ner is not None:
            self._add_ner(ner_inputs, results)
        return [
            r if isinstance(r, Reason) else self._finish(item.text, r)
            for item, r in zip(items, results, strict=True)
        ]

    def _free_text_pass(self, item: TextItem, found: list[Finding]) -> list[tuple[str, int]]:
        """Add the proper-noun findings; return the (piece, offset) list NER should read.

        spaCy's cost grows with the tokens it reads, so it reads only the windows the lexical
        pass could not decide (all of the text when that pass is switched off).
        """
        if not item.free_text:
            return []
        if self._proper_nouns is None:
            return [(item.text, 0)]
        analysis = self._proper_nouns.analyse(item.text)
        found.extend(analysis.findings)
        return [(item.text[s:e], s) for s, e in analysis.ner_windows]

    def _add_ner(
        self, inputs: list[list[tuple[str, int]]], results: list[list[Finding] | Reason]
    ) -> None:
        assert self._ner is not None
        owners = [i for i, pieces in enumerate(inputs) for _ in pieces]
        pieces = [piece for item_pieces in inputs for piece in item_pieces]
        if not pieces:
            return
        texts = [text for text, _ in pieces]
        per_piece: Sequence[list[Finding] | Reason]
        try:
            per_piece = self._ner.detect_batch(texts)
        except Exception:
            per_piece = self._ner_one_by_one(texts)
        for i, (_, offset), found in zip(owners, pieces, per_piece, strict=True):
            current = results[i]
            if isinstance(found, Reason):
                results[i] = found
            elif isinstance(current, list):
                current.extend(
                    Finding(f.start + offset, f.end + offset, f.entity_type, f.score, f.recognizer)
                    for f in found
                )

    def _ner_one_by_one(self, texts: list[str]) -> list[list[Finding] | Reason]:
        """The batch failed: find which strings fail, so only their records are quarantined."""
        assert self._ner is not None
        out: list[list[Finding] | Reason] = []
        for text in texts:
            try:
                out.append(self._ner.detect_batch([text])[0])
            except Exception:
                out.append(Reason.DETECTION_ERROR)
        return out
