"""The Scrubber: built once from config, then `scrub_batch` over records.

decode -> walk -> (field rules | key hints | detection) -> operators -> encode. Every record comes
back as a `RecordResult` whose output is safe to emit: scrubbed, or a placeholder with a reason.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from recognizers import default_recognizers
from recognizers.base import Finding, PatternRecognizer
from recognizers.fields import hint_for_path, value_is_sensitive
from recognizers.proper_nouns import ProperNounRecognizer
from scrubber.config import Config
from scrubber.engine.detection import Detector, TextItem, looks_like_free_text
from scrubber.engine.formats import Leaf, ParsedRecord, encode, leaves, parse
from scrubber.engine.formats import placeholder as placeholder_for
from scrubber.engine.keys import load_keys
from scrubber.engine.ner import NerDetector
from scrubber.engine.object_keys import key_slots, scrub_keys, scrubbed_key
from scrubber.engine.policy import Action, Policy, ScopedPolicy
from scrubber.errors import RecordRejected
from scrubber.models import Format, Outcome, Reason, RecordResult, Replacement
from scrubber.operators import DEFAULT_SCOPE, TokenSink

# JSON keys whose string values are prose: always worth NER, whatever their shape.
FREE_TEXT_KEYS = frozenset(
    {"message", "msg", "content", "text", "body", "prompt", "input", "description", "comment",
     "comments", "note", "notes", "summary", "subject", "query", "question", "answer", "log"}
)  # fmt: skip


@dataclass(slots=True)
class _Pending:
    """A record between parse and encode."""

    parsed: ParsedRecord | None
    looks_json: bool
    policy: ScopedPolicy
    reason: Reason | None = None
    counts: Counter[str] = field(default_factory=Counter)
    changed: bool = False
    replacements: list[Replacement] = field(default_factory=list)


class Scrubber:
    def __init__(
        self,
        config: Config,
        *,
        environ: Mapping[str, str] | None = None,
        recognizers: Sequence[PatternRecognizer] | None = None,
        token_sink: TokenSink | None = None,
    ) -> None:
        """`token_sink` takes the `vault` operator's values (the command that needs a vault
        opens it: `scrubber.vault.recorder.scrubber_for`); it is flushed once per batch."""
        self.config = config
        self.config_hash = config.digest()
        self.token_sink = token_sink
        self.policy = Policy(config.policy, load_keys(config, environ), token_sink)
        detection = config.detection
        ner = None
        if detection.ner.enabled:
            extra = ("DATE_TIME",) if detection.redact_timestamps else ()
            ner = NerDetector(detection.ner, extra)
        self.detector = Detector(
            default_recognizers() if recognizers is None else recognizers,
            detection,
            config.limits,
            ner,
            ProperNounRecognizer() if detection.proper_nouns else None,
        )
        self._wanted = frozenset(detection.entities)

    def _enabled(self, entity_type: str) -> bool:
        return not self._wanted or entity_type in self._wanted

    def scrub_text(self, text: str) -> str:
        return self.scrub_batch([text], "text")[0].output

    def scrub_batch(
        self, records: Sequence[bytes | str], fmt: Format = "auto", scope: str = DEFAULT_SCOPE
    ) -> list[RecordResult]:
        """Scrub many records at once; NER runs once over the batch's free text. Keyed operators
        (hash, token, vault) derive their keys for `scope`: tokens of one scope are not those of
        another."""
        policy = self.policy.scoped(scope)
        limits = self.config.limits
        pending: list[_Pending] = []
        items: list[TextItem] = []
        owners: list[tuple[_Pending, Leaf | None]] = []
        for raw in records:
            head = raw[:1]
            looks_json = fmt == "json" or head in ("{", "[", b"{", b"[")
            try:
                record = _Pending(parse(raw, fmt, limits.max_record_bytes), looks_json, policy)
            except RecordRejected as rejected:
                record = _Pending(None, looks_json, policy, rejected.reason)
            pending.append(record)
        self._scrub_object_keys(pending, policy)
        for record in pending:
            if record.reason is None:
                try:
                    self._collect(record, items, owners)
                except RecordRejected as rejected:
                    record.reason = rejected.reason
        for (record, leaf), found in zip(owners, self.detector.detect_batch(items), strict=True):
            if record.reason is not None:
                continue
            if isinstance(found, Reason):
                record.reason = found
                continue
            if found:
                self._apply(record, leaf, found)
        results = [self._result(record, fmt) for record in pending]
        unstored = self.token_sink.flush() if self.token_sink is not None else frozenset()
        if unstored:  # fail closed: no token leaves that the vault cannot resolve
            for index, record in enumerate(pending):
                if any(token in results[index].output for token in unstored):
                    record.reason = Reason.VAULT_UNAVAILABLE
                    results[index] = self._result(record, fmt)
        return results

    def _scrub_object_keys(self, pending: list[_Pending], policy: ScopedPolicy) -> None:
        """Keys before values, so paths, field rules and findings see scrubbed key names."""
        depth = self.config.limits.max_json_depth
        slots = [
            slot
            for record in pending
            if record.parsed is not None and record.parsed.document is not None
            for slot in key_slots(record.parsed.document, depth, record)
        ]
        renamed, failed = scrub_keys(slots, self.detector.detect_batch, policy)
        for slot, replacements in renamed:
            record = slot.owner
            record.replacements += replacements
            record.counts.update(r.entity_type for r in replacements)
            record.changed = True
        for slot, reason in failed:
            slot.owner.reason = slot.owner.reason or reason

    def _collect(
        self, record: _Pending, items: list[TextItem], owners: list[tuple[_Pending, Leaf | None]]
    ) -> None:
        parsed = record.parsed
        assert parsed is not None
        if parsed.document is None:
            items.append(TextItem(parsed.text, looks_like_free_text(parsed.text)))
            owners.append((record, None))
            return
        for leaf in leaves(parsed.document, self.config.limits.max_json_depth):
            rule = record.policy.rule_for_path(leaf.path)
            if rule is not None:
                if not rule.keep:
                    self._replace_leaf(record, leaf, "FIELD", rule.action)
                continue
            # A key we scrubbed (`<EMAIL_ADDRESS>`) names a person, not what its value is.
            hint = None if scrubbed_key(leaf.key) else hint_for_path(leaf.path, leaf.key)
            if hint is not None and self._enabled(hint) and value_is_sensitive(leaf.text):
                self._replace_leaf(record, leaf, hint, record.policy.action_for(hint))
                continue
            if not leaf.scannable:
                continue
            free = not leaf.is_number and (
                leaf.key.lower() in FREE_TEXT_KEYS or looks_like_free_text(leaf.text)
            )
            items.append(TextItem(leaf.text, free))
            owners.append((record, leaf))

    @staticmethod
    def _replace_leaf(record: _Pending, leaf: Leaf, entity_type: str, action: Action) -> None:
        """A whole field replaced without detection (a field rule or a key hint)."""
        record.replacements.append(
            Replacement(leaf.path, 0, len(leaf.text), entity_type, action.operator)
        )
        leaf.write(action.transform(leaf.text, entity_type))
        record.counts[entity_type] += 1
        record.changed = True

    def _apply(self, record: _Pending, leaf: Leaf | None, found: list[Finding]) -> None:
        assert record.parsed is not None
        text = record.parsed.text if leaf is None else leaf.text
        pieces: list[str] = []
        cursor = 0
        for finding in found:
            value = text[finding.start : finding.end]
            action = record.policy.action_for(finding.entity_type)
            pieces.append(text[cursor : finding.start])
            pieces.append(action.transform(value, finding.entity_type))
            cursor = finding.end
            record.counts[finding.entity_type] += 1
            record.replacements.append(Replacement(
                "" if leaf is None else leaf.path, finding.start, finding.end,
                finding.entity_type, action.operator,
            ))  # fmt: skip
        pieces.append(text[cursor:])
        scrubbed = "".join(pieces)
        if scrubbed == text:
            return
        record.changed = True
        if leaf is None:
            record.parsed.text = scrubbed
        else:
            leaf.write(scrubbed)

    def _result(self, record: _Pending, fmt: Format) -> RecordResult:
        if record.reason is not None or record.parsed is None:
            reason = record.reason or Reason.DETECTION_ERROR
            as_json = record.looks_json and (
                record.parsed is None or record.parsed.document is not None or fmt == "json"
            )
            return RecordResult(placeholder_for(reason, as_json), Outcome.QUARANTINED, reason)
        parsed = record.parsed
        output = encode(parsed) if record.changed and parsed.document is not None else parsed.text
        return RecordResult(output, Outcome.OK, None, dict(record.counts), record.replacements)

    def detect_texts(self, texts: Sequence[str]) -> list[list[Finding] | Reason]:
        """Findings per plain-text string (what `scrub_batch` would replace), for evaluation."""
        items = [TextItem(t, looks_like_free_text(t)) for t in texts]
        return self.detector.detect_batch(items)
