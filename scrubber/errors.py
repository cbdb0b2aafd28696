"""One root error and a few subclasses named by what went wrong.

These are raised at the edges (start-up, CLI, config). Inside the pipeline a failing record is a
value (`RecordResult` with a `Reason`), never an exception that could carry the payload upward.
"""


class ScrubberError(Exception):
    """Root of every error Scrubber raises on purpose."""


class ConfigError(ScrubberError):
    """The configuration is invalid; the message names the key path and how to fix it."""


class KeyMaterialError(ScrubberError):
    """A keyed operator has no usable key (missing env var or file, too short)."""


class ModelLoadError(ScrubberError):
    """The spaCy model could not be loaded from the installed packages."""
