"""`scrubber explain`: why the engine replaces what it replaces, and what it considered and let go.

The record is scrubbed as usual (what is replaced, and by which operator, is the engine's own
answer); each replacement is then given its sources, found again string by string with the
engine's own parts: field rules and key hints, the pattern prefilter and its recognizers (with
pattern, score and context words), the proper-noun pass and NER on free text. Candidates that were
dropped are listed with the reason: below the score threshold, on an allow list, rejected by a
validator (checksums, look-alikes, log vocabulary), not a plausible name, a skipped type. The
JSON form is documented in docs/recognizers.md ("scrubber explain").
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from recognizers import default_recognizers
from recognizers.base import Finding, PatternRecognizer
from recognizers.custom import CustomRecognizer
from scrubber.engine.detection import Detector, Prefilter, looks_like_free_text
from scrubber.engine.formats import leaves, parse
from scrubber.engine.normalize import Normalized, normalize
from scrubber.engine.scrub import _KEEP, FREE_TEXT_KEYS, NAME_KEYS, Scrubber
from scrubber.engine.spans import Span
from scrubber.engine.structured import text_slots
from scrubber.errors import RecordRejected
from scrubber.models import Format, RecordResult
from scrubber.operators import DEFAULT_SCOPE, PLACEHOLDER_PATTERN

SCHEMA = "scrubber.explain/1"


@dataclass
class Candidate:
    """Something a part of the engine found in one string (path "" for a text record)."""

    kind: str  # pattern | ner | proper_nouns | python | field_rule | key_hint | mention
    recognizer: str
    entity_type: str
    score: float
    path: str
    start: int
    end: int
    text: str
    pattern: str | None = None
    regex: str | None = None
    origin: str | None = None  # built-in, recognizers, or the Presidio file it came from
    model: str | None = None
    context_words: list[str] = field(default_factory=list)
    rule: str | None = None  # the field rule (a glob of policy.fields)
    key: str | None = None  # the key whose name hinted the type
    field: str | None = None  # the structured-text slot's field path
    reason: str | None = None  # why it was dropped (suppressed candidates only)
    detail: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, [])}


@dataclass
class Explanation:
    result: RecordResult
    fmt: str
    findings: list[dict[str, Any]]
    suppressed: list[Candidate]
    config_hash: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "format": self.fmt,
            "outcome": self.result.outcome.value,
            "reason": self.result.reason.value if self.result.reason else None,
            "output": self.result.output,
            "config_hash": self.config_hash,
            "findings": self.findings,
            "suppressed": [c.as_dict() for c in self.suppressed],
        }


def explain(engine: Scrubber, record: str, fmt: Format = "auto") -> Explanation:
    [result] = engine.scrub_batch([record], fmt)
    try:
        parsed = parse(record, fmt, engine.config.limits.max_record_bytes)
    except RecordRejected:
        return Explanation(result, fmt, [], [], engine.config_hash)
    seen = _Seen(engine)
    if parsed.document is None:
        seen.text_record(parsed.text)
        kind = "text"
    else:
        for leaf in leaves(parsed.document, engine.config.limits.max_json_depth):
            seen.leaf(leaf.path, leaf.key, leaf.text, leaf.scannable, leaf.is_number)
        kind = "json"
    findings = []
    used: set[int] = set()
    for replacement in result.replacements:
        sources = [
            c
            for c in seen.kept
            if c.path == replacement.path and _overlap(c, replacement.start, replacement.end)
        ]
        used.update(id(c) for c in sources)
        value = _value(parsed.text if parsed.document is None else None, seen, replacement)
        findings.append({
            "path": replacement.path, "start": replacement.start, "end": replacement.end,
            "text": value, "entity_type": replacement.entity_type,
            "operator": replacement.operator,
            "sources": [c.as_dict() for c in sources] or [_MENTION],
        })  # fmt: skip
    unused = [c for c in seen.kept if id(c) not in used and c.kind != "field_rule"]
    for c in unused:
        c.reason = "not_replaced"
        c.detail = "inside a `keep` rule, or trimmed off a structured-text key"
    suppressed = sorted(seen.dropped + unused, key=lambda c: (c.path, c.start, c.end))
    return Explanation(result, kind, findings, suppressed, engine.config_hash)


def _overlap(c: Candidate, start: int, end: int) -> bool:
    return c.start < end and start < c.end


_MENTION = {
    "kind": "mention",
    "detail": "another mention of a value found in this record (propagation), or a JSON key",
}


def _value(text: str | None, seen: _Seen, replacement: Any) -> str:
    source = text if text is not None else seen.strings.get(replacement.path, "")
    return source[replacement.start : replacement.end]


class _Seen:
    """What each part of the engine finds in each string, kept or dropped (and why)."""

    def __init__(self, engine: Scrubber) -> None:
        self.engine = engine
        self.detector: Detector = engine.detector
        self.kept: list[Candidate] = []
        self.dropped: list[Candidate] = []
        self.strings: dict[str, str] = {}
        config = engine.config.detection
        wanted, skipped = set(config.entities), set(config.skip_entities)
        left_out = [
            r
            for r in (*default_recognizers(), *engine.config.custom_recognizers())
            if (wanted and r.entity_type not in wanted) or r.entity_type in skipped
        ]
        self._left_out = Prefilter(left_out)
        self._policy = engine.policy.scoped(DEFAULT_SCOPE)

    def text_record(self, text: str) -> None:
        self.strings[""] = text
        decided: list[tuple[int, int]] = []
        slots = text_slots(text) if self.engine.config.detection.structured_text else []
        for slot in slots:
            if any(s <= slot.start and slot.end <= e for s, e in decided):
                continue
            value = text[slot.start : slot.end]
            decision = self.engine._decide(self._policy, slot.path, slot.key, value, slot)
            if decision is not None:
                decided.append((slot.start, slot.end))
                where = (slot.start, slot.end, "")
                self._decision(decision, text, field=slot.path, key=slot.key, where=where)
            elif self.engine._alone(slot, value):
                free = slot.key.lower() in NAME_KEYS or looks_like_free_text(value)
                self._free_text("", value, slot.start, free)
        self._patterns("", text, is_json=False)
        self._free_text("", text, 0, looks_like_free_text(text))

    def leaf(self, path: str, key: str, text: str, scannable: bool, is_number: bool) -> None:
        self.strings[path] = text
        decision = self.engine._decide(self._policy, path, key, text)
        if decision is not None:
            self._decision(decision, text, field=path, key=key, where=(0, len(text), path))
            return
        if not scannable:
            return
        self._patterns(path, text, is_json=True)
        free = not is_number and (key.lower() in FREE_TEXT_KEYS or looks_like_free_text(text))
        self._free_text(path, text, 0, free)

    def _decision(
        self, decision: Span | str, text: str, *, field: str, key: str, where: tuple[int, int, str]
    ) -> None:
        """A field rule or key hint on the value at `field`; `where`: its [start, end) and the
        path its offsets count in."""
        start, end, path = where
        rule = self._policy.rule_for_path(field)
        if decision == _KEEP or (isinstance(decision, Span) and decision.entity_type == "FIELD"):
            assert rule is not None
            entity = "FIELD" if decision != _KEEP else "-"
            self.kept.append(Candidate(
                "field_rule", "policy.fields", entity, 1.0, path, start, end, text[start:end],
                rule=rule.rule, field=field, detail="kept as it is" if decision == _KEEP else None,
            ))  # fmt: skip
        elif isinstance(decision, Span):
            self.kept.append(Candidate(
                "key_hint", "recognizers/fields.py", decision.entity_type, decision.score, path,
                start, end, text[start:end], key=key, field=field,
            ))  # fmt: skip

    def _patterns(self, path: str, text: str, *, is_json: bool) -> None:
        norm = (
            normalize(text)
            if self.engine.config.detection.normalize
            else Normalized(text, None, None)
        )
        scanned, lowered = norm.text, norm.text.lower()
        has_digit = any("0" <= c <= "9" for c in scanned)
        skipped = self.engine.config.detection.skip_entities  # told by `_left_out` below
        chosen = [
            r
            for r in self.detector._prefilter.candidates(scanned, lowered, has_digit)
            if r.entity_type not in skipped
        ]
        chosen += self.engine._scoped.recognizers_for(path, is_json)
        for recognizer in chosen:
            self._one_recognizer(recognizer, path, text, norm)
        for recognizer in self._left_out.candidates(scanned, lowered, has_digit):
            for f in recognizer.find(scanned):
                c = self._candidate(recognizer, path, text, norm, f)
                c.reason, c.detail = (
                    "skipped_entity",
                    f"{f.entity_type} is not detected here "
                    + (
                        "(detection.skip_entities)"
                        if f.entity_type in self.engine.config.detection.skip_entities
                        else "(not in detection.entities)"
                    ),
                )
                self.dropped.append(c)

    def _one_recognizer(
        self, recognizer: PatternRecognizer, path: str, text: str, norm: Normalized
    ) -> None:
        found = list(recognizer.find(norm.text))
        for f in found:
            self._judge(self._candidate(recognizer, path, text, norm, f), text)
        if type(recognizer) not in (PatternRecognizer, CustomRecognizer):
            return
        spans = {(f.start, f.end) for f in found}
        group = recognizer.value_group
        for match in recognizer._compiled.finditer(norm.text):
            start, end = match.start(group), match.end(group)
            if start < 0 or start == end or (start, end) in spans:
                continue
            raw = Finding(start, end, recognizer.entity_type, recognizer.score, recognizer.name)
            c = self._candidate(recognizer, path, text, norm, raw)
            allowed = isinstance(recognizer, CustomRecognizer) and c.text in recognizer.allow
            c.reason = "recognizer_allow_list" if allowed else "validator"
            c.detail = (
                "on this recognizer's allow_list"
                if allowed
                else "rejected by its validator (a checksum, a look-alike or log-vocabulary rule)"
            )
            self.dropped.append(c)

    def _candidate(
        self, recognizer: PatternRecognizer, path: str, text: str, norm: Normalized, f: Finding
    ) -> Candidate:
        start, end = norm.original_span(f.start, f.end)
        found = Candidate(
            "pattern", recognizer.name, f.entity_type, f.score, path, start, end, text[start:end],
            pattern=recognizer.name, regex=recognizer.pattern, origin="built-in",
        )  # fmt: skip
        if isinstance(recognizer, CustomRecognizer):
            found.pattern, found.origin = recognizer.pattern_name, recognizer.source
            if recognizer.context is not None:
                found.context_words = recognizer.context.found(norm.text, f.start, f.end)
        return found

    def _free_text(self, path: str, text: str, offset: int, free: bool) -> None:
        if not free:
            return
        plugged = self.engine.plugins.detect(text) if self.engine.plugins else []
        for f in plugged if isinstance(plugged, list) else []:
            self.kept.append(self._found("python", path, text, offset, f))
        proper, ner = self.detector._proper_nouns, self.detector._ner
        windows: list[tuple[int, int]] = [(0, len(text))]
        if proper is not None:
            analysis = proper.analyse(text)
            windows = analysis.ner_windows
            for f in analysis.findings:
                self._judge(self._found("proper_nouns", path, text, offset, f), text, offset)
        if ner is None:
            return
        model = self.engine.config.detection.ner.model
        pieces = [(text[s:e], s) for s, e in windows]
        for (_, start), found in zip(pieces, ner.detect_batch([p for p, _ in pieces]), strict=True):
            for f in found:
                shifted = Finding(
                    f.start + start, f.end + start, f.entity_type, f.score, f.recognizer
                )
                c = self._found("ner", path, text, offset, shifted)
                c.model = model
                self._judge(c, text, offset)

    @staticmethod
    def _found(kind: str, path: str, text: str, offset: int, f: Finding) -> Candidate:
        return Candidate(
            kind, f.recognizer, f.entity_type, f.score, path, f.start + offset, f.end + offset,
            text[f.start : f.end],
        )  # fmt: skip

    def _judge(self, c: Candidate, text: str, offset: int = 0) -> None:
        """Kept or dropped, by the detector's own rule (`Detector._keep`), with the reason."""
        finding = Finding(c.start - offset, c.end - offset, c.entity_type, c.score, c.recognizer)
        protected = [m.span() for m in PLACEHOLDER_PATTERN.finditer(text)]
        if self.detector._keep(text, finding, protected):
            self.kept.append(c)
            return
        config = self.engine.config.detection
        if c.score < config.score_threshold:
            c.reason = "below_threshold"
            c.detail = f"score {c.score:.2f} < detection.score_threshold {config.score_threshold}"
        elif c.entity_type in config.skip_entities:
            c.reason, c.detail = "skipped_entity", f"{c.entity_type} is in detection.skip_entities"
        elif c.text in config.allow_list:
            c.reason, c.detail = "allow_list", "on detection.allow_list"
        elif any(s <= finding.start and finding.end <= e for s, e in protected):
            c.reason, c.detail = "placeholder", "inside a placeholder of ours"
        else:
            c.reason = "not_a_name"
            c.detail = "reads as English words or log vocabulary, not a name or a place"
        self.dropped.append(c)


def render_text(explanation: Explanation) -> str:
    """The explanation for a person: each replacement with its sources, then what was let go."""
    data = explanation.as_dict()
    lines = [f"output: {data['output']}"]
    if data["reason"]:
        lines.append(f"quarantined: {data['reason']}")
    lines.append(f"findings ({len(data['findings'])}):")
    for f in data["findings"]:
        where = f"{f['path']} " if f["path"] else ""
        span = f"[{f['start']}:{f['end']}] {f['text']!r}"
        lines.append(f"  {where}{span} {f['entity_type']} -> {f['operator']}")
        lines += [f"      {_source_line(s)}" for s in f["sources"]]
    lines.append(f"suppressed ({len(data['suppressed'])}):")
    for c in data["suppressed"]:
        where = f"{c['path']} " if c.get("path") else ""
        lines.append(
            f"  {where}[{c['start']}:{c['end']}] {c['text']!r} {c['entity_type']} "
            f"({_source_line(c)}): {c['reason']}, {c['detail']}"
        )
    return "\n".join(lines)


def _source_line(s: dict[str, Any]) -> str:
    kind = s["kind"]
    if kind == "mention":
        return str(s["detail"])
    if kind == "field_rule":
        kept = f" ({s['detail']})" if "detail" in s else ""
        return f"field rule {s['rule']!r} on {s['field']!r}{kept}"
    if kind == "key_hint":
        return f"key hint {s['key']!r} on {s['field']!r} ({s['entity_type']})"
    score = f"score {s['score']:.2f}"
    if kind == "pattern":
        origin = s.get("origin", "built-in")
        pattern = f"/{s['pattern']}" if s.get("pattern") not in (None, s["recognizer"]) else ""
        context = f", context {', '.join(s['context_words'])}" if s.get("context_words") else ""
        regex = "" if origin == "built-in" else f": {s['regex']}"  # ours: recognizers/*.py
        return f"pattern {s['recognizer']}{pattern} [{origin}] {score}{context}{regex}"
    model = f" {s['model']}" if s.get("model") else ""
    return f"{kind} ({s['recognizer']}{model}) {score}"
