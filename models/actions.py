"""Scheduled actions over observations, their runs, and one delivery row per (source, target)."""

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid4

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import MAX_ERROR_LENGTH, JSONType, UTCDateTime, str_enum, utcnow


class TriggerType(StrEnum):
    SCHEDULE = "schedule"


class ActionMode(StrEnum):
    GROUP_SUMMARY = "group_summary"
    ALERT = "alert"


class ActionRunStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    SKIPPED = "skipped"
    FAILED = "failed"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    # Claimed by one worker for a post; another may take it over only after a lease expires.
    SENDING = "sending"
    DELIVERED = "delivered"
    FAILED = "failed"


class VisionAction(SQLModel, table=True):
    """A scheduled summary or alert over a scanner's observations, delivered to its targets."""

    __tablename__ = "vision_actions"
    __table_args__ = (
        sa.UniqueConstraint("team_id", "name"),
        sa.Index("ix_vision_actions_enabled_next_run_at", "enabled", "next_run_at"),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    team_id: int = Field(foreign_key="teams.id")
    scanner_id: UUID = Field(foreign_key="scanners.id", index=True)
    name: str = Field(max_length=255)
    enabled: bool = True
    trigger_type: TriggerType = Field(default=TriggerType.SCHEDULE, sa_type=str_enum(TriggerType))
    mode: ActionMode = Field(default=ActionMode.GROUP_SUMMARY, sa_type=str_enum(ActionMode))
    # {"rrule": "...", "timezone": "Europe/Paris"}
    trigger_config: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    selection: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    # {"prompt_guide": "..."} (≤500 chars)
    synthesis_config: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    # A list of targets, e.g. [{"type": "slack", "integration_id": "...", "channel": "C123"}].
    delivery_config: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONType)
    alert_config: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    next_run_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_run_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ActionRun(SQLModel, table=True):
    """One claimed occurrence of an action. UNIQUE(action_id, scheduled_at): a claim happens once."""

    __tablename__ = "action_runs"
    __table_args__ = (
        sa.UniqueConstraint("action_id", "scheduled_at"),
        sa.Index("ix_action_runs_status_started_at", "status", "started_at"),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    action_id: UUID = Field(foreign_key="vision_actions.id")
    scheduled_at: datetime = Field(sa_type=UTCDateTime)
    status: ActionRunStatus = Field(default=ActionRunStatus.RUNNING, sa_type=str_enum(ActionRunStatus))
    synthesized_markdown: str | None = Field(default=None, sa_type=sa.Text)
    # Rendered per channel, e.g. {"slack": "...", "slack_blocks": [...]}.
    output: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    observation_count: int = 0
    # Ordered: "[obs N]" in the text is observation_ids[N].
    observation_ids: list[str] = Field(default_factory=list, sa_type=JSONType)
    error: str | None = Field(default=None, max_length=MAX_ERROR_LENGTH)
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Delivery(SQLModel, table=True):
    """One message to one target, for an action run or a report (exactly one of the two).

    UNIQUE(source, target): a retry finds the row and never posts a delivered target twice.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        # NULLs never collide, so each of these binds only rows of its own source.
        sa.UniqueConstraint("action_run_id", "target"),
        sa.UniqueConstraint("report_id", "target"),
        sa.CheckConstraint("(action_run_id IS NULL) <> (report_id IS NULL)", name="one_source"),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    action_run_id: UUID | None = Field(default=None, foreign_key="action_runs.id")
    report_id: UUID | None = Field(default=None, foreign_key="signal_reports.id")
    # Normalised and free of secrets (webhook URLs are secrets: store a digest), e.g. "slack:C123", "log".
    target: str = Field(max_length=512)
    status: DeliveryStatus = Field(
        default=DeliveryStatus.PENDING, sa_type=str_enum(DeliveryStatus), index=True
    )
    attempts: int = 0
    # Slack's message `ts`, or the like.
    external_id: str | None = Field(default=None, max_length=255)
    error: str | None = Field(default=None, max_length=MAX_ERROR_LENGTH)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
