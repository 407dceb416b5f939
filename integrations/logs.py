"""structlog, set up once per process: one stream of lines on stderr, JSON when not on a terminal,
readable when it is (`SIGHTLINE_LOG_FORMAT=json|console|auto`).

Our events and the standard library's records (Dramatiq, uvicorn, google-genai, httpx, Python's
warnings, an uncaught exception) go through one handler and one renderer (structlog's
`ProcessorFormatter`), so a JSON log has no plain lines. Logs are facts, never secrets: request
lines name URLs (a Slack webhook's path is its secret), so the HTTP clients speak only at DEBUG, the
libraries that dump request bodies (recording text, digests) only from WARNING up, and every line is
scrubbed of what looks like a key, a token or a secret URL part before it is written.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from types import TracebackType
from typing import Any

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

_configured = False
# Request lines with URLs: shown at DEBUG only (scrubbed). The others log request bodies or narrate
# at INFO ("Context impl SQLiteImpl.", "AFC is enabled"): from WARNING up only.
DEBUG_ONLY = ("httpx", "httpx2", "urllib3", "minio")
WARNINGS_ONLY = ("alembic", "httpcore", "httpcore2", "google_genai", "slack_sdk")
# Loggers a library may have given handlers of their own (uvicorn's default config stops "uvicorn" from
# propagating): they are handed back to the root handler, so their records join the one stream.
SELF_HANDLED = ("uvicorn", "uvicorn.error", "uvicorn.access", "dramatiq")
SECRET = "[secret]"
_QUERY_NAMES = r"(?:[\w.-]*(?:key|token|secret|passw(?:or)?d|pwd|signature|credential|auth)[\w.-]*|sig|code)"
_HEADER_NAMES = (
    r"\b(?:authorization|x-goog-api-key|x-api-key|api[-_]?key|access[-_]?token|client[-_]?secret|"
    r"password|secret|cookie)"
)
# Shapes of the secrets a Sightline process holds, and the parts of URLs and headers that carry one.
_SCRUBS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?<=://)[^/\s:@'\"]+:[^/\s@'\"]+@"), f"{SECRET}@"),  # user:password@host
    (re.compile(rf"([?&#;]{_QUERY_NAMES}=)[^&#\s'\"]+", re.IGNORECASE), rf"\1{SECRET}"),
    (re.compile(r"(/services/T\w+/B\w+/)[\w-]+"), rf"\1{SECRET}"),  # Slack incoming webhooks
    (re.compile(r"(hooks\.slack\.com/(?:workflows|triggers)/)[^\s'\"<>]+"), rf"\1{SECRET}"),
    (re.compile(r"(\bbearer\s+)[^\s'\",]+", re.IGNORECASE), rf"\1{SECRET}"),
    (re.compile(rf"({_HEADER_NAMES}['\"]?\s*[:=]\s*['\"]?)[^\s'\",}}]+", re.IGNORECASE), rf"\1{SECRET}"),
    (re.compile(r"\b(?:xox[abposr]|xapp)-[\w-]+"), SECRET),  # Slack tokens
    (re.compile(r"\b(?:sli?|ph[xc])_[\w-]{16,}"), SECRET),  # our API keys and ingest tokens, PostHog's
    (re.compile(r"\bAIza[\w-]{20,}"), SECRET),  # Google API keys
)
_MAYBE_SECRET = re.compile(
    r"://|[?&#;]\w+=|/services/|bearer|authoriz|key|token|secret|passw|cookie|xox|xapp|\bsli?_|\bph[xc]_|AIza",
    re.IGNORECASE,
)


def scrub(text: str) -> str:
    """`text` with every secret-looking part replaced by `[secret]`."""
    if not _MAYBE_SECRET.search(text):
        return text
    for pattern, replacement in _SCRUBS:
        text = pattern.sub(replacement, text)
    return text


def scrub_secrets(_logger: WrappedLogger, _name: str, event_dict: EventDict) -> EventDict:
    """A processor: every string value of the event scrubbed (`scrub`)."""
    for key, value in event_dict.items():
        if isinstance(value, str):
            event_dict[key] = scrub(value)
    return event_dict


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is at the time, not the stream that was current at setup."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


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
    stamped: list[Processor] = [
        structlog.processors.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    _route_standard_library(renderer, stamped, numeric_level)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            *stamped,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    if json_output:  # a traceback Python would print is a plain block of lines
        sys.excepthook = _log_uncaught
        threading.excepthook = _log_uncaught_in_thread


def _route_standard_library(renderer: Processor, stamped: list[Processor], level: int) -> None:
    """One handler on the root logger renders every record, ours and foreign, the same way."""
    handler = _StderrHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=stamped,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                scrub_secrets,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    for old in [each for each in root.handlers if isinstance(each, _StderrHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in DEBUG_ONLY:
        logging.getLogger(name).setLevel(level if level <= logging.DEBUG else logging.WARNING)
    for name in WARNINGS_ONLY:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
    for name in SELF_HANDLED:
        foreign = logging.getLogger(name)
        foreign.handlers.clear()
        foreign.propagate, foreign.disabled = True, False
    # Off first: `captureWarnings(True)` does nothing when it is already on, and would keep routing
    # warnings to whichever `showwarning` was current then (a test runner's recorder, say).
    logging.captureWarnings(False)
    logging.captureWarnings(True)


def _log_uncaught(kind: type[BaseException], error: BaseException, trace: TracebackType | None) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, error, trace)
        return
    structlog.get_logger(__name__).critical("uncaught_exception", exc_info=(kind, error, trace))


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    structlog.get_logger(__name__).critical(
        "uncaught_exception",
        thread=args.thread.name if args.thread else None,
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
    )
