"""Evaluations (`evaluations`): checks of our own answers, an LLM judge's or deterministic ones, and
what each said of each observation (`evaluation_results`), and the runs people asked for
(`evaluation_runs`).

A result is unique per (evaluation, observation): an automatic pass never evaluates one twice, and
a run asked for by a person replaces the earlier result of the pair. `deleted` is a soft delete
(the reference refuses a hard one), so results keep their evaluation.
"""

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid4

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import MAX_ERROR_LENGTH, JSONType, UTCDateTime, str_enum, utcnow


class EvaluationType(StrEnum):
    LLM_JUDGE = "llm_judge"
    HEURISTIC = "heuristic"


class OutputType(StrEnum):
    BOOLEAN = "boolean"
    SCORE = "score"


class ResultStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Evaluation(SQLModel, table=True):
    """A check of observations: its type and config, its output, and which observations it takes.

    `evaluated_until` and `last_observation_id` are the automatic pass's watermark: observations
    completed after it (ties broken by id) are new to this evaluation.
    """

    __tablename__ = "evaluations"
    __table_args__ = (sa.Index("ix_evaluations_team_id_deleted_enabled", "team_id", "deleted", "enabled"),)

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    team_id: int = Field(foreign_key="teams.id")
    name: str = Field(max_length=400)
    description: str = Field(default="", sa_type=sa.Text)
    enabled: bool = False
    evaluation_type: EvaluationType = Field(sa_type=str_enum(EvaluationType))
    evaluation_config: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    output_type: OutputType = Field(sa_type=str_enum(OutputType))
    output_config: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    conditions: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    deleted: bool = False
    evaluated_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_observation_id: UUID | None = None
    created_by: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class EvaluationRun(SQLModel, table=True):
    """A person's "evaluate these now": one observation, or a scanner's observations in a window."""

    __tablename__ = "evaluation_runs"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    team_id: int = Field(foreign_key="teams.id")
    evaluation_id: UUID = Field(foreign_key="evaluations.id", index=True)
    # {"observation_id": …} or {"scanner_id": …, "since": …, "until": …}, as validated.
    target: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    observations: int = 0  # how many the run queued
    truncated: bool = False  # the window held more than a run takes
    created_by: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class EvaluationResult(SQLModel, table=True):
    """What one evaluation said of one observation: pass/fail (None: not applicable) or a score."""

    __tablename__ = "evaluation_results"
    __table_args__ = (
        sa.UniqueConstraint("evaluation_id", "observation_id"),
        sa.Index("ix_evaluation_results_scanner_id_created_at", "scanner_id", "created_at"),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    team_id: int = Field(foreign_key="teams.id")
    evaluation_id: UUID = Field(foreign_key="evaluations.id")
    observation_id: UUID = Field(foreign_key="observations.id", index=True)
    scanner_id: UUID = Field(foreign_key="scanners.id")
    run_id: UUID | None = Field(default=None, foreign_key="evaluation_runs.id", index=True)
    status: ResultStatus = Field(default=ResultStatus.PENDING, sa_type=str_enum(ResultStatus, length=16))
    passed: bool | None = None
    score: float | None = None
    reasoning: str = Field(default="", sa_type=sa.Text)
    model: str | None = Field(default=None, max_length=100)
    input_tokens: int = 0
    output_tokens: int = 0
    error: str | None = Field(default=None, max_length=MAX_ERROR_LENGTH)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
