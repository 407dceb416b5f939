"""Queries of the web pages: signed-in sessions and people's labels on observations."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlmodel import Session, col, delete, select

from models.queries import holder_and_teams
from models.signals import Signal, SignalReport
from models.tenancy import User, WebSession
from models.vision import Observation, ObservationLabel, UsageReceipt


def session_and_user(session: Session, token_hash: str) -> tuple[WebSession, User, frozenset[int]] | None:
    """The signed-in session with this token hash, its person and their team ids, in one query."""
    return holder_and_teams(session, WebSession, col(WebSession.user_id), WebSession.token_hash == token_hash)


def end_session(session: Session, token_hash: str) -> None:
    session.exec(delete(WebSession).where(col(WebSession.token_hash) == token_hash))


def drop_expired_sessions(session: Session, now: datetime) -> None:
    session.exec(delete(WebSession).where(col(WebSession.expires_at) < now))


def label_of(session: Session, observation_id: UUID, user_id: int) -> ObservationLabel | None:
    statement = select(ObservationLabel).where(
        ObservationLabel.observation_id == observation_id, ObservationLabel.user_id == user_id
    )
    return session.exec(statement).first()


def labels_of_observation(session: Session, observation_id: UUID) -> Sequence[ObservationLabel]:
    statement = (
        select(ObservationLabel)
        .where(ObservationLabel.observation_id == observation_id)
        .order_by(col(ObservationLabel.created_at))
    )
    return session.exec(statement).all()


def labels_of_scanner(
    session: Session, team_id: int, scanner_id: UUID, limit: int
) -> Sequence[ObservationLabel]:
    statement = (
        select(ObservationLabel)
        .where(ObservationLabel.team_id == team_id, ObservationLabel.scanner_id == scanner_id)
        .order_by(col(ObservationLabel.created_at).desc())
        .limit(limit)
    )
    return session.exec(statement).all()


def signals_of_observation(
    session: Session, team_id: int, observation_id: UUID
) -> list[tuple[Signal, str | None]]:
    """The live signals an observation emitted (`source_id` `observation:{id}:…`), each with the
    title of the report it joined (None while ungrouped), oldest first."""
    statement = (
        select(Signal, SignalReport.title)
        .outerjoin(SignalReport, col(SignalReport.id) == Signal.report_id)
        .where(
            Signal.team_id == team_id,
            col(Signal.source_id).startswith(f"observation:{observation_id}:"),
            col(Signal.deleted).is_(False),
        )
        .order_by(col(Signal.created_at))
    )
    return [(signal, title) for signal, title in session.exec(statement).all()]


def receipt_of(session: Session, observation_id: UUID) -> UsageReceipt | None:
    return session.exec(select(UsageReceipt).where(UsageReceipt.observation_id == observation_id)).first()


def observation_in(session: Session, observation_id: UUID, team_ids: frozenset[int]) -> Observation | None:
    """The observation with this id if one of `team_ids` owns it, else None (never another team's)."""
    row = session.get(Observation, observation_id)
    return row if row is not None and row.team_id in team_ids else None


def observations_of_session(
    session: Session, team_id: int, session_id: str, limit: int
) -> Sequence[Observation]:
    statement = (
        select(Observation)
        .where(Observation.team_id == team_id, Observation.session_id == session_id)
        .order_by(col(Observation.created_at).desc())
        .limit(limit)
    )
    return session.exec(statement).all()


def drop_labels(session: Session, observation_id: UUID) -> None:
    session.exec(delete(ObservationLabel).where(col(ObservationLabel.observation_id) == observation_id))


def observation_outcomes_since(
    session: Session, scanner_id: UUID, since: datetime
) -> list[tuple[datetime, str, str | None, float | None]]:
    """(created_at, status, verdict, score) of a scanner's observations since `since`."""
    statement = select(
        Observation.created_at, Observation.status, Observation.result_verdict, Observation.result_score
    ).where(Observation.scanner_id == scanner_id, col(Observation.created_at) >= since)
    return [
        (created, str(status), verdict, score) for created, status, verdict, score in session.exec(statement)
    ]
