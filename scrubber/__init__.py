"""Scrubber: streaming PII scrubbing. The engine is `scrubber.engine.Scrubber`."""

__version__ = "0.1.0"
