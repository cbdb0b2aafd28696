"""Configured recognizers limited to some formats or field paths (`formats:`, `fields:`).

Unscoped recognizers run in the detector's one pass with the built-in ones. A scoped one runs
in a detector of its own, over only the strings its scope names: the JSON leaves under its
paths, or, in text records, the whole line (`formats` only) or the structured-text slots under
its paths. Its findings join the string's other spans, which are merged as usual.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

from recognizers.base import Finding, PatternRecognizer
from recognizers.custom import CustomRecognizer
from scrubber.config import DetectionConfig, LimitsConfig
from scrubber.engine.detection import Detector, TextItem
from scrubber.engine.formats import ParsedRecord
from scrubber.engine.policy import _path_regex
from scrubber.engine.spans import Target, shifted
from scrubber.models import Reason

Owner = TypeVar("Owner")


class Record(Protocol):
    """What the engine's pending record offers here: its parse and its failure, if any."""

    parsed: ParsedRecord | None
    reason: Reason | None


class Scope:
    def __init__(self, formats: tuple[str, ...], fields: tuple[str, ...]) -> None:
        self.formats = frozenset(formats or ("text", "json"))
        self._rules = tuple(_path_regex(rule) for rule in fields)

    def names(self, path: str) -> bool:
        """A rule names this path or one of its ancestors (as a field rule would)."""
        lowered = path.lower()
        parts = lowered.split(".")
        candidates = [".".join(parts[:n]) for n in range(1, len(parts))] + [lowered]
        return any(rule.fullmatch(c) for rule in self._rules for c in candidates)

    def runs_on(self, path: str, is_json: bool) -> bool:
        """Does this scope scan the whole string (a JSON leaf, or a text line)?"""
        if ("json" if is_json else "text") not in self.formats:
            return False
        return not self._rules or (is_json and self.names(path))

    def pieces(self, target: Target, is_json: bool) -> list[tuple[str, int]]:
        """(text, offset in the target) of what this scope scans in one string."""
        if ("json" if is_json else "text") not in self.formats:
            return []
        if not self._rules:
            return [(target.text, 0)]
        if is_json:
            return [(target.text, 0)] if self.names(target.path) else []
        slots = target.layout.slots if target.layout is not None else []
        return [
            (target.text[s.start : s.end], s.start) for s in slots if s.path and self.names(s.path)
        ]


class ScopedDetectors:
    """One detector per distinct scope (no NER, no proper nouns: patterns only)."""

    def __init__(
        self,
        recognizers: Sequence[CustomRecognizer],
        detection: DetectionConfig,
        limits: LimitsConfig,
    ) -> None:
        groups: dict[tuple[tuple[str, ...], tuple[str, ...]], list[CustomRecognizer]] = {}
        for recognizer in recognizers:
            groups.setdefault((recognizer.formats, recognizer.fields), []).append(recognizer)
        self._groups = [
            (Scope(formats, fields), Detector(members, detection, limits, None))
            for (formats, fields), members in groups.items()
        ]

    def __bool__(self) -> bool:
        return bool(self._groups)

    def recognizers_for(self, path: str, is_json: bool) -> list[PatternRecognizer]:
        """The scoped recognizers that scan a whole string at `path` (for `scrubber explain`)."""
        return [
            r
            for scope, detector in self._groups
            if scope.runs_on(path, is_json)
            for r in detector._recognizers
        ]

    def add_findings(self, owners: Sequence[tuple[Record, Target, int]]) -> None:
        """Scan the strings of `owners` (the engine's scanned strings) each scope names, and add
        the findings to their targets (a failure fails the record closed)."""
        strings: dict[int, tuple[Record, Target, bool]] = {}
        for record, target, _ in owners:
            if record.reason is None and record.parsed is not None:
                strings.setdefault(id(target), (record, target, record.parsed.document is not None))
        for record, target, offset, found in self.detect(list(strings.values())):
            if isinstance(found, Reason):
                record.reason = record.reason or found
            elif found:
                target.add(found if offset == 0 else shifted(found, offset))

    def detect(
        self, strings: Sequence[tuple[Owner, Target, bool]]
    ) -> list[tuple[Owner, Target, int, list[Finding] | Reason]]:
        """Findings per (owner, target, is_json) string and piece, offsets in the piece."""
        out: list[tuple[Owner, Target, int, list[Finding] | Reason]] = []
        for scope, detector in self._groups:
            items: list[TextItem] = []
            where: list[tuple[Owner, Target, int]] = []
            for owner, target, is_json in strings:
                for text, offset in scope.pieces(target, is_json):
                    items.append(TextItem(text, free_text=False))
                    where.append((owner, target, offset))
            if items:
                found = detector.detect_batch(items)
                out += [(o, t, off, f) for (o, t, off), f in zip(where, found, strict=True)]
        return out
