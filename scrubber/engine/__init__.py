"""The pure core: detect, decide, transform. `Scrubber` is its face."""

from scrubber.engine.scrub import Scrubber

__all__ = ["Scrubber"]
