"""A middleware that writes one `JobRun` row per actor attempt: the facts behind `sightline status`.

An actor that ends in a write transaction of its own may put its attempt's row in that transaction
(`current_attempt()`, then `Attempt.insert_into`): one commit instead of two on the busiest path,
the observation's success. The middleware then writes nothing more for that attempt.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime

import redis
import structlog
from dramatiq import Middleware
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from models.base import MAX_ERROR_LENGTH, utcnow
from models.db import SessionFactory, session_scope
from models.jobs import JobStatus, insert_job_run
from pipeline.names import job_counters_key

log = structlog.get_logger(__name__)

# The attempt each worker thread is running: Dramatiq calls a message's before and after hooks,
# and the actor itself, on the one worker thread that processes it.
_local = threading.local()


@dataclass
class Attempt:
    message_id: str
    actor: str
    queue: str
    attempt: int
    began: float
    started_at: datetime
    written: bool = False
    # The actor handled a failure itself (e.g. it failed the observation): the attempt is recorded
    # as failed with this error although the actor returned normally.
    failure: str | None = None

    def failed(self, error: str) -> None:
        self.failure = error[:MAX_ERROR_LENGTH]

    def insert_into(self, session: Session, status: JobStatus = JobStatus.SUCCEEDED) -> None:
        """Insert this attempt's row in `session`; call `committed()` once its transaction commits."""
        insert_job_run(session, **self.row(status, None))

    def committed(self) -> None:
        self.written = True

    def row(self, status: JobStatus, error: str | None) -> dict:
        return {
            "message_id": self.message_id,
            "actor": self.actor,
            "queue": self.queue,
            "attempt": self.attempt,
            "status": status,
            "started_at": self.started_at,
            "finished_at": utcnow(),
            "duration_ms": round((time.monotonic() - self.began) * 1000, 3),
            "error": error,
        }


def current_attempt() -> Attempt | None:
    """The attempt this worker thread is running, or None outside a worker (a test calling an actor)."""
    return getattr(_local, "attempt", None)


class JobRunMiddleware(Middleware):
    """Times each attempt and records its outcome; a database hiccup is logged, never fatal.

    Each attempt is also counted in Redis (`pipeline.names.job_counters_key`), so `/metrics` reads
    every process's totals in one command instead of scanning the job history.
    """

    def __init__(self, sessions: SessionFactory, counters: redis.Redis | None = None, namespace: str = ""):
        self.sessions = sessions
        self.counters, self.counters_key = counters, job_counters_key(namespace)

    def before_process_message(self, broker, message):
        _local.attempt = self._attempt(message)

    def after_process_message(self, broker, message, *, result=None, exception=None):
        status = JobStatus.SUCCEEDED if exception is None else JobStatus.FAILED
        error = None if exception is None else f"{type(exception).__name__}: {exception}"[:MAX_ERROR_LENGTH]
        self._record(message, status, error)

    def after_skip_message(self, broker, message):
        self._record(message, JobStatus.SKIPPED, None)

    def _count(self, attempt: Attempt, status: JobStatus) -> None:
        if self.counters is None:
            return
        field = f"{attempt.actor}|{status.value}"
        try:
            pipeline = self.counters.pipeline(transaction=False)
            pipeline.hincrby(self.counters_key, field, 1)
            pipeline.hincrbyfloat(self.counters_key, f"{field}|ms", (time.monotonic() - attempt.began) * 1000)
            pipeline.execute()
        except redis.RedisError:
            log.warning("job_not_counted", actor=attempt.actor)

    @staticmethod
    def _attempt(message) -> Attempt:
        # Retries bumps `retries` before later middleware sees a failure, so read the attempt now.
        return Attempt(
            message_id=message.message_id,
            actor=message.actor_name,
            queue=message.queue_name,
            attempt=int(message.options.get("retries", 0)) + 1,
            began=time.monotonic(),
            started_at=utcnow(),
        )

    def _record(self, message, status: JobStatus, error: str | None) -> None:
        attempt = current_attempt()
        _local.attempt = None
        if attempt is None or attempt.message_id != message.message_id:
            # Skipped before our before-hook ran: time it from now, as its first attempt.
            attempt = self._attempt(message)
            attempt.attempt = 1
        if attempt.failure is not None and status == JobStatus.SUCCEEDED:
            status, error = JobStatus.FAILED, attempt.failure
        self._count(attempt, status)
        if attempt.written:
            return
        try:
            with session_scope(self.sessions) as session:
                insert_job_run(session, **attempt.row(status, error))
        except SQLAlchemyError:
            log.exception("job_run_not_recorded", message_id=message.message_id, actor=message.actor_name)
