"""Reads and conditional writes for actions, their runs and deliveries. None of them commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlmodel import Session, col, func, or_, select, update

from models.actions import ActionRun, ActionRunStatus, Delivery, DeliveryStatus, VisionAction
from models.tenancy import Integration
from models.vision import Observation, ObservationStatus, Scanner


def previous_completed(session: Session, action_id: UUID, before: datetime) -> ActionRun | None:
    """The latest completed run scheduled before `before`: where this run's window starts."""
    return _latest_before(session, action_id, before, [ActionRunStatus.COMPLETED])


def previous_evaluated(session: Session, action_id: UUID, before: datetime) -> ActionRun | None:
    """The latest finished run (completed or skipped) before `before`: an alert's last evaluation."""
    return _latest_before(session, action_id, before, [ActionRunStatus.COMPLETED, ActionRunStatus.SKIPPED])


def _latest_before(
    session: Session, action_id: UUID, before: datetime, statuses: list[ActionRunStatus]
) -> ActionRun | None:
    statement = (
        select(ActionRun)
        .where(
            ActionRun.action_id == action_id,
            col(ActionRun.status).in_(statuses),
            ActionRun.scheduled_at < before,
        )
        .order_by(col(ActionRun.scheduled_at).desc())
        .limit(1)
    )
    return session.exec(statement).first()


def completed_between(
    session: Session, scanner_ids: list[UUID], start: datetime, end: datetime
) -> Sequence[Observation]:
    """The scanners' succeeded observations completed in [start, end): a run's window."""
    statement = select(Observation).where(
        col(Observation.scanner_id).in_(scanner_ids),
        Observation.status == ObservationStatus.SUCCEEDED,
        col(Observation.completed_at) >= start,
        col(Observation.completed_at) < end,
    )
    return session.exec(statement).all()


def action_named(session: Session, team_id: int, name: str) -> VisionAction | None:
    return session.exec(
        select(VisionAction).where(VisionAction.team_id == team_id, VisionAction.name == name)
    ).first()


def team_actions(
    session: Session, team_id: int, scanner_id: UUID | None, limit: int | None, offset: int
) -> tuple[int, Sequence[VisionAction]]:
    """(how many, one page of) a team's actions by name; only those over `scanner_id` when given."""
    where = [col(VisionAction.team_id) == team_id]
    if scanner_id is not None:
        where.append(col(VisionAction.scanner_id) == scanner_id)
    count = session.exec(select(func.count()).select_from(VisionAction).where(*where)).one()
    statement = select(VisionAction).where(*where).order_by(col(VisionAction.name), col(VisionAction.id))
    return count, session.exec(statement.offset(offset).limit(limit)).all()


def team_scanner_ids(session: Session, team_id: int) -> list[str]:
    """The ids (as text) of a team's scanners: what an action's selection may name."""
    statement = select(Scanner.id).where(Scanner.team_id == team_id)
    return [str(scanner_id) for scanner_id in session.exec(statement)]


def has_runs(session: Session, action_id: UUID) -> bool:
    statement = select(ActionRun.id).where(ActionRun.action_id == action_id).limit(1)
    return session.exec(statement).first() is not None


def recent_runs(session: Session, action_id: UUID, limit: int) -> Sequence[ActionRun]:
    """An action's latest runs, newest first."""
    return session.exec(
        select(ActionRun)
        .where(ActionRun.action_id == action_id)
        .order_by(col(ActionRun.scheduled_at).desc())
        .limit(limit)
    ).all()


def run_deliveries(
    session: Session, run_id: UUID, status: DeliveryStatus | None = None
) -> Sequence[Delivery]:
    """A run's deliveries (only those in `status`, when given)."""
    statement = select(Delivery).where(Delivery.action_run_id == run_id)
    if status is not None:
        statement = statement.where(Delivery.status == status)
    return session.exec(statement).all()


def delivery_exists(session: Session, run_id: UUID, target: str) -> bool:
    statement = select(Delivery.id).where(Delivery.action_run_id == run_id, Delivery.target == target)
    return session.exec(statement).first() is not None


def move_delivery(
    session: Session, delivery_id: UUID, source: Sequence[DeliveryStatus], now: datetime, **values: Any
) -> bool:
    """Change a delivery if it is still in one of the `source` statuses."""
    statement = (
        update(Delivery)
        .where(col(Delivery.id) == delivery_id, col(Delivery.status).in_(list(source)))
        .values(updated_at=now, **values)
    )
    return session.exec(statement).rowcount == 1


def claim_delivery(session: Session, delivery_id: UUID, now: datetime, lease_s: int) -> bool:
    """pending → sending, or take over a `sending` row whose lease expired: one poster at a time."""
    lease_start = now - timedelta(seconds=lease_s)
    expired = (Delivery.status == DeliveryStatus.SENDING) & (Delivery.updated_at < lease_start)
    statement = (
        update(Delivery)
        .where(col(Delivery.id) == delivery_id, or_(Delivery.status == DeliveryStatus.PENDING, expired))
        .values(status=DeliveryStatus.SENDING, attempts=Delivery.attempts + 1, updated_at=now)
    )
    return session.exec(statement).rowcount == 1


def renew_delivery(session: Session, delivery_id: UUID, attempt: int, now: datetime) -> bool:
    """Keep attempt `attempt`'s hold on a `sending` delivery; False once it was taken over or finished."""
    statement = (
        update(Delivery)
        .where(
            col(Delivery.id) == delivery_id,
            col(Delivery.status) == DeliveryStatus.SENDING,
            col(Delivery.attempts) == attempt,
        )
        .values(updated_at=now)
    )
    return session.exec(statement).rowcount == 1


def team_integrations(session: Session, team_id: int) -> Sequence[Integration]:
    """A team's integrations, oldest first."""
    return session.exec(
        select(Integration).where(Integration.team_id == team_id).order_by(col(Integration.created_at))
    ).all()


def scanner_actions(session: Session, scanner_id: UUID) -> Sequence[VisionAction]:
    """The actions bound to a scanner."""
    return session.exec(select(VisionAction).where(VisionAction.scanner_id == scanner_id)).all()
