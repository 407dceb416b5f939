"""The counts and lists behind `sightline status`. Reads only."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, func, select

from models.actions import Delivery, VisionAction
from models.jobs import JobRun, JobStatus
from models.signals import Signal, SignalReport
from models.vision import Observation, Scanner, UsageReceipt


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


def job_totals(session: Session) -> list[tuple[str, str, int, float]]:
    """(actor, status, attempts, summed duration in ms) over the whole job history."""
    statement = select(
        JobRun.actor, JobRun.status, func.count(), func.coalesce(func.sum(JobRun.duration_ms), 0.0)
    )
    rows = session.exec(statement.group_by(col(JobRun.actor), col(JobRun.status))).all()
    return [(actor, str(status), count, float(total)) for actor, status, count, total in rows]


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
