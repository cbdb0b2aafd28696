"""Part sizes for scrubbing a large batch within the engine-time budget (at-least-once)."""

from __future__ import annotations

from scrubber.pipeline.batches import SMALLEST_PART, ScrubPace


def test_before_any_measure_and_with_no_budget_a_batch_is_one_part() -> None:
    assert ScrubPace(50).part_size(500) == 500
    unbudgeted = ScrubPace(0)
    unbudgeted.observe(500, 0.25)
    assert unbudgeted.part_size(500) == 500


def test_parts_hold_what_the_engine_does_in_the_budget_split_evenly() -> None:
    pace = ScrubPace(50)
    pace.observe(500, 0.25)  # 0.5 ms a record: 100 records in 50 ms
    assert pace.part_size(500) == 100
    assert pace.part_size(450) == 90  # five even parts, not four of 100 and one of 50
    assert pace.part_size(60) == 60


def test_a_slow_engine_gives_small_parts_but_never_below_the_smallest() -> None:
    pace = ScrubPace(50)
    pace.observe(10, 1.0)  # 100 ms a record
    assert pace.part_size(500) == 500 // (500 // SMALLEST_PART)


def test_one_record_batches_weigh_little_beside_full_parts() -> None:
    pace = ScrubPace(50)
    pace.observe(500, 0.25)
    for _ in range(5):
        pace.observe(1, 0.002)  # a lone record costs 4x per record
    assert 80 <= pace.part_size(500) <= 100
