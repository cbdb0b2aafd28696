"""What gets replaced in one string, and how the replacements are written.

Every string of a record (the text line, or each JSON leaf) becomes a `Target` that collects
`Span`s from every source: detection findings, field rules and key hints on whole values, and
propagated mentions. Spans are merged into their union (as detection merges findings), then
rendered once with the policy's operators. One `Outputs` per record makes every mention of a
value, in any case, come out as the same replacement (the same token).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from recognizers.base import Finding
from scrubber.engine.formats import Leaf
from scrubber.engine.normalize import normalize
from scrubber.engine.policy import Action, ScopedPolicy
from scrubber.engine.structured import Escape
from scrubber.models import Replacement

# Scores of spans that do not come from detection, for merging: a field rule decides, a SECRET
# key decides the type of whatever its value looks like, and any other key hint names a value
# only when nothing more precise was found in it (an IP under `rhost=` stays IP_ADDRESS).
FIELD_SCORE = 3.0
SECRET_HINT_SCORE = 2.0
HINT_SCORE = 0.0


@dataclass(frozen=True, slots=True)
class Span:
    """[start, end) of a string to replace; `action` is a field rule's, None for the policy's
    action for `entity_type`."""

    start: int
    end: int
    entity_type: str
    score: float
    action: Action | None = None

    @classmethod
    def of(cls, finding: Finding, offset: int = 0) -> Span:
        return cls(finding.start + offset, finding.end + offset, finding.entity_type, finding.score)

    def finding(self) -> Finding:
        return Finding(self.start, self.end, self.entity_type, self.score, "engine")


@dataclass(slots=True)
class Layout:
    """Where a structured text's slots are: how a replacement is written in place, the keys and
    quoted values spans must stay off, and what `keep` rules protect."""

    escape: Escape | None = None
    keys: list[tuple[int, int]] = field(default_factory=list)  # [key start, value start)
    quoted: list[tuple[int, int]] = field(default_factory=list)  # quoted values
    kept: list[tuple[int, int]] = field(default_factory=list)  # never touched

    def off_keys(self, span: Span, text: str) -> Span | None:
        """The span without the slot keys it runs into; None if nothing is left."""
        start, end = span.start, span.end
        for key_start, value_start in self.keys:
            if key_start <= start < value_start < end:
                start = value_start
        for key_start, _ in self.keys:
            if start < key_start < end:
                end = key_start
        for value_start, value_end in self.quoted:
            if value_start <= start < value_end < end:
                end = value_end
        while end > start and (text[end - 1].isspace() or text[end - 1] in ";,|&"):
            end -= 1
        if (start, end) == (span.start, span.end):
            return span
        return Span(start, end, span.entity_type, span.score, span.action) if end > start else None


_NO_INTERVALS: list[tuple[int, int]] = []


@dataclass(slots=True)
class Target:
    """One string of a record: the text record itself, or a JSON leaf."""

    text: str
    leaf: Leaf | None = None
    spans: list[Span] = field(default_factory=list)
    searchable: bool = True  # propagation may find mentions here (not in numbers, rule fields)
    layout: Layout | None = None  # structured text only

    @property
    def path(self) -> str:
        return "" if self.leaf is None else self.leaf.path

    @property
    def kept(self) -> list[tuple[int, int]]:
        return _NO_INTERVALS if self.layout is None else self.layout.kept

    def settle(self) -> None:
        """Drop what a keep rule protects, keep spans off the keys of structured text (`Name:
        Jane Roe` read whole as a name keeps `Name: `; a value read on into `level=` stops
        there, and one in a quoted value at its closing quote), and merge the rest."""
        layout = self.layout
        if layout is not None and self.spans:
            if layout.kept:
                self.spans = [s for s in self.spans if not inside(s.start, s.end, layout.kept)]
            self.spans = [c for s in self.spans if (c := layout.off_keys(s, self.text))]
        if len(self.spans) > 1:
            self.spans = merge_spans(self.spans)


def inside(start: int, end: int, intervals: list[tuple[int, int]]) -> bool:
    return any(s <= start and end <= e for s, e in intervals)


def merge_spans(spans: list[Span]) -> list[Span]:
    """Overlapping spans become one (their union), typed and acted on by the strongest (score,
    then length): no fragment of either survives."""
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if merged and span.start < merged[-1].end:
            last = merged.pop()
            strongest = max(last, span, key=lambda s: (s.score, s.end - s.start))
            merged.append(replace(strongest, start=last.start, end=max(last.end, span.end)))
        else:
            merged.append(span)
    return merged


def fold(value: str) -> str:
    """What two mentions of one value share: NFKC, `%XX` decoded, case folded."""
    return normalize(value).text.casefold()


class Outputs:
    """The replacement of each value in one record, computed once per (value, type, action):
    `Maria Garcia` and `maria garcia` get the same token."""

    def __init__(self, policy: ScopedPolicy) -> None:
        self._policy = policy
        self._done: dict[tuple[str, str, Action], str] = {}

    def action(self, span: Span) -> Action:
        return span.action or self._policy.action_for(span.entity_type)

    def output(self, value: str, span: Span) -> str:
        action = self.action(span)
        if action.operator == "keep":
            return value
        key = (fold(value), span.entity_type, action)
        found = self._done.get(key)
        if found is None:
            found = self._done[key] = action.transform(value, span.entity_type)
        return found


def render(target: Target, outputs: Outputs) -> tuple[str, list[Replacement]]:
    """The target's text with its spans replaced, and a Replacement per span."""
    text = target.text
    pieces: list[str] = []
    replacements: list[Replacement] = []
    cursor = 0
    for span in target.spans:
        output = outputs.output(text[span.start : span.end], span)
        if target.layout is not None and target.layout.escape is not None:
            output = target.layout.escape(span.start, span.end, output)
        pieces += [text[cursor : span.start], output]
        cursor = span.end
        replacements.append(
            Replacement(
                target.path, span.start, span.end, span.entity_type, outputs.action(span).operator
            )
        )
    pieces.append(text[cursor:])
    return "".join(pieces), replacements
