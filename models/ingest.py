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
    """A client batch, stored once per `batch_id` (a retry is answered, not stored again).

    Until it is merged into its recording, its events wait in their own blob (`blob_ref`): a batch
    costs one small write whatever the size of the recording it joins, and the merge (the file
    import's) runs once for all the batches that arrived meanwhile. Merged, `merged_at` is set and
    its blob removed; the row stays so a late retry is still recognised.
    """

    __tablename__ = "ingest_batches"
    __table_args__ = (
        sa.UniqueConstraint("team_id", "session_id", "batch_id"),
        # The scheduler's backstop: batches still waiting for a merge, oldest first.
        sa.Index("ix_ingest_batches_merged_at_received_at", "merged_at", "received_at"),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    team_id: int = Field(foreign_key="teams.id")
    session_id: str = Field(max_length=128)
    batch_id: str = Field(max_length=128)
    distinct_id: str | None = Field(default=None, max_length=400)
    event_count: int = 0
    blob_ref: str | None = Field(default=None, max_length=1024)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    merged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
