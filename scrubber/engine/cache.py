"""A bounded least-recently-used cache of detection results for repeated strings.

Log templates, system prompts and enum-like values repeat; their findings do not change while the
engine (and so the policy) stays the same, so they are computed once. Memory is bounded by both
the number of entries and the characters held.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

V = TypeVar("V")


class BoundedCache(Generic[V]):
    def __init__(self, max_entries: int, max_chars: int, max_key_chars: int = 4096) -> None:
        self._entries: OrderedDict[tuple[str, bool], V] = OrderedDict()
        self._max_entries = max_entries
        self._max_chars = max_chars
        self._max_key_chars = max_key_chars
        self._chars = 0
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[str, bool]) -> V | None:
        value = self._entries.get(key)
        if value is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return value

    def put(self, key: tuple[str, bool], value: V) -> None:
        if self._max_entries == 0 or len(key[0]) > self._max_key_chars or key in self._entries:
            return
        self._entries[key] = value
        self._chars += len(key[0])
        while len(self._entries) > self._max_entries or self._chars > self._max_chars:
            evicted, _ = self._entries.popitem(last=False)
            self._chars -= len(evicted[0])

    def __len__(self) -> int:
        return len(self._entries)
