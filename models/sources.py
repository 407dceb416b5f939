"""Recording sources: outside projects (PostHog) the scheduler polls for new finished recordings."""

from datetime import datetime
from enum import StrEnum
from uuid import UUID, uuid4

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, str_enum, utcnow


class SourceKind(StrEnum):
    POSTHOG = "posthog"


class RecordingSource(SQLModel, table=True):
    """One PostHog project of a team, its encrypted API key, and how far its recordings were taken.

    The watermark `(watermark_start_time, watermark_session_id)` is the last recording, in the
    order of start time then id, up to which every recording was taken (imported, already stored,
    or unusable); a recording still being recorded holds it back until it finishes.
    """

    __tablename__ = "recording_sources"
    __table_args__ = (
        sa.UniqueConstraint("team_id", "kind", "host", "project_id"),
        sa.Index("ix_recording_sources_enabled_next_poll_at", "enabled", "next_poll_at"),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    team_id: int = Field(foreign_key="teams.id", index=True)
    kind: SourceKind = Field(default=SourceKind.POSTHOG, sa_type=str_enum(SourceKind, length=16))
    host: str = Field(max_length=255)
    project_id: int
    # Fernet ciphertext (integrations/secrets.py); the plaintext is never stored, logged or shown.
    api_key_encrypted: str = Field(sa_type=sa.Text)
    # What `sources list` shows instead: `phx_…abcd`.
    api_key_mask: str = Field(max_length=32)
    enabled: bool = True
    watermark_start_time: datetime | None = Field(default=None, sa_type=UTCDateTime)
    watermark_session_id: str | None = Field(default=None, max_length=128)
    next_poll_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_polled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    # Set from a 429's Retry-After: no request to this source before then.
    backoff_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    imported_count: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
