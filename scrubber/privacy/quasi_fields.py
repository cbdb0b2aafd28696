"""The quasi-identifier fields of one scrubbed record, read and (for `generalize`) rewritten.

A record is a JSON object (fields by dotted path, `user.address.zip`; arrays are not followed)
or a line with logfmt pairs (`age=34 zip="94110"`, fields by key). Anything else (plain text, a
JSON array or scalar, bytes that are not UTF-8) and Scrubber's quarantine placeholders have no
fields: they are skipped, counted, never classed.

A field a record lacks has the value MISSING, distinct from JSON null: a record without any of
the fields belongs to the class where every field is MISSING, as in `scrubber kanon`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import Any

from scrubber.engine.formats import ParsedRecord, encode, parse
from scrubber.engine.structured import Slot, logfmt_slots
from scrubber.errors import RecordRejected


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
MAX_RECORD_BYTES = 16 << 20  # the pipeline's own limits come first; this only stops a runaway
_PLACEHOLDER_KEY = "scrubber_quarantined"
_PLACEHOLDER_TEXT = "[SCRUBBER QUARANTINED "


@dataclass(slots=True)
class FieldRecord:
    """A record with fields: the parsed JSON object, or a logfmt line and its pairs by key."""

    parsed: ParsedRecord
    pairs: dict[str, Slot] | None = None  # logfmt only: the first pair of each key

    def value(self, path: str) -> Any:
        if self.pairs is not None:
            pair = self.pairs.get(path)
            return MISSING if pair is None else pair.value(self.parsed.text)
        current: Any = self.parsed.document
        for key in path.split("."):
            if not isinstance(current, dict) or key not in current:
                return MISSING
            current = current[key]
        return current

    def rewrite(self, paths: Sequence[str], change: Callable[[Any], Any]) -> str | None:
        """The record with `change` applied to each present field; None when nothing changed."""
        if self.pairs is not None:
            return _rewrite_pairs(self.parsed.text, self.pairs, paths, change)
        changed = False
        for path in paths:
            *parents, last = path.split(".")
            container: Any = self.parsed.document
            for key in parents:
                container = container.get(key) if isinstance(container, dict) else None
            if isinstance(container, dict) and last in container:
                new = change(container[last])
                changed |= new != container[last]
                container[last] = new
        return encode(self.parsed) if changed else None


def _rewrite_pairs(
    text: str, pairs: dict[str, Slot], paths: Sequence[str], change: Callable[[Any], Any]
) -> str | None:
    edits = []
    for path in set(paths):
        if (pair := pairs.get(path)) is not None:
            new = str(change(pair.value(text)))
            if new != pair.value(text):
                edits.append((pair.start, pair.end, new))
    # Right to left, so the earlier offsets stay valid. A coarser value is a prefix of the old
    # one plus `*`, or digits and `-`: safe bare and inside quotes alike.
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text if edits else None


def read_record(payload: bytes | str) -> FieldRecord | None:
    """The record's fields, or None when it has none (see the module docstring)."""
    try:
        parsed = parse(payload, "auto", MAX_RECORD_BYTES)
    except RecordRejected:
        return None
    document = parsed.document
    if isinstance(document, dict):
        return None if document.get(_PLACEHOLDER_KEY) is True else FieldRecord(parsed)
    if document is not None or parsed.text.startswith(_PLACEHOLDER_TEXT):
        return None
    pairs: dict[str, Slot] = {}
    for slot in logfmt_slots(parsed.text):
        pairs.setdefault(slot.key, slot)
    return FieldRecord(parsed, pairs) if pairs else None


def canonical(value: Any) -> str | None:
    """A field's value as one string for counting (None: MISSING). JSON types stay apart: 34
    and "34" are two values, as they are to whoever reads the JSON."""
    if value is MISSING:
        return None
    if type(value) is str:  # what json.dumps gives a string, without building an encoder
        return encode_basestring(value)
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
