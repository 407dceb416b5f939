"""Reads and conditional writes of the reapers (DESIGN §6): lost and stuck work. None of them commits.

Every write is conditional on what was read (status, send count, `updated_at`), so two schedulers
that both think they lead cannot reap the same row twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlmodel import Session, col, func, or_, select, update

from models.actions import ActionRun, ActionRunStatus, Delivery, DeliveryStatus
from models.signals import ProcessingState, Signal
from models.vision import Observation, ObservationStatus

# --- reapers -------------------------------------------------------------------------------------

_PROGRESS = func.coalesce(Observation.started_at, Observation.last_sent_at, Observation.created_at)


def stale_pending(session: Session, before: datetime, limit: int) -> list[tuple[UUID, int]]:
    """Pending observations with no progress (claim, send or creation) since `before`."""
    return list(
        session.exec(
            select(Observation.id, Observation.send_count)
            .where(Observation.status == ObservationStatus.PENDING, before > _PROGRESS)
            .order_by(col(Observation.created_at))
            .limit(limit)
        )
    )


def _changed(session: Session, model: Any, key: UUID, *conditions: Any, **values: Any) -> bool:
    """One conditional UPDATE of one row; True when it matched."""
    statement = update(model).where(col(model.id) == key, *conditions).values(**values)
    return session.exec(statement).rowcount == 1


def mark_resent(session: Session, observation_id: UUID, send_count: int, now: datetime) -> bool:
    conditions = (Observation.status == ObservationStatus.PENDING, Observation.send_count == send_count)
    values = {"send_count": send_count + 1, "last_sent_at": now}
    return _changed(session, Observation, observation_id, *conditions, **values)


def orphan(
    session: Session,
    observation_id: UUID,
    source: ObservationStatus,
    reason: str,
    now: datetime,
    **where: Any,
) -> bool:
    statement = update(Observation).where(
        col(Observation.id) == observation_id, col(Observation.status) == source
    )
    for name, value in where.items():
        statement = statement.where(getattr(Observation, name) == value)
    statement = statement.values(status=ObservationStatus.FAILED, error_reason=reason, completed_at=now)
    return session.exec(statement).rowcount == 1


def _lapsed(now: datetime, unleased_before: datetime) -> Any:
    """Running with a lease that lapsed before `now`, or with none (claimed by a worker older than
    leases) since before `unleased_before`."""
    lease = col(Observation.lease_until)
    unleased = lease.is_(None) & (col(Observation.started_at) < unleased_before)
    return (col(Observation.status) == ObservationStatus.RUNNING) & ((lease < now) | unleased)


def lapsed_running(
    session: Session, now: datetime, unleased_before: datetime, limit: int
) -> list[tuple[UUID, int, int]]:
    """Running observations whose worker stopped (see `_lapsed`): (id, attempt, takeovers)."""
    return list(
        session.exec(
            select(Observation.id, Observation.attempts, Observation.takeovers)
            .where(_lapsed(now, unleased_before))
            .order_by(col(Observation.lease_until))
            .limit(limit)
        )
    )


def end_lapsed(
    session: Session,
    observation_id: UUID,
    attempt: int,
    now: datetime,
    unleased_before: datetime,
    **values: Any,
) -> bool:
    """Set `values` on the observation if that attempt still holds it and its lease is still lapsed."""
    conditions = (_lapsed(now, unleased_before), Observation.attempts == attempt)
    return _changed(session, Observation, observation_id, *conditions, **values)


def fail_stuck_runs(session: Session, before: datetime, error: str, now: datetime) -> int:
    statement = (
        update(ActionRun)
        .where(col(ActionRun.status) == ActionRunStatus.RUNNING, col(ActionRun.started_at) < before)
        .values(status=ActionRunStatus.FAILED, error=error, completed_at=now, updated_at=now)
    )
    return session.exec(statement).rowcount


def teams_to_group(session: Session, now: datetime) -> list[int]:
    """Teams with ungrouped, undeleted signals whose processing is not paused."""
    paused = select(ProcessingState.team_id).where(col(ProcessingState.paused_until) > now)
    return list(
        session.exec(
            select(Signal.team_id)
            .where(
                col(Signal.grouped_at).is_(None),
                col(Signal.deleted).is_(False),
                col(Signal.team_id).not_in(paused),
            )
            .distinct()
        )
    )


# --- lost runs and deliveries ---------------------------------------------------------------------


def stale_runs(
    session: Session, before: datetime, started_after: datetime, limit: int
) -> list[tuple[UUID, datetime]]:
    """Action runs still `running` with no progress since `before` (their message may be lost)."""
    return list(
        session.exec(
            select(ActionRun.id, ActionRun.updated_at)
            .where(
                ActionRun.status == ActionRunStatus.RUNNING,
                ActionRun.updated_at < before,
                ActionRun.started_at >= started_after,
            )
            .limit(limit)
        )
    )


def touch_run(session: Session, run_id: UUID, seen: datetime, now: datetime) -> bool:
    return _changed(
        session,
        ActionRun,
        run_id,
        ActionRun.status == ActionRunStatus.RUNNING,
        ActionRun.updated_at == seen,
        updated_at=now,
    )


def stale_deliveries(
    session: Session, pending_before: datetime, sending_before: datetime, limit: int
) -> list[tuple[UUID, datetime, int]]:
    """Deliveries waiting with no progress: pending for a while, or sending past the lease."""
    return list(
        session.exec(
            select(Delivery.id, Delivery.updated_at, Delivery.attempts)
            .where(
                or_(
                    (Delivery.status == DeliveryStatus.PENDING) & (Delivery.updated_at < pending_before),
                    (Delivery.status == DeliveryStatus.SENDING) & (Delivery.updated_at < sending_before),
                )
            )
            .limit(limit)
        )
    )


def touch_delivery(session: Session, delivery_id: UUID, seen: datetime, now: datetime, **values: Any) -> bool:
    statement = (
        update(Delivery)
        .where(
            col(Delivery.id) == delivery_id,
            col(Delivery.updated_at) == seen,
            col(Delivery.status).in_([DeliveryStatus.PENDING, DeliveryStatus.SENDING]),
        )
        .values(updated_at=now, **values)
    )
    return session.exec(statement).rowcount == 1
