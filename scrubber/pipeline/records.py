"""What to produce for one consumed record: pure decisions over KafkaRecord, no client inside.

OK: the scrubbed value to the route's output, with the key and the source headers (scrubbed
when the route says so) and two headers of ours, the config hash and the entity counts.
Quarantined: reason, config hash and source to the quarantine topic, the payload only if
`quarantine.include_payload`; and, if `quarantine.placeholder_to_output`, the engine's
placeholder (reason and config hash) to the output. Both keep the record's key as the output
would have it (scrubbed when the route scrubs keys), so a placeholder lands on the partition of
its key; a key that could not be scrubbed is dropped, never copied raw. A key or a header value
that cannot be scrubbed fails the whole record closed. The loop produces what these functions
return; the ledger counts it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from connectors.kafka.clients import KafkaRecord
from scrubber.config.pipeline import QuarantineConfig, RouteConfig
from scrubber.engine.key_blocks import PositionedKeyBlocks, Window
from scrubber.models import Format, Outcome, Reason, RecordResult

CONFIG_HEADER = "x-scrubber-config"
ENTITIES_HEADER = "x-scrubber-entities"
REASON_HEADER = "x-scrubber-reason"
SOURCE_HEADER = "x-scrubber-source"

Headers = tuple[tuple[str, bytes], ...]
ScrubBatch = Callable[[Sequence[bytes | str], Format], list[RecordResult]]


class ScrubValues(Protocol):
    """The engine's `scrub_batch` as the values of a batch need it: with the key-block state."""

    def __call__(
        self,
        records: Sequence[bytes | str],
        fmt: Format = "auto",
        *,
        key_blocks: Sequence[Window | None] | None = None,
    ) -> list[RecordResult]: ...


@dataclass(frozen=True, slots=True)
class Scrubbed:
    """One record's scrubbed parts. A part that failed holds the Reason instead."""

    result: RecordResult
    key: bytes | Reason | None
    headers: Headers | Reason


@dataclass(frozen=True, slots=True)
class Output:
    """One record to produce."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: Headers


@dataclass(frozen=True, slots=True)
class Shaped:
    """What one record comes to: the records to produce, why it was quarantined (None: it
    was not), and, for an OK record, its replacements counted by (entity_type, operator)."""

    outputs: tuple[Output, ...]
    reason: Reason | None = None
    entities: Counter[tuple[str, str]] = field(default_factory=Counter)


def scrub_parts(
    records: Sequence[KafkaRecord],
    route: RouteConfig,
    scrub_batch: ScrubValues,
    key_blocks: PositionedKeyBlocks | None = None,
) -> list[Scrubbed]:
    """Values in the route's format, then keys and header values as text: at most three
    engine calls for the whole batch. `key_blocks` follows private keys logged one line per
    record through each partition's values."""
    values = [r.value or b"" for r in records]
    windows = None
    if key_blocks is not None:
        windows = key_blocks.windows(values, [((r.topic, r.partition), r.offset) for r in records])
    if windows is not None and any(w is not None for w in windows):
        results = scrub_batch(values, route.format, key_blocks=windows)
    else:
        results = scrub_batch(values, route.format)
    keys = _scrub_side_values([r.key for r in records], route.scrub_keys, scrub_batch)
    headers = _scrub_headers(records, route.scrub_headers, scrub_batch)
    return [Scrubbed(*parts) for parts in zip(results, keys, headers, strict=True)]


def _scrub_side_values(
    raw: list[bytes | None], scrub: bool, scrub_batch: ScrubBatch
) -> list[bytes | Reason | None]:
    """Keys (or header values) scrubbed as text, in one engine call; None and b"" stay."""
    present = [i for i, value in enumerate(raw) if value]
    out: list[bytes | Reason | None] = list(raw)
    if not scrub or not present:
        return out
    results = scrub_batch([raw[i] or b"" for i in present], "text")
    for i, result in zip(present, results, strict=True):
        ok = result.outcome is Outcome.OK
        out[i] = result.output.encode() if ok else (result.reason or Reason.DETECTION_ERROR)
    return out


def _scrub_headers(
    records: Sequence[KafkaRecord], scrub: bool, scrub_batch: ScrubBatch
) -> list[Headers | Reason]:
    """Each record's headers in order, a None value as b""; a value that failed fails all."""
    flat = [(i, name, value) for i, r in enumerate(records) for name, value in r.headers]
    scrubbed = _scrub_side_values([value for _, _, value in flat], scrub, scrub_batch)
    out: list[list[tuple[str, bytes]] | Reason] = [[] for _ in records]
    for (i, name, _), value in zip(flat, scrubbed, strict=True):
        current = out[i]
        if isinstance(value, Reason):
            out[i] = value
        elif isinstance(current, list):
            current.append((name, value or b""))
    return [h if isinstance(h, Reason) else tuple(h) for h in out]


def needs_retry(scrubbed: Sequence[Scrubbed]) -> bool:
    """A missing vault is an outage to wait out, not a property of the record."""
    unavailable = Reason.VAULT_UNAVAILABLE
    return any(
        s.result.reason is unavailable or s.key is unavailable or s.headers is unavailable
        for s in scrubbed
    )


def shape(
    route: RouteConfig,
    record: KafkaRecord,
    scrubbed: Scrubbed,
    quarantine: QuarantineConfig,
    config_hash: str,
) -> Shaped:
    """The records to produce for one scrubbed record (see the module docstring)."""
    key, headers = scrubbed.key, scrubbed.headers
    kept_key = None if isinstance(key, Reason) else key  # never the raw key of a failed scrub
    failed = key if isinstance(key, Reason) else headers if isinstance(headers, Reason) else None
    if failed is not None:  # a key or header that cannot be scanned fails the record
        result = RecordResult("", Outcome.QUARANTINED, failed)
        return _quarantined(route, record, result, quarantine, config_hash, key=kept_key)
    assert not isinstance(headers, Reason)
    if scrubbed.result.outcome is not Outcome.OK:
        return _quarantined(route, record, scrubbed.result, quarantine, config_hash, key=kept_key)
    return _ok(route, scrubbed.result, kept_key, headers, config_hash)


def entity_counts(result: RecordResult) -> Counter[tuple[str, str]]:
    """Replacements by (entity_type, operator), each under the operator that applied it."""
    return Counter((r.entity_type, r.operator) for r in result.replacements)


def _ok(
    route: RouteConfig,
    result: RecordResult,
    key: bytes | None,
    headers: Headers,
    config_hash: str,
) -> Shaped:
    counts = json.dumps(result.entity_counts, sort_keys=True).encode()
    meta = ((CONFIG_HEADER, config_hash.encode()), (ENTITIES_HEADER, counts))
    output = Output(route.output, key, result.output.encode(), (*headers, *meta))
    return Shaped((output,), None, entity_counts(result))


def _quarantined(
    route: RouteConfig,
    record: KafkaRecord,
    result: RecordResult,
    quarantine: QuarantineConfig,
    config_hash: str,
    *,
    key: bytes | None,
) -> Shaped:
    """Metadata (and the payload only if allowed) to quarantine; a placeholder to output; both
    under the (scrubbed) key."""
    reason = result.reason or Reason.DETECTION_ERROR
    topic, partition, offset = record.where
    meta: Headers = (
        (REASON_HEADER, reason.value.encode()),
        (CONFIG_HEADER, config_hash.encode()),
        (SOURCE_HEADER, f"{topic}/{partition}/{offset}".encode()),
    )
    payload = record.value if quarantine.include_payload else None
    outputs = [Output(quarantine.topic, key, payload, meta)]
    if quarantine.placeholder_to_output and result.output:
        outputs.append(Output(route.output, key, result.output.encode(), meta[:2]))
    return Shaped(tuple(outputs), reason)


def delivered_outcome(output: Output, quarantine_topic: str) -> Literal["ok", "quarantined"] | None:
    """How a delivered record counts in records_out: None for the quarantine copy, which is
    not output; a placeholder (it carries the reason header) counts as quarantined."""
    if output.topic == quarantine_topic:
        return None
    return "quarantined" if any(name == REASON_HEADER for name, _ in output.headers) else "ok"
