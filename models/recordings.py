"""Imported session recordings: the metadata computed at import and where the events live."""

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid4

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import JSONType, UTCDateTime, str_enum, utcnow


class DeviceType(StrEnum):
    DESKTOP = "desktop"
    MOBILE = "mobile"


class Recording(SQLModel, table=True):
    """One session's recording. The compressed events are at `blob_ref`, not in the database."""

    __tablename__ = "recordings"
    __table_args__ = (
        sa.UniqueConstraint("team_id", "session_id"),
        # Recordings by when they happened (estimates, the data span, retention).
        sa.Index("ix_recordings_team_id_end_time", "team_id", "end_time", "session_id"),
        sa.Index("ix_recordings_team_id_start_time", "team_id", "start_time"),
        # The sweep's order: by when a recording settled (its last ingest), so late data is swept too.
        sa.Index("ix_recordings_team_id_last_ingested_at", "team_id", "last_ingested_at", "session_id"),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    team_id: int = Field(foreign_key="teams.id")
    session_id: str = Field(max_length=128)
    distinct_id: str | None = Field(default=None, max_length=400)
    start_time: datetime = Field(sa_type=UTCDateTime)
    end_time: datetime = Field(sa_type=UTCDateTime)
    duration_s: float = 0.0
    active_s: float = 0.0
    click_count: int = 0
    keypress_count: int = 0
    console_error_count: int = 0
    start_url: str | None = Field(default=None, sa_type=sa.Text)
    urls: list[str] = Field(default_factory=list, sa_type=JSONType)
    # {"width": int, "height": int}, or None when the recording never said.
    viewport: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    device_type: DeviceType = Field(default=DeviceType.DESKTOP, sa_type=str_enum(DeviceType, length=16))
    # Names of the custom events the session sent (`$pageview` and friends excluded), for queries.
    custom_events: list[str] | None = Field(default=None, sa_type=JSONType)
    event_count: int = 0
    size_bytes: int = Field(default=0, sa_type=sa.BigInteger)
    # Events left out at import because they were unusable, over every import of this session, and
    # what was wrong: {"skipped": {reason: count}, "notes": [file-level notes], "mended": n}.
    skipped_events: int = 0
    intake: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    blob_ref: str = Field(max_length=1024)
    last_ingested_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
