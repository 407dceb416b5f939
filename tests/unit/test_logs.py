"""One stream of log lines: the standard library's records rendered like our events, nothing secret."""

from __future__ import annotations

import json
import logging
import sys
import threading
import warnings
from collections.abc import Iterator

import pytest
import structlog

import integrations.logs as logs

QUIET = (
    "httpx",
    "httpx2",
    "urllib3",
    "minio",
    "alembic",
    "httpcore",
    "httpcore2",
    "google_genai",
    "slack_sdk",
)


@pytest.fixture
def configure(monkeypatch) -> Iterator:
    """`configure_logging` for this test only: the logging, structlog and hook state is put back."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in QUIET}
    config = structlog.get_config()
    monkeypatch.setattr(logs, "_configured", False)
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    yield lambda level="INFO", fmt="json": logs.configure_logging(level, fmt)
    logging.captureWarnings(False)
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, each in levels.items():
        logging.getLogger(name).setLevel(each)
    structlog.configure(**config)


def lines(captured: str) -> list[dict]:
    return [json.loads(line) for line in captured.splitlines()]


def test_library_records_and_our_events_are_one_stream_of_json(configure, capsys):
    configure()
    structlog.get_logger("sightline.test").info("observation_succeeded", observation_id="o-1")
    logging.getLogger("dramatiq.worker.Worker").info("Shutting down...")
    logging.getLogger("uvicorn.error").warning("Invalid HTTP request received.")
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("old API", DeprecationWarning, stacklevel=1)
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("dramatiq.worker").error("Failed to process message", exc_info=True)
    entries = lines(capsys.readouterr().err)
    assert [entry["event"] for entry in entries][:3] == [
        "observation_succeeded",
        "Shutting down...",
        "Invalid HTTP request received.",
    ]
    assert entries[0]["observation_id"] == "o-1" and entries[1]["logger"] == "dramatiq.worker.Worker"
    assert entries[3]["logger"] == "py.warnings" and "old API" in entries[3]["event"]
    assert "ValueError: boom" in entries[4]["exception"] and entries[4]["level"] == "error"
    assert all({"timestamp", "level"} <= set(entry) for entry in entries)


def test_http_request_lines_are_kept_out_unless_debugging_and_then_scrubbed(configure, capsys):
    hook = "https://hooks.slack.com/services/T0123ABC/B0456DEF/s3cr3tW3bh00kPath"
    configure("INFO")
    logging.getLogger("httpx").info(f'HTTP Request: POST {hook} "HTTP/1.1 200 OK"')
    logging.getLogger("google_genai.models").info("AFC is enabled with max remote calls: 10.")
    assert capsys.readouterr().err == ""
    logs._configured = False
    configure("DEBUG")
    logging.getLogger("httpx").info(f'HTTP Request: POST {hook} "HTTP/1.1 200 OK"')
    logging.getLogger("slack_sdk.web.base_client").debug("Sending a request - json_body: {'text': 'digest'}")
    (entry,) = lines(capsys.readouterr().err)
    assert (
        "s3cr3tW3bh00kPath" not in entry["event"] and "/services/T0123ABC/B0456DEF/[secret]" in entry["event"]
    )


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (
            "GET https://generativelanguage.googleapis.com/v1beta/models?key=AIzaSyD-k3y&alt=json",
            "AIzaSyD-k3y",
        ),
        ("x-goog-api-key: AIzaSyA1234567890abcdefghijklmnop", "AIzaSyA1234567890abcdefghijklmnop"),
        ("Authorization: Bearer phx_0123456789abcdefghijklmnop", "phx_0123456789abcdefghijklmnop"),
        ("posting with xoxb-1234-5678-AbCdEf failed", "xoxb-1234-5678-AbCdEf"),
        ("token sli_q7PZrY0a1b2c3d4e5f6g7h8i9j0k refused", "sli_q7PZrY0a1b2c3d4e5f6g7h8i9j0k"),
        ("redis://default:hunter2@cache.internal:6379/0 refused", "hunter2"),
        ("https://hooks.slack.com/workflows/T0/A0/123/abcdef", "123/abcdef"),
    ],
)
def test_what_looks_like_a_secret_is_scrubbed_from_every_line(text, secret):
    assert secret not in logs.scrub(text) and logs.SECRET in logs.scrub(text)


def test_ordinary_facts_are_left_alone():
    text = "observation_succeeded signals_count=3 design=ok session s-0001 https://shop.example/checkout"
    assert logs.scrub(text) == text


def test_an_uncaught_exception_is_a_json_line_too(configure, capsys):
    configure()
    try:
        raise RuntimeError("unexpected")
    except RuntimeError as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    (entry,) = lines(capsys.readouterr().err)
    assert entry["event"] == "uncaught_exception" and "RuntimeError: unexpected" in entry["exception"]
