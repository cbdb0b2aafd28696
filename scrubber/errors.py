"""Every exception Scrubber raises on purpose, in one place.

    ScrubberError              raised at the edges: start-up, CLI, config, HTTP
    ├── ConfigError            the configuration is invalid (names the key path and the fix)
    ├── KeyMaterialError       a keyed operator or a secret has no usable key
    ├── ModelLoadError         the spaCy model is not installed
    ├── VaultUnavailable       the token store cannot be reached; nothing revealed or kept
    └── AccessDenied           401 or 403 on re-identification (already audited when raised)

    RecordFailure              inside the engine, for one record or string only; turned into a
    ├── RecordRejected         `Reason` at the batch boundary, so a failing record becomes a value
    └── DetectionFailed        (a quarantined `RecordResult`), never an exception that could carry
                               the payload upward

Messages never quote a record, a value or a secret: only key paths, names and reason codes.
"""

from __future__ import annotations

from typing import Literal

from scrubber.models import Reason


class ScrubberError(Exception):
    """Root of every error Scrubber raises on purpose."""


class ConfigError(ScrubberError):
    """The configuration is invalid; the message names the key path and how to fix it."""


class KeyMaterialError(ScrubberError):
    """A keyed operator has no usable key (missing env var or file, too short)."""


class ModelLoadError(ScrubberError):
    """The spaCy model could not be loaded from the installed packages."""


class VaultUnavailable(ScrubberError):
    """The token store cannot be reached or refused the operation; nothing was revealed or kept."""


class AccessDenied(ScrubberError):
    """401 (no or unknown key) or 403 (the role may not); already audited when raised."""

    def __init__(self, status: Literal[401, 403], message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = "unauthenticated" if status == 401 else "forbidden"


class RecordFailure(Exception):
    """One record (or one string of it) cannot be scrubbed; carries only the reason code."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(reason.value)
        self.reason = reason


class RecordRejected(RecordFailure):
    """Decoding refused the record: invalid UTF-8, malformed JSON, too large, too deep."""


class DetectionFailed(RecordFailure):
    """Detection could not finish on a string (deadline, recognizer error)."""
