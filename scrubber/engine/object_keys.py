"""JSON object keys are scanned like values: `{"jane@example.com": {...}}` must not pass.

Keys are scanned before the values, for every record of a batch in one detection call, so the
values' field paths (and field rules, key hints, findings) see the scrubbed key names. Only keys
that could hold a value are sent to detection: a key made of letters, `_` and `-` alone (`user`,
`firstName`, `x-request-id`) is a field name, and a batch of such keys costs nothing.

A renamed key keeps its position in the object. Two keys that scrub to the same name (two
addresses both `<EMAIL_ADDRESS>`) stay two: the second gets `#2`, so nothing is lost.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from recognizers.base import Finding
from scrubber.engine.detection import TextItem
from scrubber.engine.policy import ScopedPolicy
from scrubber.models import Reason, Replacement
from scrubber.operators import PLACEHOLDER_PATTERN

FIELD_NAME = re.compile(r"[A-Za-z_-]*")


@dataclass(slots=True)
class KeySlot:
    """A key worth scanning, in `container`, whose own path is `parent` + key."""

    container: dict[str, Any]
    key: str
    parent: KeySlot | None  # the key holding `container`, None at the top
    owner: Any = None  # the record it belongs to (the engine's bookkeeping)
    new_key: str | None = None

    @property
    def name(self) -> str:
        return self.key if self.new_key is None else self.new_key


def _path(slot: KeySlot | None) -> str:
    parts: list[str] = []
    while slot is not None:
        parts.append(slot.name)
        slot = slot.parent
    return ".".join(reversed(parts))


def key_slots(document: Any, max_depth: int, owner: Any) -> Iterator[KeySlot]:
    """Every key of every object, depth-first; `parent` chains name the path. Deeper than
    `max_depth` is not walked (the value pass rejects such a record)."""
    stack: list[tuple[Any, KeySlot | None, int]] = [(document, None, 1)]
    while stack:
        node, parent, depth = stack.pop()
        if depth > max_depth:
            continue
        if isinstance(node, list):
            stack.extend((child, parent, depth + 1) for child in node)
            continue
        if not isinstance(node, dict):
            continue
        for key, value in node.items():
            slot = KeySlot(node, key, parent, owner)
            yield slot
            if isinstance(value, dict | list):
                stack.append((value, slot, depth + 1))


def scrubbed_key(key: str) -> bool:
    """A key that is one of our replacements (with its `#n` if two collided)."""
    return key[:1] in "<[" and PLACEHOLDER_PATTERN.fullmatch(key.split("#", 1)[0]) is not None


def worth_scanning(key: str) -> bool:
    return len(key) >= 3 and FIELD_NAME.fullmatch(key) is None


def scrub_keys(
    slots: list[KeySlot],
    detect: Callable[[list[TextItem]], list[list[Finding] | Reason]],
    policy: ScopedPolicy,
) -> tuple[list[tuple[KeySlot, list[Replacement]]], list[tuple[KeySlot, Reason]]]:
    """Rename the keys that hold findings. Returns the replacements per renamed slot, and the
    slots whose scan failed (their records fail closed)."""
    wanted = [slot for slot in slots if worth_scanning(slot.key)]
    if not wanted:
        return [], []
    found_all = detect([TextItem(slot.key, False) for slot in wanted])
    renamed: list[tuple[KeySlot, list[Finding]]] = []
    failed: list[tuple[KeySlot, Reason]] = []
    for slot, found in zip(wanted, found_all, strict=True):
        if isinstance(found, Reason):
            failed.append((slot, found))
        elif found:
            renamed.append((slot, found))
    done = []
    for slot, found in renamed:
        pieces, cursor, operators = [], 0, []
        for finding in found:
            action = policy.action_for(finding.entity_type)
            pieces += [
                slot.key[cursor : finding.start],
                action.transform(slot.key[finding.start : finding.end], finding.entity_type),
            ]
            operators.append(action.operator)
            cursor = finding.end
        slot.new_key = "".join([*pieces, slot.key[cursor:]])
        done.append((slot, found, operators))
    for slot, _, _ in done:  # rename in place, keeping order; never merge two keys into one
        _rename(slot)
    replacements = [
        (slot, [Replacement(_path(slot), f.start, f.end, f.entity_type, operator)
                for f, operator in zip(found, operators, strict=True)])
        for slot, found, operators in done
    ]  # fmt: skip
    return replacements, failed


def _rename(slot: KeySlot) -> None:
    container, old = slot.container, slot.key
    new = slot.name
    taken = set(container) - {old}
    candidate, n = new, 1
    while candidate in taken:
        n += 1
        candidate = f"{new}#{n}"
    slot.new_key = candidate
    items = [(candidate if key == old else key, value) for key, value in container.items()]
    container.clear()
    container.update(items)
