"""Propagation: a value found once in a record is replaced at its every other mention there.

Detection reads each string on its own, and context decides a lot: `User Maria Garcia logged
in` is a name, `... maria garcia's session` alone is not found, nor is `Maria` when it comes back
on its own. So once the spans of a record are known (the text line, or every string of one JSON
document: a chat request is one document), each found value is looked for in all of its strings,
in any case and across the forms the normaliser folds (NFKC, `%XX`), at word boundaries. A
mention becomes a span of the same type and action, so the same operator gives the same output
(`Outputs` in spans.py). A full name (PERSON, two or more words) also covers its parts: each word
of three or more letters that is a name on its own (a census given name or surname, or no English
word) and not a common English word, at mentions after the full name.

What is not propagated: values shorter than three characters, numbers of fewer than six digits
(ages, ports, PINs and years recur everywhere), a single word that is English (`Server`, a user
named `admin`) unless it is a SECRET, our own placeholders, and mentions inside a `keep` field or
on the allow list.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from recognizers.base import Finding
from recognizers.proper_nouns import ProperNounRecognizer
from scrubber.engine.normalize import Normalized, normalize
from scrubber.engine.policy import Action
from scrubber.engine.spans import Target, action_of, inside, merge_spans, span
from scrubber.operators import PLACEHOLDER_PATTERN

MIN_CHARS = 3
MIN_DIGITS = 6
MIN_PART_LETTERS = 3
COMMON_ZIPF = 4.5  # wordfreq's Zipf scale: `smith`, `will`, `brown` are above; `maria` below
RARE_ZIPF = 3.0  # without word lists: a word this frequent is taken for English
_MAX_REMEMBERED = 65_536
_TITLES = frozenset("mr mrs ms miss mx dr prof sir madam dame lord lady rev".split())
_PART = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


@dataclass(frozen=True, slots=True)
class Source:
    """A found value to look for; `after` = (target index, offset): only later mentions."""

    needle: str  # normalised
    entity_type: str
    score: float
    action: Action | None
    after: tuple[int, int] | None = None
    lowered: str = ""  # the needle in lower case (ASCII needles are searched so)


@lru_cache(maxsize=16_384)
def _zipf(word: str) -> float:
    from wordfreq import zipf_frequency

    return float(zipf_frequency(word, "en"))


def _word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


class Propagator:
    """Built once per engine; `propagate` per record. `names` (the proper-noun pass) tells
    English words from names; without it, only word frequency does."""

    def __init__(self, names: ProperNounRecognizer | None, allow: frozenset[str] = frozenset()):
        self._names = names
        self._allow = allow
        self._parts: dict[str, bool] = {}  # name_part's answers, bounded

    def english(self, word: str) -> bool:
        lowered = word.lower()
        if self._names is not None:
            return self._names.is_english(lowered)
        return _zipf(lowered) >= RARE_ZIPF

    def common(self, word: str) -> bool:
        """A common English word (`will`, `brown`, `session`), whatever else it may be."""
        lowered = word.lower()
        if lowered in _TITLES:
            return True
        if self._names is not None and not self._names.is_english(lowered):
            return False
        return _zipf(lowered) >= COMMON_ZIPF

    def name_part(self, word: str) -> bool:
        """A word of a full name that names someone alone: a census name or a word that is not
        English (`Maria`, `Okafor`), and not a common word (`Will`, `Orchestra`)."""
        known = self._parts.get(word)
        if known is None:
            known = sum(c.isalpha() for c in word) >= MIN_PART_LETTERS and not self.common(word)
            known = known and (self._names is None or self._names.confirms(word))
            if len(self._parts) >= _MAX_REMEMBERED:
                self._parts.clear()
            self._parts[word] = known
        return known

    def eligible(self, value: str, entity_type: str) -> bool:
        stripped = value.strip()
        if len(stripped) < MIN_CHARS or PLACEHOLDER_PATTERN.fullmatch(stripped):
            return False
        if not any(c.isalpha() for c in stripped):
            return sum(c.isdigit() for c in stripped) >= MIN_DIGITS
        if entity_type == "SECRET" or not stripped.isalpha():
            return True
        # One word found alone is the least sure finding: only one that is no English word
        # (`Okafor`, `sshd`), not `Server` (a census surname too) or a user named `admin`.
        return len(stripped) >= MIN_PART_LETTERS and not self.english(stripped)

    def parts(self, value: str) -> list[str]:
        """The name words of a full name worth looking for alone (`Garcia`, not `Dr` or `Will`)."""
        words = value.split()
        if len(words) < 2:
            return []
        found = []
        for word in words:
            match = _PART.search(word)
            if match is None:
                continue
            if self.name_part(match.group()):
                found.append(match.group())
        return found

    def sources(
        self,
        targets: Sequence[Target],
        extra: Sequence[tuple[str, str]] = (),
        norms: dict[int, Normalized] | None = None,
    ) -> list[Source]:
        """What to look for: every eligible found value, and the parts of full names, that
        occur again somewhere searchable (one count over the record's lowered text first, so
        most values cost no eligibility check). `extra` are (value, entity type) found
        elsewhere in the record (its JSON keys)."""
        if norms is None:
            norms = {i: normalize(t.text) for i, t in enumerate(targets) if t.searchable}
        hay = "\x00".join(norm.text.lower() for norm in norms.values())
        found: dict[str, Source] = {}

        def again(needle: str, times: int) -> bool:
            lowered = needle.lower()
            return not lowered.isascii() or hay.count(lowered) >= times

        def add(where: Finding, needle: str, after: tuple[int, int] | None) -> None:
            key = needle.casefold()
            known = found.get(key)
            if known is None or (known.after is not None and after is None):
                action = action_of(where)
                found[key] = Source(
                    needle, where.entity_type, where.score, action, after, needle.lower()
                )

        values: list[tuple[str, Finding, tuple[int, int], int]] = [
            (v, span(0, len(v), t, 0.0), (-1, 0), 1) for v, t in extra
        ]
        for index, target in enumerate(targets):
            times = 2 if index in norms else 1  # a searchable target holds the value itself
            values += [
                (target.text[f.start : f.end], f, (index, f.end), times) for f in target.spans
            ]
        for value, finding, where, times in values:
            needle = normalize(value).text.strip()
            if needle and again(needle, times) and self.eligible(value, finding.entity_type):
                add(finding, needle, None)
            if finding.entity_type == "PERSON":
                for part in self.parts(needle):
                    if again(part, times):
                        add(finding, part, where)
        return list(found.values())

    def propagate(self, targets: Sequence[Target], extra: Sequence[tuple[str, str]] = ()) -> None:
        """Add a span at every other mention of a found value, in every searchable target."""
        if not extra and not any(t.spans for t in targets):
            return
        if len(targets) == 1 and not extra and not self._may_recur(targets[0]):
            return
        norms = {i: normalize(t.text) for i, t in enumerate(targets) if t.searchable}
        if not norms:
            return
        sources = self.sources(targets, extra, norms)
        if not sources:
            return
        for index, norm in norms.items():
            lowered = norm.text.lower() if norm.text.isascii() else None
            present = [
                source
                for source in sources
                if lowered is None or not source.needle.isascii() or source.lowered in lowered
            ]
            if not present:
                continue
            target = targets[index]
            taken = [(s.start, s.end) for s in target.spans]
            new: list[Finding] = [
                span(start, end, source.entity_type, source.score, source.action)
                for source in present
                for start, end in self._mentions(
                    target, norm, lowered, index=index, source=source, taken=taken
                )
            ]
            if new:
                target.spans = merge_spans(target.spans + new)

    @staticmethod
    def _may_recur(target: Target) -> bool:
        """A cheap test for the common text record: does any found value occur twice, or is
        there a name whose parts might? (Exact for plain ASCII; anything else says yes.)"""
        text = target.text
        if not text.isascii() or "%" in text or "\x1b" in text or "\\" in text or "^[" in text:
            return True  # a form the normaliser folds may hide a mention
        lowered = text.lower()
        return any(
            f.entity_type == "PERSON" or lowered.count(lowered[f.start : f.end].strip()) > 1
            for f in target.spans
        )

    def _mentions(
        self,
        target: Target,
        norm: Normalized,
        lowered: str | None,
        *,
        index: int,
        source: Source,
        taken: list[tuple[int, int]],
    ) -> list[tuple[int, int]]:
        hay = norm.text
        needle = source.needle
        if lowered is not None and needle.isascii():
            wanted = source.lowered
            starts = []
            at = lowered.find(wanted)
            while at >= 0:
                starts.append(at)
                at = lowered.find(wanted, at + 1)
            hits = [(at, at + len(wanted)) for at in starts]
        else:
            hits = [m.span() for m in re.finditer(re.escape(needle), hay, re.IGNORECASE)]
        out = []
        for start, end in hits:
            if _word_char(needle[0]) and start > 0 and _word_char(hay[start - 1]):
                continue
            if _word_char(needle[-1]) and end < len(hay) and _word_char(hay[end]):
                continue
            first, last = norm.original_span(start, end)
            if source.after is not None and (index, first) < source.after:
                continue
            if inside(first, last, taken) or inside(first, last, target.kept):
                continue
            if target.text[first:last] in self._allow:
                continue
            out.append((first, last))
        return out
