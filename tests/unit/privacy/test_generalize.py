"""The generalization ladder: each step hides more, classes only merge, the top is "*"."""

from __future__ import annotations

from typing import Any

import pytest

from scrubber.privacy.generalize import STAR, coarsen, coarser


@pytest.mark.parametrize(
    ("value", "ladder"),
    [
        (34, ["30-39", "0-99", STAR]),
        ("34", ["30-39", "0-99", STAR]),  # logfmt values are text
        (7, ["0-9", STAR]),
        (34.9, ["30-39", "0-99", STAR]),
        ("30-39", ["0-99", STAR]),  # the generalize operator's band
        ("30-34", ["0-49", STAR]),
        ("90+", [STAR]),
        ("94110", ["94***", "9****", STAR]),  # a postcode: half the visible prefix
        ("941**", ["9****", STAR]),  # the operator's prefix, shortened further
        ("female", ["fem***", "f*****", STAR]),
        ("1985", ["19**", "1***", STAR]),
        (94110, ["94110-94119", "94100-94199", "94000-94999", "90000-99999", "0-99999", STAR]),
        (True, [STAR]),
        (-4, [STAR]),
        ({"a": 1}, [STAR]),
        ([1, 2], [STAR]),
    ],
)
def test_each_step_up_the_ladder(value: Any, ladder: list[Any]) -> None:
    assert [coarsen(value, step) for step in range(1, len(ladder) + 1)] == ladder
    assert coarsen(value, len(ladder) + 3) == STAR  # the top stays the top
    assert coarsen(value, 0) == value


@pytest.mark.parametrize("value", [None, "", STAR])
def test_nothing_to_hide_stays(value: Any) -> None:
    assert coarser(value) == value


@pytest.mark.parametrize("value", [0, 5, 34, 99, 100, 123, "007", "55-60", "120-129"])
def test_a_band_holds_the_value_it_came_from(value: Any) -> None:
    band = coarser(value)
    low, high = (int(part) for part in band.split("-"))
    number = int(value) if not isinstance(value, str) or "-" not in value else None
    if number is not None:
        assert low <= number <= high
    else:
        old_low, old_high = (int(part) for part in value.split("-"))
        assert low <= old_low <= old_high <= high
