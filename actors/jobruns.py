"""A middleware that writes one `JobRun` row per actor attempt: the facts behind `sightline status`."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import structlog
from dramatiq import Middleware
from sqlalchemy.exc import SQLAlchemyError

from models.base import MAX_ERROR_LENGTH
from models.db import SessionFactory, session_scope
from models.jobs import JobStatus, insert_job_run

log = structlog.get_logger(__name__)


class JobRunMiddleware(Middleware):
    """Times each attempt and records its outcome; a database hiccup is logged, never fatal."""

    def __init__(self, sessions: SessionFactory):
        self.sessions = sessions
        self.started: dict[str, tuple[float, datetime, int]] = {}
        self.lock = threading.Lock()

    def before_process_message(self, broker, message):
        # Retries bumps `retries` before later middleware sees a failure, so read the attempt now.
        attempt = int(message.options.get("retries", 0)) + 1
        with self.lock:
            self.started[message.message_id] = (time.monotonic(), datetime.now(UTC), attempt)

    def after_process_message(self, broker, message, *, result=None, exception=None):
        status = JobStatus.SUCCEEDED if exception is None else JobStatus.FAILED
        error = None if exception is None else f"{type(exception).__name__}: {exception}"[:MAX_ERROR_LENGTH]
        self._record(message, status, error)

    def after_skip_message(self, broker, message):
        self._record(message, JobStatus.SKIPPED, None)

    def _record(self, message, status: JobStatus, error: str | None) -> None:
        with self.lock:
            started = self.started.pop(message.message_id, None)
        began, started_at, attempt = started or (time.monotonic(), datetime.now(UTC), 1)
        row = {
            "message_id": message.message_id,
            "actor": message.actor_name,
            "queue": message.queue_name,
            "attempt": attempt,
            "status": status,
            "started_at": started_at,
            "finished_at": datetime.now(UTC),
            "duration_ms": round((time.monotonic() - began) * 1000, 3),
            "error": error,
        }
        try:
            with session_scope(self.sessions) as session:
                insert_job_run(session, **row)
        except SQLAlchemyError:
            log.exception("job_run_not_recorded", message_id=message.message_id, actor=message.actor_name)
