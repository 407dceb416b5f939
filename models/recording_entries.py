"""What recordings say, one row per line: console entries and failed requests (the log stream), page
views, clicks, custom events and console errors (the event stream), indexed lazily per recording
version, and the cached explanations of log lines.

An entry's id is deterministic (`pipeline.log_entries.entry_uuid`: team, session, event index), so
indexing a recording twice writes the same rows. `recording_entry_indexes` says which version
(`blob_ref`) of each recording is indexed; a new blob is a new version and is indexed again.
"""

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import JSONType, UTCDateTime, utcnow


class RecordingEntry(SQLModel, table=True):
    """One log line or one event of one recording version."""

    __tablename__ = "recording_entries"
    __table_args__ = (
        sa.Index("ix_recording_entries_team_stream_time", "team_id", "stream", "timestamp"),
        sa.Index("ix_recording_entries_team_session", "team_id", "session_id"),
    )

    id: UUID = Field(primary_key=True)
    team_id: int = Field(foreign_key="teams.id")
    session_id: str = Field(max_length=128)
    blob_ref: str = Field(max_length=1024)
    seq: int  # the index of the rrweb event it was read from
    stream: str = Field(max_length=8)  # log | event
    event: str = Field(max_length=200)
    level: str | None = Field(default=None, max_length=16)
    message: str = Field(default="", sa_type=sa.Text)
    fingerprint: str | None = Field(default=None, max_length=32)
    url: str | None = Field(default=None, sa_type=sa.Text)
    distinct_id: str | None = Field(default=None, max_length=400)
    timestamp: datetime = Field(sa_type=UTCDateTime)
    offset_s: float = 0.0  # seconds from the recording's first event: the timeline's `t`
    properties: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)


class RecordingEntryIndex(SQLModel, table=True):
    """Which version of a recording its entries were read from (zero entries is still indexed)."""

    __tablename__ = "recording_entry_indexes"

    team_id: int = Field(foreign_key="teams.id", primary_key=True)
    session_id: str = Field(max_length=128, primary_key=True)
    blob_ref: str = Field(max_length=1024)
    entry_count: int = 0
    indexed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LogExplanation(SQLModel, table=True):
    """The cached explanation of one log line; `force_refresh` replaces it."""

    __tablename__ = "log_explanations"

    team_id: int = Field(foreign_key="teams.id", primary_key=True)
    entry_id: UUID = Field(primary_key=True)
    text: str = Field(sa_type=sa.Text)
    source: str = Field(max_length=16)  # gemini | moments
    model: str | None = Field(default=None, max_length=128)
    moments: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
