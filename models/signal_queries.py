"""Reads and conditional writes for signals and reports. None of them commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlmodel import Session, col, func, or_, select, update

from models.signals import ProcessingState, ReportArtefact, ReportStatus, Signal, SignalReport


def paused_until(session: Session, team_id: int, now: datetime) -> datetime | None:
    """The team's pause, or None when there is none or it has expired (an expired pause reads as none)."""
    from models.base import as_utc

    state = session.get(ProcessingState, team_id)
    until = as_utc(state.paused_until) if state is not None else None
    return until if until is not None and until > now else None


def ungrouped(session: Session, team_id: int, limit: int) -> Sequence[Signal]:
    """The team's signals waiting for grouping, in arrival order."""
    return session.exec(
        select(Signal)
        .where(Signal.team_id == team_id, col(Signal.grouped_at).is_(None), col(Signal.deleted).is_(False))
        .order_by(col(Signal.created_at), col(Signal.id))
        .limit(limit)
    ).all()


def pool_rows(session: Session, team_id: int, model: str, since: datetime) -> list[Any]:
    """(embedding, report_id) of the team's grouped, live signals of `model` since `since`."""
    return list(
        session.exec(
            select(Signal.embedding, Signal.report_id)
            .join(SignalReport, col(SignalReport.id) == Signal.report_id)
            .where(
                Signal.team_id == team_id,
                Signal.embedding_model == model,
                col(Signal.deleted).is_(False),
                col(Signal.grouped_at).is_not(None),
                Signal.created_at >= since,
                SignalReport.status != ReportStatus.DELETED,
            )
            .order_by(col(Signal.created_at))
        )
    )


def mark_grouped(session: Session, signal_id: UUID, **values: Any) -> bool:
    """Group one signal, if nobody grouped it meanwhile (a redelivered batch, say)."""
    statement = (
        update(Signal).where(col(Signal.id) == signal_id, col(Signal.grouped_at).is_(None)).values(**values)
    )
    return session.exec(statement).rowcount == 1


def report_signals(session: Session, report_id: UUID, limit: int) -> Sequence[Signal]:
    """A report's newest live signals."""
    return session.exec(
        select(Signal)
        .where(Signal.report_id == report_id, col(Signal.deleted).is_(False))
        .order_by(col(Signal.created_at).desc())
        .limit(limit)
    ).all()


def artefacts_of(session: Session, report_id: UUID, kind: str | None = None) -> Sequence[ReportArtefact]:
    statement = select(ReportArtefact).where(ReportArtefact.report_id == report_id)
    if kind is not None:
        statement = statement.where(ReportArtefact.type == kind)
    return session.exec(statement.order_by(col(ReportArtefact.created_at))).all()


def stranded_reports(session: Session, before: datetime) -> Sequence[SignalReport]:
    return session.exec(
        select(SignalReport).where(
            SignalReport.status == ReportStatus.IN_PROGRESS, col(SignalReport.last_run_at) < before
        )
    ).all()


def report_by_fingerprint(session: Session, team_id: int, fingerprint: str, since: datetime) -> UUID | None:
    """The live report that the newest grouped signal with this fingerprint (in the window) joined."""
    return session.exec(
        select(Signal.report_id)
        .join(SignalReport, col(SignalReport.id) == Signal.report_id)
        .where(
            Signal.team_id == team_id,
            Signal.fingerprint == fingerprint,
            col(Signal.deleted).is_(False),
            col(Signal.grouped_at).is_not(None),
            Signal.created_at >= since,
            SignalReport.status != ReportStatus.DELETED,
        )
        .order_by(col(Signal.created_at).desc())
        .limit(1)
    ).first()


def related_links(session: Session, report_id: UUID) -> Sequence[ReportArtefact]:
    """A report's `related_to` artefacts: the reports a recurrence after its resolve started."""
    statement = select(ReportArtefact).where(
        ReportArtefact.report_id == report_id, ReportArtefact.type == "related_to"
    )
    return session.exec(statement).all()


def claim_notice(session: Session, report_id: UUID, now: datetime) -> bool:
    """Mark a report notified, once ever: False when it was notified before."""
    statement = (
        update(SignalReport)
        .where(col(SignalReport.id) == report_id, col(SignalReport.notified_at).is_(None))
        .values(notified_at=now)
    )
    return session.exec(statement).rowcount == 1


def team_reports(
    session: Session,
    team_id: int,
    *,
    statuses: Sequence[str] = (),
    include_suppressed: bool = False,
    search: str | None = None,
    source_products: Sequence[str] = (),
) -> Sequence[SignalReport]:
    """A team's reports: deleted never; suppressed only when asked for (or named by `statuses`);
    `search` in the title or summary; only those with a live signal of one of `source_products`."""
    statement = select(SignalReport).where(
        SignalReport.team_id == team_id, SignalReport.status != ReportStatus.DELETED
    )
    if statuses:
        statement = statement.where(col(SignalReport.status).in_(list(statuses)))
    elif not include_suppressed:
        statement = statement.where(SignalReport.status != ReportStatus.SUPPRESSED)
    if search:
        pattern = f"%{search.lower()}%"
        title, summary = (
            func.lower(func.coalesce(SignalReport.title, "")),
            func.lower(func.coalesce(SignalReport.summary, "")),
        )
        statement = statement.where(or_(title.like(pattern), summary.like(pattern)))
    if source_products:
        with_source = select(Signal.report_id).where(
            Signal.team_id == team_id,
            col(Signal.source_product).in_(list(source_products)),
            col(Signal.deleted).is_(False),
        )
        statement = statement.where(col(SignalReport.id).in_(with_source))
    return session.exec(statement).all()


def products_by_report(session: Session, report_ids: Sequence[UUID]) -> dict[UUID, list[str]]:
    """The sorted distinct source products of each report's live signals, by report id."""
    found: dict[UUID, list[str]] = {}
    if report_ids:
        statement = (
            select(Signal.report_id, Signal.source_product)
            .where(col(Signal.report_id).in_(list(report_ids)), col(Signal.deleted).is_(False))
            .distinct()
            .order_by(col(Signal.source_product))
        )
        for report_id, product in session.exec(statement):
            if report_id is not None:
                found.setdefault(report_id, []).append(product)
    return found


def artefact_window(
    session: Session, report_id: UUID, limit: int | None, offset: int
) -> tuple[int, Sequence[ReportArtefact]]:
    """(how many, one page of) a report's artefacts, oldest first."""
    where = col(ReportArtefact.report_id) == report_id
    count = session.exec(select(func.count()).select_from(ReportArtefact).where(where)).one()
    statement = (
        select(ReportArtefact).where(where).order_by(col(ReportArtefact.created_at), col(ReportArtefact.id))
    )
    return count, session.exec(statement.offset(offset).limit(limit)).all()


def artefacts_by_report(session: Session, report_ids: Sequence[UUID]) -> dict[UUID, list[ReportArtefact]]:
    """The artefacts of several reports, oldest first, by report id."""
    found: dict[UUID, list[ReportArtefact]] = {}
    if report_ids:
        statement = (
            select(ReportArtefact)
            .where(col(ReportArtefact.report_id).in_(list(report_ids)))
            .order_by(col(ReportArtefact.created_at))
        )
        for row in session.exec(statement):
            found.setdefault(row.report_id, []).append(row)
    return found


def fail_stranded_report(session: Session, report: SignalReport, changes: dict[str, Any]) -> bool:
    """Apply `changes` only if nothing moved the report since it was read (a summary finishing now)."""
    statement = (
        update(SignalReport)
        .where(
            col(SignalReport.id) == report.id,
            col(SignalReport.status) == "in_progress",
            col(SignalReport.last_run_at) == report.last_run_at,
        )
        .values(**changes)
    )
    return session.exec(statement).rowcount == 1
