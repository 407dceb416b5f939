"""Scouts: detectors that look across a team's sessions on a schedule, their runs, and the team's
project profile they orient on.

A config is one (team, scout): canonical scouts are seeded by `sync`, custom ones come from
`sightline apply` with their `definition`. A run is one (config, scheduled time): the unique pair
makes a second scheduler's claim of the same run a no-op. The project profile is a cached inventory
of the team, rebuilt once it expires.
"""

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid4

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import JSONType, UTCDateTime, str_enum, utcnow


class ScoutOrigin(StrEnum):
    CANONICAL = "canonical"
    CUSTOM = "custom"


class ScoutRunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


class ScoutConfig(SQLModel, table=True):
    """One scout of one team: whether it runs, how often, and whether it emits (false: a dry run)."""

    __tablename__ = "scout_configs"
    __table_args__ = (sa.UniqueConstraint("team_id", "skill_name"),)

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    team_id: int = Field(foreign_key="teams.id")
    skill_name: str = Field(max_length=128)
    description: str = Field(default="", sa_type=sa.Text)
    scout_origin: ScoutOrigin = Field(default=ScoutOrigin.CANONICAL, sa_type=str_enum(ScoutOrigin))
    # A custom scout's metric, grouping key, threshold and baseline (`pipeline.scouts`); None for canonical.
    definition: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    version: int = 1
    enabled: bool = True
    emit: bool = True
    run_interval_minutes: int = 60
    enabled_by: int | None = Field(default=None, foreign_key="users.id")
    last_run_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ScoutRun(SQLModel, table=True):
    """One run of a scout at its scheduled time; `findings` holds what it emitted or would have."""

    __tablename__ = "scout_runs"
    __table_args__ = (
        sa.UniqueConstraint("config_id", "scheduled_at"),
        sa.Index("ix_scout_runs_team_id_created_at", "team_id", "created_at"),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    team_id: int = Field(foreign_key="teams.id")
    config_id: UUID = Field(foreign_key="scout_configs.id")
    skill_name: str = Field(max_length=128)
    skill_version: int = 1
    scheduled_at: datetime = Field(sa_type=UTCDateTime)
    status: ScoutRunStatus = Field(default=ScoutRunStatus.QUEUED, sa_type=str_enum(ScoutRunStatus))
    emit: bool = True
    summary: str = Field(default="", sa_type=sa.Text)
    error: str | None = Field(default=None, sa_type=sa.Text)
    failure_reason: str | None = Field(default=None, max_length=64)
    emitted_count: int = 0
    emitted_finding_ids: list[str] = Field(default_factory=list, sa_type=JSONType)
    findings: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONType)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ProjectProfile(SQLModel, table=True):
    """A team's deterministic inventory as built at `computed_at`, read until `expires_at`."""

    __tablename__ = "scout_project_profiles"
    __table_args__ = (sa.Index("ix_scout_project_profiles_team_id_computed_at", "team_id", "computed_at"),)

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    team_id: int = Field(foreign_key="teams.id")
    source_version: str = Field(max_length=32)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    computed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
