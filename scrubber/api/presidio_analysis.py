"""What POST /analyze answers for one text: the engine's findings in Presidio's terms, plus the
request's ad-hoc recognizers, then Presidio's steps in its order: context words raise ad-hoc
scores, `score_threshold`, its duplicate rule, the allow list, explanations kept or dropped.

Pure functions over strings and findings (no HTTP): scrubber/api/presidio.py calls them on the
engine's thread. Ad-hoc regexes run on RE2, so no request can make matching backtrack.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from recognizers.base import Finding, PatternRecognizer
from recognizers.custom import CustomRecognizer
from scrubber.api.presidio_models import (
    IGNORECASE,
    AdHocRecognizer,
    AnalysisExplanation,
    AnalyzeRequest,
    PresidioError,
    RecognizerResult,
    compile_re2,
    presidio_name,
)

# Presidio's LemmaContextAwareEnhancer defaults: a context word among the five keywords before
# a match (or in the request's `context`) adds 0.35, and such a match scores at least 0.4.
CONTEXT_BOOST = 0.35
CONTEXT_FLOOR = 0.4
CONTEXT_BEFORE = 5
_TOKENS = re.compile(r"\w+|[^\w\s]")
_BY_SOURCE = {
    "spacy_ner": "Identified as {} by spaCy's named entity recognition",
    "proper_nouns": "Identified as {} by the proper-noun pass (name and place word lists)",
}
_BY_ENGINE = (
    "Identified as {} by the engine: a key hint, a field rule or a mention of a found value"
)


@dataclass(slots=True)
class Candidate:
    """A result while the request's steps run on it."""

    entity_type: str
    start: int
    end: int
    score: float
    explanation: AnalysisExplanation
    context: tuple[str, ...] = field(default=())  # its recognizer's context words (ad hoc)

    def result(self, explain: bool) -> RecognizerResult:
        return RecognizerResult(
            entity_type=self.entity_type, start=self.start, end=self.end, score=self.score,
            analysis_explanation=self.explanation if explain else None,
        )  # fmt: skip


def engine_candidates(
    findings: Iterable[Finding], recognizers: Mapping[str, PatternRecognizer]
) -> list[Candidate]:
    """The engine's findings under Presidio's names. A span the engine decides without a score
    of its own (a key hint, a field rule: scores 0, 2 or 3 inside the engine) is certain: 1.0."""
    found = []
    for finding in findings:
        score = finding.score if 0 < finding.score <= 1 else 1.0
        entity = presidio_name(finding.entity_type)
        name = finding.recognizer
        recognizer = recognizers.get(name)
        if recognizer is not None:
            # A config's own recognizers can hold what it protects (a deny list of VIP names):
            # only the built-in patterns, which are public, are shown.
            shown = None if isinstance(recognizer, CustomRecognizer) else recognizer.pattern
            explanation = AnalysisExplanation(
                recognizer=name, pattern_name=name, pattern=shown,
                original_score=score, score=score,
                textual_explanation=f"Detected by `{name}` using pattern `{name}`",
                validation_result=True if recognizer.validator is not None else None,
                regex_flags=IGNORECASE if recognizer.ignore_case else 0,
            )  # fmt: skip
        else:
            text = _BY_SOURCE.get(name, _BY_ENGINE).format(entity)
            explanation = AnalysisExplanation(
                recognizer=name, original_score=score, score=score, textual_explanation=text
            )
        found.append(Candidate(entity, finding.start, finding.end, score, explanation))
    return found


def ad_hoc_candidates(text: str, recognizer: AdHocRecognizer) -> list[Candidate]:
    """Every match of one ad-hoc recognizer: its patterns, then its deny list (Presidio adds
    the deny list as one more pattern), de-duplicated as Presidio does per recognizer."""
    found = []

    def add(start: int, end: int, score: float, pattern_name: str, pattern: str) -> None:
        if start == end or score <= 0:
            return
        explanation = AnalysisExplanation(
            recognizer=recognizer.name, pattern_name=pattern_name, pattern=pattern,
            original_score=score, score=score, regex_flags=recognizer.flags,
            textual_explanation=f"Detected by `{recognizer.name}` using pattern `{pattern_name}`",
        )  # fmt: skip
        found.append(Candidate(recognizer.entity_type, start, end, score, explanation,
                               recognizer.context))  # fmt: skip

    for pattern in recognizer.patterns:
        for match in compile_re2(pattern.regex, recognizer.flags).finditer(text):
            add(match.start(), match.end(), pattern.score, pattern.name, pattern.regex)
    if recognizer.deny_list:
        shown = deny_list_regex(recognizer.deny_list)
        ignore_case = bool(recognizer.flags & IGNORECASE)
        for start, end in deny_list_spans(text, recognizer.deny_list, ignore_case):
            add(start, end, recognizer.deny_list_score, "deny_list", shown)
    return remove_duplicates(found)


def deny_list_regex(terms: Sequence[str]) -> str:
    """The regex Presidio shows for a deny list (shown only: RE2 has no look-around)."""
    return r"(?:^|(?<=\W))(" + "|".join(re.escape(t) for t in terms) + r")(?:(?=\W)|$)"


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


def _folded(text: str, ignore_case: bool) -> str:
    """`text` lower-cased character by character, keeping its length (offsets stay valid)."""
    if not ignore_case:
        return text
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def deny_list_spans(text: str, terms: Sequence[str], ignore_case: bool) -> list[tuple[int, int]]:
    """Where a term stands between non-word characters (or the text's ends), scanned left to
    right like one regex alternation: at each place the first listed term that fits wins, and
    the scan goes on after it."""
    hay = _folded(text, ignore_case)
    candidates: list[tuple[int, int, int]] = []
    for order, term in enumerate(terms):
        needle = _folded(term, ignore_case)
        if not needle:
            continue
        start = hay.find(needle)
        while start >= 0:
            end = start + len(needle)
            if (start == 0 or not _is_word(text[start - 1])) and (
                end == len(text) or not _is_word(text[end])
            ):
                candidates.append((start, order, end))
            start = hay.find(needle, start + 1)
    spans, position = [], 0
    for start, _, end in sorted(candidates):
        if start >= position:
            spans.append((start, end))
            position = end
    return spans


def _keywords(text: str) -> tuple[list[re.Match[str]], list[bool]]:
    """The text's tokens, and whether each is a keyword (not punctuation, not a stop word):
    Presidio reads spaCy's lemmas of the same; here the lower-cased words stand for them."""
    from spacy.lang.en.stop_words import STOP_WORDS

    tokens = list(_TOKENS.finditer(text))
    keyword = [_is_word(t.group()[0]) and t.group().lower() not in STOP_WORDS for t in tokens]
    return tokens, keyword


def _surrounding(tokens: list[re.Match[str]], keyword: list[bool], start: int) -> list[str]:
    """The keyword at the match and up to CONTEXT_BEFORE before it, lower-cased."""
    index = next((i for i, t in enumerate(tokens) if t.start() == start or start < t.end()), -1)
    if index < 0:
        return []
    words: list[str] = []
    for i in range(index, -1, -1):
        if keyword[i]:
            words.append(tokens[i].group().lower())
            if len(words) > CONTEXT_BEFORE:
                break
    ahead = next((i for i in range(index, len(tokens)) if keyword[i]), None)
    if ahead is not None:
        words.append(tokens[ahead].group().lower())
    return words


def enhance(text: str, candidates: list[Candidate], context: Sequence[str]) -> None:
    """Raise the score of each candidate whose recognizer has context words found around it or
    in the request's `context` (substring match, as Presidio's default)."""
    with_context = [c for c in candidates if c.context]
    if not with_context:
        return
    tokens, keyword = _keywords(text)
    extra = [word.lower() for word in context]
    for candidate in with_context:
        around = _surrounding(tokens, keyword, candidate.start) + extra
        word = next((w for w in candidate.context if any(w.lower() in kw for kw in around)), None)
        if word is None:
            continue
        score = min(max(candidate.score + CONTEXT_BOOST, CONTEXT_FLOOR), 1.0)
        explanation = candidate.explanation
        explanation.supportive_context_word = word
        explanation.score_context_improvement = score - explanation.score
        explanation.score = candidate.score = score


def remove_duplicates(candidates: Iterable[Candidate]) -> list[Candidate]:
    """Presidio's rule: drop zero scores, and any result inside another of the same type whose
    score is as high or higher; best score first."""
    ordered = sorted(candidates, key=lambda c: (c.entity_type, c.start, c.start - c.end, -c.score))
    kept: list[Candidate] = []
    active: list[Candidate] = []
    kind = None
    for candidate in ordered:
        if candidate.entity_type != kind:
            kind, active = candidate.entity_type, []
        if candidate.score == 0:
            continue
        active = [a for a in active if a.end >= candidate.start]
        if any(a.start <= candidate.start and candidate.end <= a.end and candidate.score <= a.score
               for a in active):  # fmt: skip
            continue
        kept.append(candidate)
        active.append(candidate)
    return sorted(kept, key=lambda c: (-c.score, c.start, c.start - c.end))


def allowed(
    candidates: list[Candidate], text: str, allow_list: Sequence[str], match: str, flags: int
) -> list[Candidate]:
    """Drop results whose text is on the allow list (`exact`), or matches one of its regexes
    (`regex`, RE2, searched anywhere in the result's text)."""
    if match == "exact":
        terms = frozenset(allow_list)
        return [c for c in candidates if text[c.start : c.end] not in terms]
    if match != "regex":
        raise PresidioError(500, "allow_list_match must either be set to 'exact' or 'regex'.")
    patterns = [term for term in allow_list if term]
    if not patterns:
        return candidates
    compiled = compile_re2("|".join(patterns), flags)
    return [c for c in candidates if compiled.search(text[c.start : c.end]) is None]


def analyze_text(
    text: str,
    findings: Iterable[Finding],
    request: AnalyzeRequest,
    ad_hoc: Sequence[AdHocRecognizer],
    recognizers: Mapping[str, PatternRecognizer],
) -> list[RecognizerResult]:
    """One text's answer, after the engine found `findings` in it."""
    wanted: Collection[str] | None = set(request.entities) if request.entities else None
    found = [c for c in engine_candidates(findings, recognizers)
             if wanted is None or c.entity_type in wanted]  # fmt: skip
    for recognizer in ad_hoc:
        if recognizer.language == request.language and (
            wanted is None or recognizer.entity_type in wanted
        ):
            found += ad_hoc_candidates(text, recognizer)
    enhance(text, found, request.context or ())
    if request.score_threshold is not None:
        found = [c for c in found if c.score >= request.score_threshold]
    found = remove_duplicates(found)
    if request.allow_list:
        found = allowed(found, text, request.allow_list, request.allow_list_match,
                        request.regex_flags)  # fmt: skip
    return [c.result(request.return_decision_process) for c in found]
