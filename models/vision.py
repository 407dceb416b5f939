"""Scanners (questions about sessions), their observations, and the usage receipts that bill them."""

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid4

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import MAX_ERROR_LENGTH, JSONType, UTCDateTime, str_enum, utcnow


class ScannerType(StrEnum):
    MONITOR = "monitor"
    CLASSIFIER = "classifier"
    SCORER = "scorer"
    SUMMARIZER = "summarizer"


class Provider(StrEnum):
    GOOGLE = "google"
    HEURISTIC = "heuristic"


class ObservationStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    INELIGIBLE = "ineligible"


IN_FLIGHT_STATUSES = (ObservationStatus.PENDING, ObservationStatus.RUNNING)


class TriggeredBy(StrEnum):
    SCHEDULE = "schedule"
    ON_DEMAND = "on_demand"
    RETRY = "retry"
    BACKFILL = "backfill"


class Scanner(SQLModel, table=True):
    """A question a team asks about its sessions, swept on a schedule.

    `scanner_version` goes up by one on every change of type, config, query, sampling rate,
    provider, model or `emits_signals`; observations freeze the version they ran with.
    """

    __tablename__ = "scanners"
    __table_args__ = (
        sa.UniqueConstraint("team_id", "name"),
        sa.CheckConstraint("sampling_rate >= 0 AND sampling_rate <= 1", name="sampling_rate_range"),
        sa.Index("ix_scanners_team_id_enabled", "team_id", "enabled"),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    team_id: int = Field(foreign_key="teams.id")
    name: str = Field(max_length=255)
    description: str = Field(default="", max_length=1000)
    scanner_type: ScannerType = Field(sa_type=str_enum(ScannerType))
    scanner_config: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    # A recordings filter; dates are the schedule's business, never stored here.
    query: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    sampling_rate: float = 1.0
    provider: Provider = Field(default=Provider.GOOGLE, sa_type=str_enum(Provider))
    model: str = Field(max_length=100)
    enabled: bool = True
    emits_signals: bool = False
    scanner_version: int = 1
    credit_limit: int | None = None
    estimated_monthly_observations: int | None = None
    last_swept_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_seen_session_id: str = Field(default="", max_length=128)
    # The scheduler claims a sweep by moving this to the current slot (see pipeline/sampling.sweep_slot).
    sweep_slot: int | None = Field(default=None, sa_type=sa.BigInteger)
    last_sweep_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Why the last sweep stopped (pipeline/sweep.SweepPlan.stopped, or "budget", "no_provider"):
    # "full" and "walked" leave a backlog, which the next tick tops up without waiting for a slot.
    sweep_stopped: str = Field(default="", max_length=16)
    # A sweep's claim on the scanner, released when it finishes: no two sweeps of one scanner at once.
    sweeping_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    estimated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Observation(SQLModel, table=True):
    """One scanner's look at one session. UNIQUE(scanner_id, session_id) makes creating it idempotent.

    pending and running rows have no `completed_at`; every other status has one.
    """

    __tablename__ = "observations"
    __table_args__ = (
        sa.UniqueConstraint("scanner_id", "session_id"),
        sa.CheckConstraint(
            "(status IN ('pending', 'running')) = (completed_at IS NULL)", name="completed_at_when_terminal"
        ),
        # A scanner's observations, newest first, with or without a status (the API's lists).
        sa.Index("ix_observations_scanner_id_status_created_at", "scanner_id", "status", "created_at", "id"),
        sa.Index("ix_observations_scanner_id_created_at", "scanner_id", "created_at", "id"),
        sa.Index("ix_observations_team_id_status", "team_id", "status"),
        sa.Index("ix_observations_scanner_id_completed_at", "scanner_id", "completed_at"),
        # The scheduler's reapers look for old pending and running rows.
        sa.Index("ix_observations_status_created_at", "status", "created_at"),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    team_id: int = Field(foreign_key="teams.id")
    scanner_id: UUID = Field(foreign_key="scanners.id")
    session_id: str = Field(max_length=128)
    status: ObservationStatus = Field(
        default=ObservationStatus.PENDING, sa_type=str_enum(ObservationStatus), index=True
    )
    # "kind:message", e.g. "too_short:active for 4 s"; never provider error text.
    error_reason: str | None = Field(default=None, max_length=MAX_ERROR_LENGTH)
    workflow_id: str = Field(max_length=255)
    scanner_snapshot: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    scanner_result: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    result_verdict: str | None = Field(default=None, max_length=32)
    result_score: float | None = None
    result_tags: list[str] | None = Field(default=None, sa_type=JSONType)
    triggered_by: TriggeredBy = Field(default=TriggeredBy.SCHEDULE, sa_type=str_enum(TriggeredBy))
    triggered_by_user: int | None = Field(default=None, foreign_key="users.id")
    # How many times the id was sent, and when last: the pending reaper re-sends a bounded number of times.
    send_count: int = 0
    last_sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # A claim is a lease: the worker holding it renews `lease_until` while the attempt runs; once it
    # lapses (the worker stopped) the row may be taken over. `attempts` counts claims and fences
    # writes (only the current attempt may move the row), `takeovers` the claims after a lapse.
    attempts: int = 0
    takeovers: int = 0
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # A transient failure's retry: when it is due (the reason it waits for is `error_reason`).
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class UsageReceipt(SQLModel, table=True):
    """What one succeeded observation cost, frozen at the time.

    `observation_id` and `scanner_id` carry no foreign key: deleting either never refunds.
    """

    __tablename__ = "usage_receipts"
    __table_args__ = (
        sa.Index(
            "ix_usage_receipts_organization_id_observation_created_at",
            "organization_id",
            "observation_created_at",
        ),
        sa.Index(
            "ix_usage_receipts_scanner_id_observation_created_at", "scanner_id", "observation_created_at"
        ),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    observation_id: UUID = Field(unique=True)
    organization_id: UUID = Field(foreign_key="organizations.id")
    team_id: int = Field(foreign_key="teams.id", index=True)
    scanner_id: UUID
    model: str = Field(max_length=100)
    credits: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    # The quota window key: usage counts in the month the observation was created.
    observation_created_at: datetime = Field(sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LabelRating(StrEnum):
    UP = "up"
    DOWN = "down"


class ObservationLabel(SQLModel, table=True):
    """A person's thumbs up or down on an observation, with an optional note: the raw material of
    calibrating a scanner. One per person and observation; a new one replaces it."""

    __tablename__ = "observation_labels"
    __table_args__ = (sa.UniqueConstraint("observation_id", "user_id"),)

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    team_id: int = Field(foreign_key="teams.id")
    scanner_id: UUID = Field(foreign_key="scanners.id", index=True)
    observation_id: UUID = Field(foreign_key="observations.id", index=True)
    user_id: int = Field(foreign_key="users.id")
    rating: LabelRating = Field(sa_type=str_enum(LabelRating, length=8))
    note: str = Field(default="", max_length=2000, sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
