"""Signals (findings), the reports they are grouped into, report artefacts, and the per-team pause."""

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid4

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import JSONType, UTCDateTime, str_enum, table_of, utcnow


class ReportStatus(StrEnum):
    POTENTIAL = "potential"
    CANDIDATE = "candidate"
    IN_PROGRESS = "in_progress"
    PENDING_INPUT = "pending_input"
    READY = "ready"
    RESOLVED = "resolved"
    FAILED = "failed"
    DELETED = "deleted"
    SUPPRESSED = "suppressed"


class Signal(SQLModel, table=True):
    """One finding worth grouping. UNIQUE(team_id, source_id): emitting twice is a no-op."""

    __tablename__ = "signals"
    __table_args__ = (
        sa.UniqueConstraint("team_id", "source_id"),
        sa.CheckConstraint("weight >= 0 AND weight <= 1", name="weight_range"),
        sa.Index("ix_signals_team_id_created_at", "team_id", "created_at"),
        sa.Index("ix_signals_team_id_grouped_at", "team_id", "grouped_at"),
        sa.Index("ix_signals_team_id_report_id_created_at", "team_id", "report_id", "created_at"),
        sa.Index("ix_signals_team_id_fingerprint", "team_id", "fingerprint"),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    team_id: int = Field(foreign_key="teams.id")
    source_product: str = Field(max_length=64)
    source_type: str = Field(max_length=64)
    # e.g. "observation:{id}:{index}"
    source_id: str = Field(max_length=255)
    description: str = Field(sa_type=sa.Text)
    weight: float = 0.5
    extra: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    # A stable "what exactly" key from a deterministic source (heuristics: "rage_click:button Pay");
    # signals with one group by it, not by similarity.
    fingerprint: str | None = Field(default=None, max_length=255)
    # float32 bytes (pipeline.embeddings.to_bytes), compared only with vectors of the same model.
    embedding: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
    embedding_model: str | None = Field(default=None, max_length=128)
    # None until grouped.
    report_id: UUID | None = Field(default=None, foreign_key="signal_reports.id", index=True)
    match_metadata: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    deleted: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    grouped_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SignalReport(SQLModel, table=True):
    """A group of signals sharing one root cause: an inbox item with a weight and a status."""

    __tablename__ = "signal_reports"
    __table_args__ = (sa.Index("ix_signal_reports_team_id_created_at", "team_id", "created_at"),)

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    team_id: int = Field(foreign_key="teams.id")
    title: str | None = Field(default=None, max_length=300)
    summary: str | None = Field(default=None, sa_type=sa.Text)
    status: ReportStatus = Field(default=ReportStatus.POTENTIAL, sa_type=str_enum(ReportStatus))
    status_before_suppression: ReportStatus | None = Field(default=None, sa_type=str_enum(ReportStatus))
    total_weight: float = 0.0
    signal_count: int = 0
    # The promotion gate: a potential report promotes only once signal_count reaches it.
    signals_at_run: int = 0
    run_count: int = 0
    # What the newest priority and actionability judgments say (`pipeline.inbox.inbox_columns`),
    # rewritten with every artefact write, so the inbox sorts and filters without reading artefacts.
    priority: str | None = Field(default=None, max_length=2)
    actionability: str | None = Field(default=None, max_length=32)
    promoted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    first_visible_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_run_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    error: str | None = Field(default=None, sa_type=sa.Text)
    # Set once: one Slack card per report, ever.
    notified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


_reports = table_of(SignalReport).c
# The default inbox list (`ordering=status`) reads nothing else: a team's reports by the rank's
# columns, then newest updated first and by id, as the list breaks ties (a covering index, walked
# in the order of the list, so a page's sort keeps few rows). Declared here: a descending column
# needs the table's column.
sa.Index(
    "ix_signal_reports_team_id_status_actionability_updated_at",
    _reports.team_id,
    _reports.status,
    _reports.actionability,
    _reports.updated_at.desc(),
    _reports.id,
)


class ReportArtefact(SQLModel, table=True):
    """An append-only entry about a report; for status types the newest of a type wins."""

    __tablename__ = "report_artefacts"
    __table_args__ = (
        sa.Index("ix_report_artefacts_report_id_type_created_at", "report_id", "type", "created_at"),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    team_id: int = Field(foreign_key="teams.id", index=True)
    report_id: UUID = Field(foreign_key="signal_reports.id", ondelete="CASCADE")
    # e.g. "note", "priority_judgment", "related_to"; `content` is validated per type by the pipeline.
    type: str = Field(max_length=64)
    content: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    created_by: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ProcessingState(SQLModel, table=True):
    """A team's signal-processing pause, one row per team (the primary key is the team)."""

    __tablename__ = "processing_states"

    team_id: int = Field(foreign_key="teams.id", primary_key=True)
    # While in the future, signals are stored but not grouped. A past value reads as no pause.
    paused_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
