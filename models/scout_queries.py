"""Queries of scouts: configs, runs (claimed once per scout and scheduled time), the team's recent
recordings and positive observations they read, and the cached project profile."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from models.recordings import Recording
from models.scouts import ProjectProfile, ScoutConfig, ScoutRun
from models.vision import Observation, ObservationStatus, Scanner


def team_configs(session: Session, team_id: int) -> Sequence[ScoutConfig]:
    statement = select(ScoutConfig).where(ScoutConfig.team_id == team_id)
    return session.exec(statement.order_by(col(ScoutConfig.skill_name))).all()


def config_named(session: Session, team_id: int, skill_name: str) -> ScoutConfig | None:
    statement = select(ScoutConfig).where(
        ScoutConfig.team_id == team_id, ScoutConfig.skill_name == skill_name
    )
    return session.exec(statement).first()


def enabled_count(session: Session, team_id: int) -> int:
    statement = select(func.count()).where(ScoutConfig.team_id == team_id, col(ScoutConfig.enabled))
    return session.exec(statement).one()


def enabled_configs(session: Session) -> Sequence[ScoutConfig]:
    """Every team's enabled scouts, by team then name (the scheduler's order)."""
    statement = select(ScoutConfig).where(col(ScoutConfig.enabled))
    return session.exec(statement.order_by(col(ScoutConfig.team_id), col(ScoutConfig.skill_name))).all()


def runs_since(session: Session, team_id: int, since: datetime) -> int:
    statement = select(func.count()).where(ScoutRun.team_id == team_id, col(ScoutRun.created_at) >= since)
    return session.exec(statement).one()


def insert_run(session: Session, run: ScoutRun) -> bool:
    """Insert the run unless its (config, scheduled time) exists; whether it was inserted."""
    try:
        with session.begin_nested():
            session.add(run)
    except IntegrityError:
        return False
    return True


def recent_runs(
    session: Session,
    team_id: int,
    *,
    limit: int,
    date_from: datetime | None = None,
    date_to: datetime | None = None,
    emitted: bool | None = None,
    skill_name: str | None = None,
    skill_version: int | None = None,
    text: str | None = None,
) -> Sequence[ScoutRun]:
    """A team's runs, newest first, in the half-open window [date_from, date_to) and the filters."""
    statement = select(ScoutRun).where(ScoutRun.team_id == team_id)
    if date_from is not None:
        statement = statement.where(col(ScoutRun.created_at) >= date_from)
    if date_to is not None:
        statement = statement.where(col(ScoutRun.created_at) < date_to)
    if emitted is not None:
        statement = statement.where((col(ScoutRun.emitted_count) > 0) == emitted)
    if skill_name is not None:
        statement = statement.where(ScoutRun.skill_name == skill_name)
    if skill_version is not None:
        statement = statement.where(ScoutRun.skill_version == skill_version)
    if text:
        statement = statement.where(col(ScoutRun.summary).ilike(f"%{text}%"))
    order = (col(ScoutRun.created_at).desc(), col(ScoutRun.id))
    return session.exec(statement.order_by(*order).limit(limit)).all()


def recordings_between(
    session: Session, team_id: int, start: datetime, end: datetime, limit: int
) -> Sequence[Recording]:
    """The team's recordings that started in [start, end), newest first, at most `limit`."""
    statement = select(Recording).where(
        Recording.team_id == team_id, col(Recording.start_time) >= start, col(Recording.start_time) < end
    )
    return session.exec(statement.order_by(col(Recording.start_time).desc()).limit(limit)).all()


def positive_observations(
    session: Session, team_id: int, session_ids: Sequence[str]
) -> list[tuple[str, str]]:
    """(session id, scanner name) of each succeeded `yes` observation of these sessions."""
    if not session_ids:
        return []
    statement = (
        select(Observation.session_id, Scanner.name)
        .join(Scanner, col(Scanner.id) == Observation.scanner_id)
        .where(
            Observation.team_id == team_id,
            col(Observation.session_id).in_(session_ids),
            Observation.status == ObservationStatus.SUCCEEDED,
            Observation.result_verdict == "yes",
        )
    )
    return [(session_id, name) for session_id, name in session.exec(statement)]


def latest_profile(session: Session, team_id: int, now: datetime | None = None) -> ProjectProfile | None:
    """The newest profile of the team (not expired at `now`, when given)."""
    statement = select(ProjectProfile).where(ProjectProfile.team_id == team_id)
    if now is not None:
        statement = statement.where(col(ProjectProfile.expires_at) > now)
    return session.exec(statement.order_by(col(ProjectProfile.computed_at).desc()).limit(1)).first()


def count_by(session: Session, column: object, *where: object) -> list[tuple[str, int]]:
    """(value, rows) of `column` under the conditions, by value."""
    statement = select(column, func.count()).where(*where).group_by(column)  # type: ignore[call-overload]
    found = Counter({str(value): count for value, count in session.exec(statement)})
    return sorted(found.items())


def run_by_id(session: Session, run_id: UUID) -> ScoutRun | None:
    return session.get(ScoutRun, run_id)
