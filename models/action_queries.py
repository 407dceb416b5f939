"""Reads for action runs and deliveries. None of them commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlmodel import Session, col, select

from models.actions import ActionRun, ActionRunStatus
from models.vision import Observation, ObservationStatus


def previous_completed(session: Session, action_id: UUID, before: datetime) -> ActionRun | None:
    """The latest completed run scheduled before `before`: where this run's window starts."""
    return session.exec(
        select(ActionRun)
        .where(ActionRun.action_id == action_id, ActionRun.status == ActionRunStatus.COMPLETED,
               ActionRun.scheduled_at < before)
        .order_by(col(ActionRun.scheduled_at).desc())
        .limit(1)
    ).first()  # fmt: skip


def previous_evaluated(session: Session, action_id: UUID, before: datetime) -> ActionRun | None:
    """The latest finished run (completed or skipped) before `before`: an alert's last evaluation."""
    return session.exec(
        select(ActionRun)
        .where(ActionRun.action_id == action_id,
               col(ActionRun.status).in_([ActionRunStatus.COMPLETED, ActionRunStatus.SKIPPED]),
               ActionRun.scheduled_at < before)
        .order_by(col(ActionRun.scheduled_at).desc())
        .limit(1)
    ).first()  # fmt: skip


def succeeded_between(session: Session, scanner_ids: list[UUID], start: datetime, end: datetime,
                      *, by: str = "created_at") -> Sequence[Observation]:  # fmt: skip
    column = Observation.created_at if by == "created_at" else Observation.completed_at
    return session.exec(
        select(Observation).where(
            col(Observation.scanner_id).in_(scanner_ids), Observation.status == ObservationStatus.SUCCEEDED,
            column >= start, column < end,
        )
    ).all()  # fmt: skip
