"""Live ingest: the write-only project tokens a recorder sends, and the batches already stored."""

from datetime import datetime
from uuid import UUID, uuid4

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, utcnow


class IngestToken(SQLModel, table=True):
    """A project ingest token: it may only add recordings to its team, so it is safe in a web page.

    Only its SHA-256 is stored (shown once at creation); `mask_value` is what a list shows. A revoked
    token stays so its id and label still explain old log lines.
    """

    __tablename__ = "ingest_tokens"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    team_id: int = Field(foreign_key="teams.id", index=True)
    label: str = Field(default="", max_length=255)
    token_hash: str = Field(max_length=128, unique=True)
    mask_value: str = Field(default="", max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class IngestBatch(SQLModel, table=True):
    """A client batch already merged into its recording: a retried `batch_id` is stored once."""

    __tablename__ = "ingest_batches"
    __table_args__ = (sa.UniqueConstraint("team_id", "session_id", "batch_id"),)

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    team_id: int = Field(foreign_key="teams.id")
    session_id: str = Field(max_length=128)
    batch_id: str = Field(max_length=128)
    event_count: int = 0
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
