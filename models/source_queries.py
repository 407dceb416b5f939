"""Reads and conditional writes for recording sources. None of them commits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from uuid import UUID

from sqlmodel import Session, col, or_, select, update

from models.recordings import Recording
from models.sources import RecordingSource, SourceKind


def team_sources(session: Session, team_id: int) -> Sequence[RecordingSource]:
    """A team's sources, oldest first."""
    statement = (
        select(RecordingSource)
        .where(RecordingSource.team_id == team_id)
        .order_by(col(RecordingSource.created_at), col(RecordingSource.id))
    )
    return session.exec(statement).all()


def source_at(
    session: Session, team_id: int, kind: SourceKind, host: str, project_id: int
) -> RecordingSource | None:
    """The team's source for this project, if it has one (the natural key)."""
    statement = select(RecordingSource).where(
        RecordingSource.team_id == team_id,
        RecordingSource.kind == kind,
        RecordingSource.host == host,
        RecordingSource.project_id == project_id,
    )
    return session.exec(statement).first()


def due_source_ids(
    session: Session, now: datetime, team_id: int | None = None, force: bool = False
) -> list[UUID]:
    """Enabled sources due a poll (every enabled one when `force`), never one backed off past now."""
    statement = select(RecordingSource.id).where(
        col(RecordingSource.enabled).is_(True),
        or_(col(RecordingSource.backoff_until).is_(None), col(RecordingSource.backoff_until) <= now),
    )
    if not force:
        statement = statement.where(
            or_(col(RecordingSource.next_poll_at).is_(None), col(RecordingSource.next_poll_at) <= now)
        )
    if team_id is not None:
        statement = statement.where(RecordingSource.team_id == team_id)
    return list(session.exec(statement.order_by(col(RecordingSource.next_poll_at), col(RecordingSource.id))))


def claim_poll(session: Session, source_id: UUID, seen: datetime | None, until: datetime) -> bool:
    """Move the source's next poll to `until` if nobody moved it since it read `seen`: a claim."""
    condition = (
        col(RecordingSource.next_poll_at).is_(None)
        if seen is None
        else col(RecordingSource.next_poll_at) == seen
    )
    statement = (
        update(RecordingSource)
        .where(col(RecordingSource.id) == source_id, condition)
        .values(next_poll_at=until)
    )
    return session.exec(statement).rowcount == 1


def stored_session_ids(session: Session, team_id: int, session_ids: Iterable[str]) -> set[str]:
    """Which of `session_ids` the team already has a recording of."""
    wanted = list(session_ids)
    if not wanted:
        return set()
    statement = select(Recording.session_id).where(
        Recording.team_id == team_id, col(Recording.session_id).in_(wanted)
    )
    return set(session.exec(statement))
