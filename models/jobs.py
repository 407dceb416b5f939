"""One row per actor execution attempt: the data behind `sightline status` and the operator pages."""

from datetime import datetime
from enum import StrEnum
from uuid import UUID, uuid4

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel

from models.base import MAX_ERROR_LENGTH, UTCDateTime, str_enum, table_of, utcnow


class JobStatus(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"


class JobRun(SQLModel, table=True):
    """What one attempt of one message did, written once when the attempt ends.

    `error` is at most 1,000 chars (PostgreSQL refuses longer): truncate before writing.
    """

    __tablename__ = "job_runs"
    # Failures of the last hour (`status`, the operators' page) and the job history's filters.
    __table_args__ = (sa.Index("ix_job_runs_status_started_at_actor", "status", "started_at", "actor"),)

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    message_id: str = Field(max_length=64, index=True)
    actor: str = Field(max_length=128, index=True)
    queue: str = Field(max_length=128)
    # 1 for the first delivery of a message, 2 for its first retry, and so on.
    attempt: int = 1
    status: JobStatus = Field(sa_type=str_enum(JobStatus))
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    finished_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    duration_ms: float = 0.0
    error: str | None = Field(default=None, max_length=MAX_ERROR_LENGTH)
    # Model tokens spent, when the actor called one.
    tokens: int | None = None


_INSERT = sa.insert(table_of(JobRun))


def insert_job_run(session: Session, **values: object) -> None:
    """Insert one `JobRun` row with a Core INSERT; the caller commits.

    Written once per actor attempt, so it skips the ORM's unit of work, which costs several times
    the INSERT itself. `id` is generated here when not given.
    """
    session.connection().execute(_INSERT, {"id": uuid4(), "error": None, "tokens": None, **values})
