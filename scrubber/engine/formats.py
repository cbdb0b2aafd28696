"""Record formats: decode bytes, find the strings to scan, put the scrubbed record back together.

Text is one string. JSON is walked to every string and long number at any depth (arrays
included), keeping keys, order and structure; each leaf knows its dotted field path (array
indices are transparent, so `messages.content` names every message's content).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from scrubber.errors import RecordRejected
from scrubber.models import Format, Reason

JsonContainer = dict[str, Any] | list[Any]

# Numbers with this many digits could be a card, phone or account number, so they are scanned.
MIN_SCANNED_NUMBER_DIGITS = 7


@dataclass(slots=True)
class Leaf:
    """A scannable value inside a JSON document, and where to write its replacement."""

    path: str
    key: str
    container: JsonContainer
    slot: str | int
    text: str
    is_number: bool

    @property
    def scannable(self) -> bool:
        """Strings, and numbers long enough to be a card, phone or account number."""
        if not self.is_number:
            return True
        return sum(c.isdigit() for c in self.text) >= MIN_SCANNED_NUMBER_DIGITS

    def write(self, value: str) -> None:
        if isinstance(self.container, dict):
            self.container[str(self.slot)] = value
        else:
            self.container[int(self.slot)] = value


@dataclass(slots=True)
class ParsedRecord:
    """Either plain text, or a JSON document (`document`) with its leaves."""

    text: str
    document: JsonContainer | None = None
    compact: bool = False


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


# One decoder for every record: `json.loads` with an argument builds a new one per call (~4 us).
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def decode(raw: bytes | str, max_bytes: int) -> str:
    if isinstance(raw, str):
        try:
            size = len(raw.encode("utf-8"))  # strict: lone surrogates are not text
        except UnicodeEncodeError:
            raise RecordRejected(Reason.INVALID_UTF8) from None
        if size > max_bytes:
            raise RecordRejected(Reason.TOO_LARGE)
        return raw
    if len(raw) > max_bytes:
        raise RecordRejected(Reason.TOO_LARGE)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RecordRejected(Reason.INVALID_UTF8) from None


def parse(raw: bytes | str, fmt: Format, max_bytes: int) -> ParsedRecord:
    """Decode and parse one record; RecordRejected carries the reason when it cannot be."""
    text = decode(raw, max_bytes)
    stripped = text.lstrip()
    maybe_json = stripped[:1] in ("{", "[")
    if fmt == "text" or (fmt == "auto" and not maybe_json):
        return ParsedRecord(text)
    try:
        document = _DECODER.decode(text)
    except RecursionError:
        raise RecordRejected(Reason.TOO_DEEP) from None
    except ValueError:
        if fmt == "json":
            raise RecordRejected(Reason.MALFORMED_JSON) from None
        return ParsedRecord(text)
    if not isinstance(document, dict | list):
        if fmt == "json":
            raise RecordRejected(Reason.MALFORMED_JSON)
        return ParsedRecord(text)
    return ParsedRecord(text, document, compact='": ' not in text and '", ' not in text)


def leaves(document: JsonContainer, max_depth: int) -> Iterator[Leaf]:
    """Every string and number in the document, depth-first, in document order."""
    stack: list[tuple[JsonContainer, str, int]] = [(document, "", 1)]
    while stack:
        container, path, depth = stack.pop()
        if depth > max_depth:
            raise RecordRejected(Reason.TOO_DEEP)
        items = (
            list(container.items()) if isinstance(container, dict) else list(enumerate(container))
        )
        children: list[tuple[JsonContainer, str, int]] = []
        for slot, value in items:
            key = slot if isinstance(slot, str) else ""
            child_path = f"{path}.{key}" if path and key else (key or path)
            if isinstance(value, dict | list):
                children.append((value, child_path, depth + 1))
            elif isinstance(value, str):
                yield Leaf(child_path, key, container, slot, value, is_number=False)
            elif isinstance(value, int | float) and not isinstance(value, bool):
                # Every number: a field rule (`*.pin: redact`) or key (`"age": 34`) applies to
                # short ones too; only long ones are scanned (see `scannable`).
                yield Leaf(child_path, key, container, slot, repr(value), is_number=True)
        stack.extend(reversed(children))


# Built once, as _DECODER: what json.dumps(document, ensure_ascii=False, separators=...) uses.
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_SPACED = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": "))


def encode(record: ParsedRecord) -> str:
    """The record as one line: JSON stays JSON (same separators style as it came in)."""
    if record.document is None:
        return record.text
    return (_COMPACT if record.compact else _SPACED).encode(record.document)


def placeholder(reason: Reason, as_json: bool) -> str:
    """What goes out instead of a record that failed closed: the reason code, nothing else."""
    if as_json:
        return json.dumps({"scrubber_quarantined": True, "reason": reason.value})
    return f"[SCRUBBER QUARANTINED reason={reason.value}]"
