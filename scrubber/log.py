"""structlog setup: JSON in production, key=value on a TTY, and never a payload in a log event.

`refuse_payload_fields` is the last line of defence: an event that carries a field named like
content (`text`, `payload`, `value`, ...) has that field replaced, so a careless `log.info(...,
text=record)` cannot leak what we scrub.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, Literal

import structlog

LogFormat = Literal["json", "console"]
# What `--log-level` accepts (any case).
LOG_LEVELS = ("debug", "info", "warning", "error")
# The level this process was configured with: a later call without a level keeps it.
_current = {"level": "info"}

PAYLOAD_FIELDS = frozenset(
    {"text", "payload", "value", "values", "record", "records", "line", "lines", "body",
     "content", "raw", "original", "match", "matched", "secret", "token_value", "input"}
)  # fmt: skip


def refuse_payload_fields(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key in PAYLOAD_FIELDS.intersection(event_dict):
        event_dict[key] = "[refused: payload fields are never logged]"
    return event_dict


def configure_logging(fmt: LogFormat = "json", level: str | None = None) -> None:
    """Logs go to stderr: stdout belongs to the scrubbed data.

    `level` is one of LOG_LEVELS (any case); None keeps the level this process already has (so a
    command's own set-up does not undo `--log-level`), info at first.
    """
    if level is not None:
        if level.lower() not in LOG_LEVELS:
            raise ValueError(f"unknown log level {level!r}: use one of {', '.join(LOG_LEVELS)}")
        _current["level"] = level.lower()
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            refuse_payload_fields,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[_current["level"].upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)


class _ServerLogs(logging.Handler):
    """uvicorn's own messages, as structured events, without tracebacks: an exception's text
    can quote a request, and the server has already answered with a fixed error."""

    def emit(self, record: logging.LogRecord) -> None:
        get_logger("scrubber.server").log(record.levelno, "server", message=record.getMessage())


def route_server_logs() -> None:
    """uvicorn's loggers through structlog (`serve` and `gateway`)."""
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers = [_ServerLogs()]
        logger.propagate = False
        logger.setLevel(logging.INFO)
