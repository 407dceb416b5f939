"""Reads and writes of live ingest: tokens, stored batch ids, a team's allowed origins. None commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlmodel import Session, col, select, update

from models.ingest import IngestBatch, IngestToken
from models.tenancy import Team


def token_by_hash(session: Session, token_hash: str) -> IngestToken | None:
    return session.exec(select(IngestToken).where(IngestToken.token_hash == token_hash)).first()


def team_tokens(session: Session, team_id: int | None = None) -> Sequence[IngestToken]:
    """Tokens, newest first; of one team when `team_id` is given."""
    statement = select(IngestToken).order_by(col(IngestToken.created_at).desc())
    if team_id is not None:
        statement = statement.where(IngestToken.team_id == team_id)
    return session.exec(statement).all()


def touch_token(session: Session, token_id: UUID, now: datetime) -> None:
    session.exec(update(IngestToken).where(col(IngestToken.id) == token_id).values(last_used_at=now))


def batch_stored(session: Session, team_id: int, session_id: str, batch_id: str) -> bool:
    statement = select(IngestBatch.id).where(
        IngestBatch.team_id == team_id, IngestBatch.session_id == session_id, IngestBatch.batch_id == batch_id
    )
    return session.exec(statement).first() is not None


def team_origins(session: Session, team_id: int) -> list[str] | None:
    """The team's allowed ingest origins; None when there is no such team."""
    team = session.get(Team, team_id)
    return None if team is None else list(team.ingest_origins or [])
