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
from scrubber.engine.structured import Slot, escape_for
from scrubber.models import Replacement

# Scores of spans that do not come from detection, for merging: a field rule decides, a SECRET
# key decides the type of whatever its value looks like, and any other key hint names a value
# only when nothing more precise was found in it (an IP under `rhost=` stays IP_ADDRESS).
FIELD_SCORE = 3.0
SECRET_HINT_SCORE = 2.0
HINT_SCORE = 0.0


@dataclass(frozen=True, slots=True)
class Span(Finding):
    """A finding that carries the action replacing it (a field rule's); detection's own findings
    go into a target as they are, and take the policy's action for their type."""

    action: Action | None = None


def span(
    start: int, end: int, entity_type: str, score: float, action: Action | None = None
) -> Span:
    return Span(start, end, entity_type, score, "engine", action)


def action_of(finding: Finding) -> Action | None:
    return finding.action if isinstance(finding, Span) else None


def shifted(findings: list[Finding], offset: int) -> list[Finding]:
    return [replace(f, start=f.start + offset, end=f.end + offset) for f in findings]


@dataclass(slots=True)
class Layout:
    """The slots of a structured text (outer before inner) and what `keep` rules protect: how a
    replacement is written in place, and the keys and quoted values spans must stay off."""

    slots: list[Slot] = field(default_factory=list)
    kept: list[tuple[int, int]] = field(default_factory=list)  # never touched

    def escape(self, start: int, end: int, output: str) -> str:
        """The output as the innermost slot holding [start, end) must have it written."""
        inner = None
        for slot in self.slots:
            if slot.start <= start and end <= slot.end:
                inner = slot
            elif slot.start >= end:
                break
        return output if inner is None else escape_for(inner.quoting, output)

    def off_keys(self, found: Finding, text: str) -> Finding | None:
        """The span without the slot keys it runs into; None if nothing is left."""
        start, end = found.start, found.end
        keyed = [s for s in self.slots if 0 <= s.key_start < s.start]
        for slot in keyed:
            if slot.key_start <= start < slot.start < end:
                start = slot.start
        for slot in keyed:
            if start < slot.key_start < end:
                end = slot.key_start
        for slot in self.slots:
            if slot.quoting in ("dquote", "sd") and slot.start <= start < slot.end < end:
                end = slot.end
        while end > start and (text[end - 1].isspace() or text[end - 1] in ";,|&"):
            end -= 1
        if (start, end) == (found.start, found.end):
            return found
        return replace(found, start=start, end=end) if end > start else None


_NO_INTERVALS: list[tuple[int, int]] = []
_NO_SPANS: list[Finding] = []


@dataclass(slots=True)
class Target:
    """One string of a record: the text record itself, or a JSON leaf."""

    text: str
    leaf: Leaf | None = None
    # Findings to replace. A list detection returned may be shared (its cache holds it): never
    # changed in place, only replaced by a new list.
    spans: list[Finding] = field(default_factory=lambda: _NO_SPANS)
    merged: bool = True  # spans are apart (as detection returns them): settle has nothing to do
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
            self.merged = False
        if not self.merged:
            self.spans = merge_spans(self.spans)
            self.merged = True

    def add(self, spans: list[Finding]) -> None:
        if not self.spans:
            self.spans = spans
        elif spans:
            self.spans = self.spans + spans
            self.merged = False


def inside(start: int, end: int, intervals: list[tuple[int, int]]) -> bool:
    return any(s <= start and end <= e for s, e in intervals)


def merge_spans(spans: list[Finding]) -> list[Finding]:
    """Overlapping spans become one (their union), typed and acted on by the strongest (score,
    then length): no fragment of either survives."""
    if len(spans) <= 1:
        return spans
    merged: list[Finding] = []
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

    def action(self, span: Finding) -> Action:
        return action_of(span) or self._policy.action_for(span.entity_type)

    def output(self, value: str, span: Finding, action: Action) -> str:
        if action.operator == "keep":
            return value
        plain = value.isascii() and "%" not in value and "\x1b" not in value
        key = (value.lower() if plain else fold(value), span.entity_type, action)
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
        action = outputs.action(span)
        output = outputs.output(text[span.start : span.end], span, action)
        if target.layout is not None:
            output = target.layout.escape(span.start, span.end, output)
        pieces += [text[cursor : span.start], output]
        cursor = span.end
        replacements.append(
            Replacement(target.path, span.start, span.end, span.entity_type, action.operator)
        )
    pieces.append(text[cursor:])
    return "".join(pieces), replacements
