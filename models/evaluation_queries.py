"""Reads for evaluations, their results and the observations they take. None of them commits."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlmodel import Session, col, func, or_, select

from models.evaluations import Evaluation, EvaluationResult, ResultStatus
from models.vision import Observation, ObservationLabel, ObservationStatus, Scanner

EVALUATION_ORDERS = ("created_at", "updated_at", "name")


@dataclass(frozen=True)
class EvaluationFilters:
    enabled: bool | None = None
    ids: Sequence[UUID] | None = None
    search: str | None = None


def filtered_evaluations(
    session: Session, team_id: int, filters: EvaluationFilters, order_by: str, limit: int, offset: int
) -> tuple[int, Sequence[Evaluation]]:
    """(how many live ones match, one page) in `order_by` (an EVALUATION_ORDERS name; `-` descends)."""
    where = [col(Evaluation.team_id) == team_id, col(Evaluation.deleted).is_(False)]
    if filters.enabled is not None:
        where.append(col(Evaluation.enabled).is_(filters.enabled))
    if filters.ids is not None:
        where.append(col(Evaluation.id).in_(list(filters.ids)))
    if filters.search:
        pattern = f"%{filters.search.lower()}%"
        where.append(
            or_(func.lower(Evaluation.name).like(pattern), func.lower(Evaluation.description).like(pattern))
        )
    count = session.exec(select(func.count()).select_from(Evaluation).where(*where)).one()
    column = col(getattr(Evaluation, order_by.lstrip("-")))
    ordered = (column.desc() if order_by.startswith("-") else column.asc(), col(Evaluation.id))
    rows = session.exec(select(Evaluation).where(*where).order_by(*ordered).offset(offset).limit(limit)).all()
    return count, rows


def live_evaluation(session: Session, team_id: int, evaluation_id: UUID) -> Evaluation | None:
    """A team's evaluation that is not deleted."""
    found = session.get(Evaluation, evaluation_id)
    return found if found is not None and found.team_id == team_id and not found.deleted else None


def evaluation_named(session: Session, team_id: int, name: str) -> Evaluation | None:
    statement = select(Evaluation).where(
        Evaluation.team_id == team_id, Evaluation.name == name, col(Evaluation.deleted).is_(False)
    )
    return session.exec(statement).first()


def enabled_evaluations(session: Session) -> Sequence[Evaluation]:
    """Every team's enabled, live evaluations (the automatic pass's work list)."""
    statement = select(Evaluation).where(
        col(Evaluation.enabled).is_(True), col(Evaluation.deleted).is_(False)
    )
    return session.exec(statement.order_by(col(Evaluation.id))).all()


def completed_since(
    session: Session, team_id: int, after: datetime | None, after_id: UUID | None, limit: int
) -> Sequence[tuple[Observation, str]]:
    """A team's succeeded observations completed after (`after`, `after_id`), oldest first, with their
    scanner's name."""
    statement = (
        select(Observation, Scanner.name)
        .join(Scanner, col(Scanner.id) == col(Observation.scanner_id))
        .where(Observation.team_id == team_id, Observation.status == ObservationStatus.SUCCEEDED)
    )
    if after is not None:
        later = col(Observation.completed_at) > after
        tie = (
            (col(Observation.completed_at) == after) & (col(Observation.id) > after_id) if after_id else None
        )
        statement = statement.where(or_(later, tie) if tie is not None else later)
    ordered = statement.order_by(col(Observation.completed_at), col(Observation.id)).limit(limit)
    return [(row, name) for row, name in session.exec(ordered)]


def scanner_window(
    session: Session, scanner_id: UUID, since: datetime, until: datetime, limit: int
) -> Sequence[Observation]:
    """A scanner's succeeded observations completed in [since, until), oldest first."""
    statement = select(Observation).where(
        Observation.scanner_id == scanner_id,
        Observation.status == ObservationStatus.SUCCEEDED,
        col(Observation.completed_at) >= since,
        col(Observation.completed_at) < until,
    )
    return session.exec(
        statement.order_by(col(Observation.completed_at), col(Observation.id)).limit(limit)
    ).all()


def results_since(session: Session, evaluation_id: UUID, since: datetime) -> int:
    statement = (
        select(func.count())
        .select_from(EvaluationResult)
        .where(EvaluationResult.evaluation_id == evaluation_id, col(EvaluationResult.created_at) >= since)
    )
    return session.exec(statement).one()


def result_of(session: Session, evaluation_id: UUID, observation_id: UUID) -> EvaluationResult | None:
    statement = select(EvaluationResult).where(
        EvaluationResult.evaluation_id == evaluation_id, EvaluationResult.observation_id == observation_id
    )
    return session.exec(statement).first()


def results_of_observation(session: Session, observation_id: UUID) -> Sequence[tuple[EvaluationResult, str]]:
    """Every evaluation's result on one observation, with the evaluation's name, by name."""
    statement = (
        select(EvaluationResult, Evaluation.name)
        .join(Evaluation, col(Evaluation.id) == col(EvaluationResult.evaluation_id))
        .where(EvaluationResult.observation_id == observation_id)
        .order_by(col(Evaluation.name))
    )
    return [(row, name) for row, name in session.exec(statement)]


def judged_since(
    session: Session, team_id: int, since: datetime, scanner_id: UUID | None = None
) -> Sequence[tuple[EvaluationResult, str, str, str | None]]:
    """A team's succeeded results written since `since`: (result, scanner name, evaluation name,
    the observation's verdict), for the report. Deleted evaluations are left out."""
    statement = (
        select(EvaluationResult, Scanner.name, Evaluation.name, Observation.result_verdict)
        .join(Evaluation, col(Evaluation.id) == col(EvaluationResult.evaluation_id))
        .join(Observation, col(Observation.id) == col(EvaluationResult.observation_id))
        .join(Scanner, col(Scanner.id) == col(EvaluationResult.scanner_id))
        .where(
            EvaluationResult.team_id == team_id,
            EvaluationResult.status == ResultStatus.SUCCEEDED,
            col(EvaluationResult.completed_at) >= since,
            col(Evaluation.deleted).is_(False),
        )
    )
    if scanner_id is not None:
        statement = statement.where(EvaluationResult.scanner_id == scanner_id)
    return [tuple(row) for row in session.exec(statement)]  # type: ignore[misc]


def ratings_of(session: Session, observation_ids: Sequence[UUID]) -> dict[UUID, list[str]]:
    """Every thumb people gave each of these observations."""
    found: dict[UUID, list[str]] = {}
    ids = list(observation_ids)
    for start in range(0, len(ids), 500):
        statement = select(ObservationLabel.observation_id, ObservationLabel.rating).where(
            col(ObservationLabel.observation_id).in_(ids[start : start + 500])
        )
        for observation_id, rating in session.exec(statement):
            found.setdefault(observation_id, []).append(str(rating))
    return found
