"""Which offset is safe to commit: the lowest one not yet delivered.

Records of a partition are produced in order but delivered (acknowledged) when the broker says
so; a failed delivery is retried. Committing offset N tells the group "everything below N is
done", so the committable offset is the lowest offset still in flight, or one past the highest
offset seen when nothing is in flight. A hole (a record not yet delivered) holds the commit back
until it is filled; it is never skipped.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field


@dataclass
class PartitionOffsets:
    _pending: list[int] = field(default_factory=list)  # min-heap of offsets in flight
    _done: set[int] = field(default_factory=set)  # delivered, but not at the heap's top yet
    _next: int | None = None  # one past the highest offset tracked
    _committed: int | None = None

    def track(self, offset: int) -> None:
        heapq.heappush(self._pending, offset)
        self._next = offset + 1 if self._next is None else max(self._next, offset + 1)

    def delivered(self, offset: int) -> None:
        self._done.add(offset)
        while self._pending and self._pending[0] in self._done:
            self._done.discard(heapq.heappop(self._pending))

    @property
    def in_flight(self) -> int:
        return len(self._pending)

    def committable(self) -> int | None:
        """The offset to commit now, or None if nothing new is safe to commit."""
        target = self._pending[0] if self._pending else self._next
        if target is None or target == self._committed:
            return None
        return target

    def mark_committed(self, offset: int) -> None:
        self._committed = offset


class OffsetTracker:
    """PartitionOffsets per (topic, partition) of the current assignment."""

    def __init__(self) -> None:
        self._partitions: dict[tuple[str, int], PartitionOffsets] = {}

    def track(self, topic: str, partition: int, offset: int) -> None:
        self._partitions.setdefault((topic, partition), PartitionOffsets()).track(offset)

    def delivered(self, topic: str, partition: int, offset: int) -> None:
        tracked = self._partitions.get((topic, partition))
        if tracked is not None:  # a partition revoked meanwhile is no longer ours to commit
            tracked.delivered(offset)

    def committable(self, only: set[tuple[str, int]] | None = None) -> dict[tuple[str, int], int]:
        out = {}
        for key, tracked in self._partitions.items():
            if only is not None and key not in only:
                continue
            offset = tracked.committable()
            if offset is not None:
                out[key] = offset
        return out

    def mark_committed(self, offsets: dict[tuple[str, int], int]) -> None:
        for key, offset in offsets.items():
            if key in self._partitions:
                self._partitions[key].mark_committed(offset)

    def forget(self, partitions: set[tuple[str, int]]) -> None:
        for key in partitions:
            self._partitions.pop(key, None)

    @property
    def in_flight(self) -> int:
        return sum(p.in_flight for p in self._partitions.values())
