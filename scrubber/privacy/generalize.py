"""One step coarser: the ladder `on_breach: generalize` climbs for a quasi-identifier's value.

    numbers          34 -> "30-39" -> "0-99" -> "*"          (a band ten times wider each step)
    bands            "30-34" -> "0-49" -> "*"; "90+" -> "*"  (the `generalize` operator's output)
    short digit text "34" as 34 (logfmt values are text; the operator reads them so too)
    other text       "94110" -> "94***" -> "9****" -> "*"    (half the visible prefix each step)
    true/false, objects, arrays, negative numbers -> "*"; null, "" and "*" stay

A value at step n is `coarsen(value, n)`: a function of the value alone, so records that were in
one class stay in one class, and classes only merge as the steps go up. Every step but the last
hides something: the result is never the value it was given (only null, "" and "*" are kept).
"""

from __future__ import annotations

import math
import re
from typing import Any

STAR = "*"  # matches every value: the top of every ladder
_BAND = re.compile(r"(\d{1,9})-(\d{1,9})")
_OPEN_TOP = re.compile(r"\d{1,9}\+")
MAX_SHORT_NUMBER_DIGITS = 3  # as the `generalize` operator: longer digit strings are codes


def coarsen(value: Any, steps: int) -> Any:
    """`value` `steps` steps up its ladder (0: unchanged)."""
    for _ in range(steps):
        value = coarser(value)
    return value


def coarser(value: Any) -> Any:
    """One step up the ladder (see the module docstring)."""
    if value is None or value in ("", STAR):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return STAR
    if isinstance(value, int | float):
        if not math.isfinite(value) or value < 0:
            return STAR
        return _wider(int(value), int(value), 1)
    if value.isdigit() and len(value) <= MAX_SHORT_NUMBER_DIGITS:
        return _wider(int(value), int(value), 1)
    band = _BAND.fullmatch(value)
    if band is not None and int(band[1]) <= int(band[2]):
        low, high = int(band[1]), int(band[2])
        return _wider(low, high, high - low + 1)
    if _OPEN_TOP.fullmatch(value):
        return STAR
    return _shorter(value)


def _wider(low: int, high: int, width: int) -> str:
    """A band ten times `width` holding [low, high]; past a band that starts at 0, "*"."""
    if low == 0 and width > 1:
        return STAR
    wider = width * 10
    start = low - low % wider
    while start + wider - 1 < high:  # a band not aligned to its width (`55-60`)
        wider *= 10
        start = low - low % wider
    return f"{start}-{start + wider - 1}"


def _shorter(text: str) -> str:
    """Half the visible prefix kept, the rest starred (the length stays, as the operator's
    `941**` does); nothing left visible: "*"."""
    visible = len(text.rstrip(STAR))
    keep = visible // 2
    if keep == 0:
        return STAR
    return text[:keep] + STAR * (len(text) - keep)
