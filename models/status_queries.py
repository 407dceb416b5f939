"""The counts and lists behind `sightline status`. Reads only."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, func, select

from models.actions import ActionRun, Delivery, DeliveryStatus, VisionAction
from models.jobs import JobRun, JobStatus
from models.signals import Signal, SignalReport
from models.vision import Observation, ObservationStatus, Scanner, UsageReceipt


def team_scanners_by_name(session: Session) -> Sequence[Scanner]:
    return session.exec(select(Scanner).order_by(Scanner.name)).all()


def action_schedules(session: Session) -> Sequence[VisionAction]:
    return session.exec(select(VisionAction).order_by(VisionAction.name)).all()


def observation_counts(session: Session) -> dict[str, int]:
    rows = session.exec(select(Observation.status, func.count()).group_by(Observation.status)).all()
    return {str(status): count for status, count in rows}


def ungrouped_count(session: Session) -> int:
    statement = (
        select(func.count())
        .select_from(Signal)
        .where(col(Signal.grouped_at).is_(None), col(Signal.deleted).is_(False))
    )
    return session.exec(statement).one()


def report_counts(session: Session) -> dict[str, int]:
    rows = session.exec(select(SignalReport.status, func.count()).group_by(SignalReport.status)).all()
    return {str(status): count for status, count in rows}


def failures_since(session: Session, since: datetime) -> dict[str, int]:
    """Failed actor attempts per actor since `since`."""
    statement = (
        select(JobRun.actor, func.count())
        .where(JobRun.status == JobStatus.FAILED, JobRun.started_at >= since)
        .group_by(col(JobRun.actor))
    )
    return dict(session.exec(statement).all())


def observation_failures_since(session: Session, since: datetime) -> dict[str, int]:
    """Observations failed since `since`, per kind (the `kind` of their `kind:message` reason)."""
    statement = (
        select(Observation.error_reason, func.count())
        .where(Observation.status == ObservationStatus.FAILED, col(Observation.completed_at) >= since)
        .group_by(col(Observation.error_reason))
    )
    kinds: dict[str, int] = {}
    for reason, count in session.exec(statement).all():
        kind = (reason or "").partition(":")[0] or "unknown"
        kinds[kind] = kinds.get(kind, 0) + count
    return dict(sorted(kinds.items()))


def delivery_counts(session: Session) -> dict[str, int]:
    rows = session.exec(select(Delivery.status, func.count()).group_by(Delivery.status)).all()
    return {str(status): count for status, count in rows}


def token_totals(session: Session) -> dict[str, int]:
    """Input and output tokens of every receipt (the model calls that succeeded)."""
    statement = select(
        func.coalesce(func.sum(UsageReceipt.input_tokens), 0),
        func.coalesce(func.sum(UsageReceipt.output_tokens), 0),
    )
    inputs, outputs = session.exec(statement).one()
    return {"input": int(inputs), "output": int(outputs)}


def database_answers(session: Session) -> None:
    session.exec(select(1)).one()


def job_runs(
    session: Session,
    *,
    actor: str | None,
    status: str | None,
    since: datetime | None,
    limit: int,
    offset: int,
) -> tuple[int, Sequence[JobRun]]:
    """(how many match, one page of) actor attempts, newest first."""
    where: list[Any] = []
    if actor:
        where.append(JobRun.actor == actor)
    if status:
        where.append(JobRun.status == status)
    if since is not None:
        where.append(col(JobRun.started_at) >= since)
    count = session.exec(select(func.count()).select_from(JobRun).where(*where)).one()
    page = select(JobRun).where(*where).order_by(col(JobRun.started_at).desc()).offset(offset).limit(limit)
    return count, session.exec(page).all()


def job_actors(session: Session) -> list[str]:
    return sorted(session.exec(select(JobRun.actor).distinct()).all())


def failed_observations(session: Session, limit: int) -> Sequence[Observation]:
    statement = (
        select(Observation)
        .where(Observation.status == "failed")
        .order_by(col(Observation.created_at).desc())
        .limit(limit)
    )
    return session.exec(statement).all()


def credits_by_scanner(session: Session, since: datetime) -> list[tuple[str, int, int]]:
    """(scanner name, observations, credits) of the receipts since `since`, most credits first."""
    statement = (
        select(Scanner.name, func.count(), func.coalesce(func.sum(UsageReceipt.credits), 0))
        .join(Scanner, col(Scanner.id) == UsageReceipt.scanner_id)
        .where(col(UsageReceipt.observation_created_at) >= since)
        .group_by(col(Scanner.name))
        .order_by(func.coalesce(func.sum(UsageReceipt.credits), 0).desc())
    )
    return [(name, count, int(credits)) for name, count, credits in session.exec(statement).all()]


def recent_action_runs(session: Session, limit: int) -> list[tuple[ActionRun, str, dict[str, int]]]:
    """The newest action runs, each with its action's name and its deliveries counted by status."""
    runs = session.exec(
        select(ActionRun, VisionAction.name)
        .join(VisionAction, col(VisionAction.id) == ActionRun.action_id)
        .order_by(col(ActionRun.created_at).desc())
        .limit(limit)
    ).all()
    ids = [run.id for run, _ in runs]
    counts: dict[Any, dict[str, int]] = {}
    if ids:
        statement = (
            select(Delivery.action_run_id, Delivery.status, func.count())
            .where(col(Delivery.action_run_id).in_(ids))
            .group_by(col(Delivery.action_run_id), col(Delivery.status))
        )
        for run_id, status, count in session.exec(statement).all():
            counts.setdefault(run_id, {})[str(status)] = count
    return [(run, name, counts.get(run.id, {})) for run, name in runs]


def failed_deliveries(session: Session, limit: int) -> Sequence[Delivery]:
    statement = (
        select(Delivery)
        .where(Delivery.status == DeliveryStatus.FAILED)
        .order_by(col(Delivery.updated_at).desc())
        .limit(limit)
    )
    return session.exec(statement).all()
