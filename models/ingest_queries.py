"""Reads and writes of live ingest: tokens, stored batch ids, a team's allowed origins. None commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlmodel import Session, col, select, update

from models.ingest import IngestBatch, IngestToken
from models.recordings import Recording
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


def team_origins(session: Session, team_id: int) -> list[str] | None:
    """The team's allowed ingest origins; None when there is no such team."""
    team = session.get(Team, team_id)
    return None if team is None else list(team.ingest_origins or [])


def waiting_batches(session: Session, team_id: int, session_id: str) -> Sequence[IngestBatch]:
    """A session's batches not yet merged into its recording, in the order they arrived."""
    return session.exec(
        select(IngestBatch)
        .where(
            IngestBatch.team_id == team_id,
            IngestBatch.session_id == session_id,
            col(IngestBatch.merged_at).is_(None),
        )
        .order_by(col(IngestBatch.received_at), col(IngestBatch.batch_id))
    ).all()


def mark_merged(session: Session, batch_ids: list[UUID], now: datetime) -> int:
    """Mark batches merged; how many were still waiting (fewer: another merge took some)."""
    statement = (
        update(IngestBatch)
        .where(col(IngestBatch.id).in_(batch_ids), col(IngestBatch.merged_at).is_(None))
        .values(merged_at=now, blob_ref=None)
    )
    return session.exec(statement).rowcount


def sessions_waiting(session: Session, received_before: datetime, limit: int) -> list[tuple[int, str]]:
    """(team, session) pairs with a batch waiting for a merge since before `received_before`."""
    statement = (
        select(IngestBatch.team_id, IngestBatch.session_id)
        .where(col(IngestBatch.merged_at).is_(None), IngestBatch.received_at < received_before)
        .distinct()
        .limit(limit)
    )
    return [(team_id, session_id) for team_id, session_id in session.exec(statement)]


def touch_recording(session: Session, team_id: int, session_id: str, now: datetime) -> None:
    """A batch arrived: the recording (if it exists yet) is not settled before `now` + settle."""
    session.exec(
        update(Recording)
        .where(col(Recording.team_id) == team_id, col(Recording.session_id) == session_id)
        .values(last_ingested_at=now)
    )
