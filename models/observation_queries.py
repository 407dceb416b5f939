"""Reads and conditional writes for observations, usage and scanners. None of them commits."""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlmodel import Session, col, func, select, update

from models.tenancy import Team
from models.vision import IN_FLIGHT_STATUSES, Observation, ObservationStatus, Scanner, UsageReceipt


def in_flight(session: Session, *, scanner_id: UUID | None = None, team_id: int | None = None) -> int:
    statement = (
        select(func.count()).select_from(Observation).where(col(Observation.status).in_(IN_FLIGHT_STATUSES))
    )
    if scanner_id is not None:
        statement = statement.where(Observation.scanner_id == scanner_id)
    if team_id is not None:
        statement = statement.where(Observation.team_id == team_id)
    return session.exec(statement).one()


def _in_flight_snapshots(session: Session, team_ids: list[int] | None, scanner_id: UUID | None) -> list[dict]:
    statement = select(Observation.scanner_snapshot).where(col(Observation.status).in_(IN_FLIGHT_STATUSES))
    if team_ids is not None:
        statement = statement.where(col(Observation.team_id).in_(team_ids))
    if scanner_id is not None:
        statement = statement.where(Observation.scanner_id == scanner_id)
    return [snapshot or {} for snapshot in session.exec(statement)]


def organization_usage(session: Session, organization_id: UUID, since: datetime, price: Any) -> int:
    """Receipt credits since `since`, plus in-flight reservations at `price(snapshot)`, organisation-wide."""
    receipts = session.exec(
        select(func.coalesce(func.sum(UsageReceipt.credits), 0)).where(
            UsageReceipt.organization_id == organization_id, UsageReceipt.observation_created_at >= since
        )
    ).one()
    team_ids = list(session.exec(select(Team.id).where(Team.organization_id == organization_id)))
    return int(receipts) + sum(price(snapshot) for snapshot in _in_flight_snapshots(session, team_ids, None))


def scanner_usage(session: Session, scanner_id: UUID, since: datetime, price: Any) -> int:
    receipts = session.exec(
        select(func.coalesce(func.sum(UsageReceipt.credits), 0)).where(
            UsageReceipt.scanner_id == scanner_id, UsageReceipt.observation_created_at >= since
        )
    ).one()
    return int(receipts) + sum(
        price(snapshot) for snapshot in _in_flight_snapshots(session, None, scanner_id)
    )


def observed_sessions(session: Session, scanner_id: UUID, session_ids: Iterable[str]) -> set[str]:
    """Which of `session_ids` already have an observation by this scanner (any status)."""
    wanted = list(session_ids)
    statement = select(Observation.session_id).where(
        Observation.scanner_id == scanner_id, col(Observation.session_id).in_(wanted)
    )
    return set(session.exec(statement))


def find_scanner(session: Session, team_id: int, ref: str) -> Scanner | None:
    """A team's scanner by name, or by id."""
    scanner = session.exec(select(Scanner).where(Scanner.team_id == team_id, Scanner.name == ref)).first()
    if scanner is None:
        try:
            scanner = session.get(Scanner, UUID(ref))
        except ValueError:
            return None
    return scanner if scanner is not None and scanner.team_id == team_id else None


def claim(
    session: Session, observation_id: UUID, source: Sequence[ObservationStatus], **values: Any
) -> Observation | None:
    """Like `move_status`, returning the updated row in the same statement (UPDATE … RETURNING)."""
    statement = (
        update(Observation)
        .where(col(Observation.id) == observation_id, col(Observation.status).in_(list(source)))
        .values(**values)
        .returning(Observation)
    )
    return session.exec(statement).scalars().one_or_none()  # type: ignore[attr-defined]


def move_status(
    session: Session, observation_id: UUID, source: Sequence[ObservationStatus], **values: Any
) -> bool:
    """Set `values` on the observation if its status is one of `source`; True when a row changed."""
    statement = (
        update(Observation)
        .where(col(Observation.id) == observation_id, col(Observation.status).in_(list(source)))
        .values(**values)
    )
    return session.exec(statement).rowcount == 1  # type: ignore[attr-defined]
