"""Reads and conditional writes for signals and reports. None of them commits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlmodel import Session, and_, case, col, func, or_, select, update

from models.signals import ProcessingState, ReportArtefact, ReportStatus, Signal, SignalReport

# An inbox sort key (`pipeline.inbox.SortKey`): column, descending, rank rules, rank when none matches.
SortKey = tuple[str, bool, Sequence[tuple[Mapping[str, str], int]], int]


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


def _in_pool(statement: Any, team_id: int, model: str, since: datetime) -> Any:
    """`statement` limited to the grouping pool: the team's grouped, live signals of `model` since
    `since`, in reports that are not deleted, oldest first."""
    return (
        statement.join(SignalReport, col(SignalReport.id) == Signal.report_id)
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


def pool_rows(session: Session, team_id: int, model: str, since: datetime) -> list[Any]:
    """(embedding, report_id) of the grouping pool's signals (`_in_pool`)."""
    return list(session.exec(_in_pool(select(Signal.embedding, Signal.report_id), team_id, model, since)))


def pool_signals(session: Session, team_id: int, model: str, since: datetime) -> list[Any]:
    """(signal, its report's title) of the grouping pool's signals (`_in_pool`)."""
    return list(session.exec(_in_pool(select(Signal, SignalReport.title), team_id, model, since)))


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


def report_conditions(
    team_id: int,
    *,
    statuses: Sequence[str] = (),
    include_suppressed: bool = False,
    search: str | None = None,
    source_products: Sequence[str] = (),
    priorities: Sequence[str] = (),
    with_artefact: str | None = None,
) -> list[Any]:
    """WHERE for a team's reports: deleted never; suppressed only when asked for (or named by
    `statuses`); `search` in the title or summary; only those with a live signal of one of
    `source_products`, of one of `priorities`, with an artefact of type `with_artefact`."""
    where: list[Any] = [SignalReport.team_id == team_id, SignalReport.status != ReportStatus.DELETED]
    if statuses:
        where.append(col(SignalReport.status).in_(list(statuses)))
    elif not include_suppressed:
        where.append(SignalReport.status != ReportStatus.SUPPRESSED)
    if search:
        pattern = f"%{search.lower()}%"
        title, summary = (
            func.lower(func.coalesce(SignalReport.title, "")),
            func.lower(func.coalesce(SignalReport.summary, "")),
        )
        where.append(or_(title.like(pattern), summary.like(pattern)))
    if source_products:
        with_source = select(Signal.report_id).where(
            Signal.team_id == team_id,
            col(Signal.source_product).in_(list(source_products)),
            col(Signal.deleted).is_(False),
        )
        where.append(col(SignalReport.id).in_(with_source))
    if priorities:
        where.append(col(SignalReport.priority).in_(list(priorities)))
    if with_artefact is not None:
        where.append(col(SignalReport.id).in_(_with_artefact(team_id, with_artefact)))
    return where


def _with_artefact(team_id: int, kind: str) -> Any:
    return select(ReportArtefact.report_id).where(
        ReportArtefact.team_id == team_id, ReportArtefact.type == kind
    )


def report_order(keys: Sequence[SortKey]) -> list[Any]:
    """ORDER BY `keys` (names of `SignalReport` columns, checked by the caller): each a column and
    whether descending, then rank rules and the rank when none matches. With rules, the key is the
    rank of the first rule whose columns all hold its values (NULL matches no value), else the column."""
    order = []
    for name, descending, rules, otherwise in keys:
        expression = _ranked(rules, otherwise) if rules else col(getattr(SignalReport, name))
        order.append(expression.desc() if descending else expression.asc())
    return order


def _ranked(rules: Sequence[tuple[Mapping[str, str], int]], otherwise: int) -> Any:
    whens = [
        (and_(*(col(getattr(SignalReport, name)) == value for name, value in match.items())), rank)
        for match, rank in rules
    ]
    return case(*whens, else_=otherwise)


def inbox_page(
    session: Session, where: Sequence[Any], order: Sequence[Any], limit: int | None = None, offset: int = 0
) -> tuple[int, list[SignalReport]]:
    """(how many reports match `where`, those in `order` from `offset`, at most `limit` of them).

    A page sorts only ids (in a subquery), then reads its rows: the database can then sort off an
    index instead of reading every row (see the inbox index in `models.signals`)."""
    if limit is None:
        rows = list(session.exec(select(SignalReport).where(*where).order_by(*order).offset(offset)).all())
        return (len(rows) if not offset else _count(session, where)), rows
    page = select(SignalReport.id).where(*where).order_by(*order).offset(offset).limit(limit)
    rows = list(
        session.exec(select(SignalReport).where(col(SignalReport.id).in_(page)).order_by(*order)).all()
    )
    return _count(session, where), rows


def _count(session: Session, where: Sequence[Any]) -> int:
    return session.exec(select(func.count()).select_from(SignalReport).where(*where)).one()


def artefacts_where(session: Session, where: Sequence[Any], kind: str) -> dict[UUID, list[ReportArtefact]]:
    """The `kind` artefacts of the reports that match `where`, oldest first, by report id."""
    matching = select(SignalReport.id).where(*where)
    statement = (
        select(ReportArtefact)
        .where(ReportArtefact.type == kind, col(ReportArtefact.report_id).in_(matching))
        .order_by(col(ReportArtefact.created_at))
    )
    found: dict[UUID, list[ReportArtefact]] = {}
    for row in session.exec(statement):
        found.setdefault(row.report_id, []).append(row)
    return found


def artefact_rows(session: Session, report_id: UUID, kinds: Sequence[str]) -> Sequence[Any]:
    """(type, content, created_at) of a report's artefacts of `kinds`, as stored: read as columns,
    not as the session's objects, so one written in this transaction reads like the others."""
    statement = select(ReportArtefact.type, ReportArtefact.content, ReportArtefact.created_at).where(
        ReportArtefact.report_id == report_id, col(ReportArtefact.type).in_(list(kinds))
    )
    return session.exec(statement).all()


def set_inbox_columns(
    session: Session, report_id: UUID, priority: str | None, actionability: str | None
) -> None:
    """Write a report's `priority` and `actionability` (what its newest judgments say)."""
    report = session.get(SignalReport, report_id)
    if report is not None:
        report.priority, report.actionability = priority, actionability
        session.add(report)


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
