from __future__ import annotations

from scrubber.pipeline.offsets import OffsetTracker, PartitionOffsets


def test_commit_waits_for_the_lowest_undelivered_offset() -> None:
    offsets = PartitionOffsets()
    for n in (10, 11, 12, 13):
        offsets.track(n)
    assert offsets.committable() == 10
    offsets.delivered(11)
    offsets.delivered(13)
    assert offsets.committable() == 10  # 10 is a hole: never skipped
    offsets.delivered(10)
    assert offsets.committable() == 12
    offsets.delivered(12)
    assert offsets.committable() == 14
    offsets.mark_committed(14)
    assert offsets.committable() is None


def test_tracker_forgets_revoked_partitions_and_ignores_late_deliveries() -> None:
    tracker = OffsetTracker()
    tracker.track("t", 0, 5)
    tracker.track("t", 1, 7)
    tracker.delivered("t", 0, 5)
    assert tracker.committable() == {("t", 0): 6, ("t", 1): 7}
    tracker.forget({("t", 1)})
    tracker.delivered("t", 1, 7)
    assert tracker.committable() == {("t", 0): 6}
    assert tracker.committable(only={("t", 9)}) == {}
