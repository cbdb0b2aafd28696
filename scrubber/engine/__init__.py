"""The pure core: detect, decide, transform. `Scrubber` is its face.

`Scrubber` is imported on first use, so that the engine's light modules (`key_blocks`, `spans`)
can be imported by the pipeline's parent process without loading spaCy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scrubber.engine.scrub import Scrubber

__all__ = ["Scrubber"]


def __getattr__(name: str) -> Any:
    if name == "Scrubber":
        from scrubber.engine.scrub import Scrubber

        return Scrubber
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
