"""structlog, set up once per process: JSON when not on a terminal, readable when it is."""

from __future__ import annotations

import logging
import sys

import structlog

_configured = False


class _StderrLogger:
    """Writes to whatever `sys.stderr` is at the time, not the stream that was current at setup."""

    def msg(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    log = debug = info = warning = warn = error = critical = exception = fatal = msg


class _StderrLoggerFactory:
    def __call__(self, *args) -> _StderrLogger:
        return _StderrLogger()


def configure_logging(level: str = "INFO", fmt: str = "auto") -> None:
    """Idempotent; entry points call it with the settings' level and format."""
    global _configured
    if _configured:
        return
    _configured = True
    json_output = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    renderer = structlog.processors.JSONRenderer() if json_output else structlog.dev.ConsoleRenderer()
    numeric_level = logging.getLevelName(level.upper())
    numeric_level = numeric_level if isinstance(numeric_level, int) else logging.INFO
    logging.basicConfig(level=numeric_level, stream=sys.stderr, format="%(message)s")
    # Alembic narrates every migration check at INFO ("Context impl SQLiteImpl."): not a fact
    # an operator needs on each command.
    logging.getLogger("alembic").setLevel(max(numeric_level, logging.WARNING))
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        logger_factory=_StderrLoggerFactory(),
        cache_logger_on_first_use=True,
    )
