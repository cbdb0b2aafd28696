"""The Scrubber: built once from config, then `scrub_batch` over records.

decode -> walk (JSON leaves, or the slots of structured text) -> (field rules | key hints |
detection) -> other mentions of what was found -> operators -> encode. Every record comes back as
a `RecordResult` whose output is safe to emit: scrubbed, or a placeholder with a reason.
"""

from __future__ import annotations

import gc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from recognizers.base import Finding, PatternRecognizer
from recognizers.fields import hint_for_path, value_is_sensitive
from scrubber.config import Config
from scrubber.engine.detection import TextItem, looks_like_free_text
from scrubber.engine.detection_parts import DetectionParts, detection_key
from scrubber.engine.formats import ParsedRecord, encode, leaves, parse
from scrubber.engine.formats import placeholder as placeholder_for
from scrubber.engine.key_blocks import Window, body_spans
from scrubber.engine.keys import load_keys
from scrubber.engine.object_keys import key_slots, scrub_keys, scrubbed_key
from scrubber.engine.policy import Policy, ScopedPolicy
from scrubber.engine.spans import (
    FIELD_SCORE,
    HINT_SCORE,
    SECRET_HINT_SCORE,
    Layout,
    Outputs,
    Span,
    Target,
    inside,
    merge_spans,
    render,
    shifted,
    span,
)
from scrubber.engine.structured import Slot, text_slots
from scrubber.errors import RecordRejected
from scrubber.models import Format, Outcome, Reason, RecordResult, Replacement
from scrubber.operators import DEFAULT_SCOPE, PLACEHOLDER_PATTERN, TokenSink

# JSON keys whose string values are prose: always worth NER, whatever their shape.
FREE_TEXT_KEYS = frozenset(
    {"message", "msg", "content", "text", "body", "prompt", "input", "description", "comment",
     "comments", "note", "notes", "summary", "subject", "query", "question", "answer", "log"}
)  # fmt: skip
# Keys of structured text whose value, read alone, may be nothing but a name (`customer="Jane
# Roe"`): scanned on its own as free text, so the bare-name pass sees it. No hint: `name=` is
# as often a host or a job.
NAME_KEYS = frozenset(
    {"name", "customer", "client", "user", "owner", "author", "sender", "recipient", "contact",
     "patient", "employee", "member", "person", "assignee", "reporter", "holder", "by"}
)  # fmt: skip
_KEEP = "keep"
_NONE_COUNTED: dict[str, int] = {}
_NONE_REPLACED: list[Replacement] = []
_NO_KEY_VALUES: list[tuple[str, str]] = []


@dataclass(slots=True)
class _Pending:
    """A record between parse and encode: its strings (`targets`) collect what to replace."""

    parsed: ParsedRecord | None
    looks_json: bool
    policy: ScopedPolicy
    reason: Reason | None = None
    # Shared empty containers until something is found (most records: fewer objects for the
    # collector to walk); replaced, never changed in place.
    counts: dict[str, int] = field(default_factory=lambda: _NONE_COUNTED)
    changed: bool = False
    replacements: list[Replacement] = field(default_factory=lambda: _NONE_REPLACED)
    targets: list[Target] = field(default_factory=list)
    key_values: list[tuple[str, str]] = field(default_factory=lambda: _NO_KEY_VALUES)
    key_window: Window | None = None  # the part inside a private key logged line by line

    def report(self, replacements: list[Replacement]) -> None:
        counts = dict(self.counts)
        for replacement in replacements:
            counts[replacement.entity_type] = counts.get(replacement.entity_type, 0) + 1
        self.counts = counts
        self.replacements = self.replacements + replacements


# Synthetic lines in the shapes the engine meets (text log, JSON log, prose, credentials).
_WARM_UP_TEXTS = (
    "2024-05-01T12:00:00Z INFO user John Smith <john.smith@example.com> login from 10.1.2.3",
    '{"level":"info","msg":"payment by Maria Garcia","card":"4111 1111 1111 1111","user":"mg"}',
    "Please write to Dr. Akira Tanaka at 221B Baker Street, London, or call +44 20 7946 0958.",
    "db password=Winter2024! api_key=sk_live_abcdefghijklmnopqrstuvwx ssn=078-05-1120",
)

_Owner = tuple[_Pending, Target, int]  # whose string a TextItem is, and its offset there


class Scrubber:
    def __init__(
        self,
        config: Config,
        *,
        environ: Mapping[str, str] | None = None,
        recognizers: Sequence[PatternRecognizer] | None = None,
        token_sink: TokenSink | None = None,
        detection_of: Scrubber | None = None,
        finds_skipped: bool = False,
    ) -> None:
        """`token_sink` takes the `vault` operator's values (the command that needs a vault
        opens it: `scrubber.vault.recorder.scrubber_for`); it is flushed once per batch.
        `detection_of`: an engine whose detection settings (`detection_key`: all but the score
        threshold and skipped types, which each engine applies itself) equal this config's
        lends its detector, and with it the cache of every string it has scanned (a shadow
        policy that changes only operators or those filters then costs no second detection),
        if it looks for every type this one reports: `finds_skipped` builds a detector that
        does (a shadow's, to lend to engines that skip fewer: `Detector`)."""
        self.config = config
        self.config_hash = config.digest()
        self.detection_key = detection_key(config)
        self.token_sink = token_sink
        self.policy = Policy(config.policy, load_keys(config, environ), token_sink)
        detection = config.detection
        self._warm = False
        self._detection: DetectionParts
        lent = None
        # An engine built to lend to engines that skip fewer types borrows only a detector
        # that finds every type (one that skips some would leave those borrowers without).
        if (
            detection_of is not None
            and detection_of.detection_key == self.detection_key
            and not (finds_skipped and detection_of._detection.detector.unscanned)
        ):
            lent = detection_of._detection.lent_to(config)
            self._warm = detection_of._warm and lent is not None
        self._detection = lent or DetectionParts.build(config, recognizers, finds_skipped)
        self.detector, self._scoped = self._detection.detector, self._detection.scoped
        self.plugins, self._propagator = self._detection.plugins, self._detection.propagator
        self._wanted = frozenset(detection.entities)
        self._allow = frozenset(detection.allow_list)
        self._structured = detection.structured_text
        self._has_rules = bool(config.policy.fields)

    def warm_up(self, *, freeze: bool = True) -> None:
        """Pay the first detection's cost (word lists, phone metadata, spaCy's first documents:
        ~0.5 s) now, not on the first records, then move every object alive so far (model,
        lists, compiled patterns) out of the garbage collector's reach: full collections
        scanned them all, 90-130 ms pauses every few thousand records. Detection only:
        nothing is transformed, tokenised or stored. `freeze=False` for an engine built
        beside running ones (a config reload): it may be dropped again, so is not frozen. A
        detector lent by a warm engine is warm already: not used here (it may be serving
        another thread's batch)."""
        if not self._warm:
            self.detect_texts(_WARM_UP_TEXTS)
            self._warm = True
        if freeze:
            gc.collect()
            gc.freeze()

    def _enabled(self, entity_type: str) -> bool:
        return not self._wanted or entity_type in self._wanted

    def scrub_text(self, text: str) -> str:
        return self.scrub_batch([text], "text")[0].output

    def scrub_batch(
        self,
        records: Sequence[bytes | str],
        fmt: Format = "auto",
        scope: str = DEFAULT_SCOPE,
        key_blocks: Sequence[Window | None] | None = None,
    ) -> list[RecordResult]:
        """Scrub many records at once; NER runs once over the batch's free text. Keyed operators
        (hash, token, vault) derive their keys for `scope`: tokens of one scope are not those of
        another. `key_blocks` (from the source's `KeyBlocks`) says which part of each record
        lies inside a private key logged line by line: its base64 runs are secrets."""
        policy = self.policy.scoped(scope)
        limits = self.config.limits
        pending: list[_Pending] = []
        windows = key_blocks if key_blocks is not None else [None] * len(records)
        for raw, window in zip(records, windows, strict=True):
            head = raw[:1]
            looks_json = fmt == "json" or head in ("{", "[", b"{", b"[")
            try:
                record = _Pending(parse(raw, fmt, limits.max_record_bytes), looks_json, policy)
            except RecordRejected as rejected:
                record = _Pending(None, looks_json, policy, rejected.reason)
            record.key_window = window
            pending.append(record)
        self._scrub_object_keys(pending, policy)
        self._plan(pending)
        for record in pending:
            if record.reason is None:
                self._render(record)
        results = [self._result(record, fmt) for record in pending]
        unstored = self.token_sink.flush() if self.token_sink is not None else frozenset()
        if unstored:  # fail closed: no token leaves that the vault cannot resolve
            for index, record in enumerate(pending):
                if any(token in results[index].output for token in unstored):
                    record.reason = Reason.VAULT_UNAVAILABLE
                    results[index] = self._result(record, fmt)
        return results

    def detect_texts(self, texts: Sequence[str]) -> list[list[Finding] | Reason]:
        """What `scrub_batch` would replace in each plain-text string (key hints and mentions
        of found values included), as findings on the string, for evaluation."""
        policy = self.policy.scoped(DEFAULT_SCOPE)
        pending = [_Pending(ParsedRecord(text), False, policy) for text in texts]
        self._plan(pending)
        return [
            record.reason if record.reason is not None else list(record.targets[0].spans)
            for record in pending
        ]

    def _scrub_object_keys(self, pending: list[_Pending], policy: ScopedPolicy) -> None:
        """Keys before values, so paths, field rules and findings see scrubbed key names."""
        depth = self.config.limits.max_json_depth
        slots = [
            slot
            for record in pending
            if record.parsed is not None and record.parsed.document is not None
            for slot in key_slots(record.parsed.document, depth, record)
        ]
        renamed, failed = scrub_keys(slots, self._detect, policy)
        for slot, replacements in renamed:
            record = slot.owner
            record.report(replacements)
            record.key_values = record.key_values + [
                (slot.key[r.start : r.end], r.entity_type) for r in replacements
            ]
            record.changed = True
        for slot, reason in failed:
            slot.owner.reason = slot.owner.reason or reason

    def _plan(self, pending: list[_Pending]) -> None:
        """Every record's spans: decided fields, one detection pass over the batch, then the
        other mentions of what was found."""
        items: list[TextItem] = []
        owners: list[_Owner] = []
        for record in pending:
            if record.reason is None:
                try:
                    self._collect(record, items, owners)
                except RecordRejected as rejected:
                    record.reason = rejected.reason
        for (record, target, offset), found in zip(owners, self._detect(items), strict=True):
            if record.reason is not None:
                continue
            if isinstance(found, Reason):
                record.reason = found
                continue
            target.add(found if offset == 0 else shifted(found, offset))
        if self._scoped:
            self._scoped.add_findings(owners)
        if self.plugins:
            self.plugins.add_findings(items, owners)
        propagator = self._propagator
        for record in pending:
            if record.reason is None:
                anything = bool(record.key_values)
                for target in record.targets:
                    if target.spans:
                        target.settle()
                        anything = True
                if anything and propagator is not None:
                    propagator.propagate(record.targets, record.key_values)
                if record.key_window is not None:
                    _add_key_body(record, record.key_window)

    def _detect(self, items: Sequence[TextItem]) -> list[list[Finding] | Reason]:
        return self.detector.detect_batch(items, self._detection.filters)

    def _collect(self, record: _Pending, items: list[TextItem], owners: list[_Owner]) -> None:
        parsed = record.parsed
        assert parsed is not None
        if parsed.document is None:
            self._collect_text(record, parsed.text, items, owners)
            return
        for leaf in leaves(parsed.document, self.config.limits.max_json_depth):
            # A key we scrubbed (`<EMAIL_ADDRESS>`) names a person, not what its value is.
            key = None if scrubbed_key(leaf.key) else leaf.key
            decided = self._decide(record.policy, leaf.path, key, leaf.text)
            if decided is not None:  # not scanned, and no mention is looked for in it
                target = Target(leaf.text, leaf, searchable=False)
                record.targets.append(target)
                if isinstance(decided, Span):
                    target.add([decided])
                continue
            if not leaf.scannable:
                continue
            target = Target(leaf.text, leaf, searchable=not leaf.is_number)
            record.targets.append(target)
            free = not leaf.is_number and (
                leaf.key.lower() in FREE_TEXT_KEYS or looks_like_free_text(leaf.text)
            )
            items.append(TextItem(leaf.text, free))
            owners.append((record, target, 0))

    def _collect_text(
        self, record: _Pending, text: str, items: list[TextItem], owners: list[_Owner]
    ) -> None:
        """The whole text is scanned as before; a structured line's slots also get field rules
        and key hints, and values that may be prose or a bare name are read on their own."""
        target = Target(text)
        record.targets.append(target)
        items.append(TextItem(text, looks_like_free_text(text)))
        owners.append((record, target, 0))
        slots = text_slots(text) if self._structured else []
        if not slots:
            return
        target.layout = layout = Layout(slots)
        decided: list[tuple[int, int]] = []
        for slot in slots:  # outer before inner: a decided slot decides what it holds
            if decided and inside(slot.start, slot.end, decided):
                continue
            value = text[slot.start : slot.end]
            decision = None
            if self._has_rules or slot.hint is not None or hint_for_path(slot.path, slot.key):
                decision = self._decide(record.policy, slot.path, slot.key, value, slot)
            if decision == _KEEP:
                layout.kept.append((slot.start, slot.end))
            elif isinstance(decision, Span):
                target.add([decision])
            elif self._alone(slot, value):
                free = slot.key.lower() in NAME_KEYS or looks_like_free_text(value)
                items.append(TextItem(value, free))
                owners.append((record, target, slot.start))
                continue
            else:
                continue
            decided.append((slot.start, slot.end))

    @staticmethod
    def _alone(slot: Slot, value: str) -> bool:
        """Is a slot's value worth reading on its own (beside the whole line)? A name key's
        value if it has a capital (what the bare-name pass needs: `jdoe` has none), a prose
        key's or any quoted value if it has words (`msg="user jane failed"`)."""
        key = slot.key.lower()
        if key in NAME_KEYS:
            return not value.islower() and any(c.isalpha() for c in value)
        return (key in FREE_TEXT_KEYS or slot.quoting in ("dquote", "sd")) and " " in value.strip()

    def _decide(
        self, policy: ScopedPolicy, path: str, key: str | None, value: str, slot: Slot | None = None
    ) -> Span | str | None:
        """A field rule or key hint on a whole value: a span over it, `_KEEP`, or None (scan).
        In text, a hint decides only a field-like value (not a sentence, not our placeholder,
        not allow-listed), and any other than SECRET lets a more precise finding name the type."""
        start = 0 if slot is None else slot.start
        end = start + len(value)
        rule = policy.rule_for_path(path) if self._has_rules else None
        if rule is not None:
            return _KEEP if rule.keep else span(start, end, "FIELD", FIELD_SCORE, rule.action)
        hint = hint_for_path(path, key) if key else None
        if slot is not None:
            hint = hint or slot.hint
            if not slot.scalar or value in self._allow or PLACEHOLDER_PATTERN.fullmatch(value):
                return None
        if hint is None or not self._enabled(hint) or not value_is_sensitive(value, hint, key):
            return None
        score = SECRET_HINT_SCORE if hint == "SECRET" or slot is None else HINT_SCORE
        return span(start, end, hint, score)

    def _render(self, record: _Pending) -> None:
        """Write every span with the policy's operators: one output per value in the record."""
        parsed = record.parsed
        assert parsed is not None
        outputs = Outputs(record.policy)
        for target in record.targets:
            if not target.spans:
                continue
            scrubbed, replacements = render(target, outputs)
            record.report(replacements)
            if target.leaf is None:
                if scrubbed != parsed.text:
                    parsed.text = scrubbed
                    record.changed = True
            elif scrubbed != target.text or target.leaf.is_number:
                target.leaf.write(scrubbed)
                record.changed = True

    def _result(self, record: _Pending, fmt: Format) -> RecordResult:
        if record.reason is not None or record.parsed is None:
            reason = record.reason or Reason.DETECTION_ERROR
            as_json = record.looks_json and (
                record.parsed is None or record.parsed.document is not None or fmt == "json"
            )
            return RecordResult(placeholder_for(reason, as_json), Outcome.QUARANTINED, reason)
        parsed = record.parsed
        output = encode(parsed) if record.changed and parsed.document is not None else parsed.text
        return RecordResult(
            output, Outcome.OK, None, dict(record.counts), list(record.replacements)
        )


def _add_key_body(record: _Pending, window: Window) -> None:
    """Every base64 run inside the block is key material. The window is on the record's text;
    a JSON record inside a block has all its strings read whole."""
    text_record = record.parsed is not None and record.parsed.document is None
    for target in record.targets:
        if not target.searchable:
            continue  # a field rule already decided this string
        spans = body_spans(target.text, window if text_record else (0, -1))
        if spans:  # after settle: a body line is no `key=value` pair to keep the key of
            found = [Finding(s, e, "SECRET", 1.0, "private_key_block") for s, e in spans]
            target.spans = merge_spans(target.spans + found)
