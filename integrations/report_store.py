"""Changing reports on a person's behalf: state requests (single and bulk), artefacts, the pause.

None of these commit: the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlmodel import Session, col, select

from models import ProcessingState, ReportArtefact, ReportStatus, SignalReport
from models.signal_queries import artefacts_of
from pipeline.artefacts import STATUS_TYPES, derived, validate_artefact
from pipeline.errors import InvalidField, NotFoundError
from pipeline.reports import StateRequest, dedupe_ids, request_state

NOT_FOUND = "No report with this id is visible to you."
# `ordering=status`: the pipeline's rank, not the text of the status (reference §1.3).
_RANK = {"pending_input": 2, "in_progress": 3, "candidate": 4, "potential": 5, "failed": 6, "resolved": 7,
         "suppressed": 8}  # fmt: skip


def _uuid(value: str) -> UUID | None:
    try:
        return UUID(str(value))
    except ValueError:
        return None


def find_report(session: Session, team_id: int, report_id: str, *, lock: bool = False) -> SignalReport | None:
    """A team's report by id; deleted reports and other teams' reports are not found."""
    key = _uuid(report_id)
    report = session.get(SignalReport, key, with_for_update=lock) if key else None
    if report is None or report.team_id != team_id or report.status == ReportStatus.DELETED:
        return None
    return report


def latest(session: Session, report_id: UUID, kind: str) -> dict[str, Any] | None:
    rows = artefacts_of(session, report_id, kind)
    return rows[-1].content if rows else None


def change_state(session: Session, team_id: int, report_id: str, request: StateRequest, *, now: datetime,
                 user_id: int | None = None) -> dict[str, Any]:  # fmt: skip
    """One report's state request: `{id, outcome, status?, detail?}` (outcome transitioned, skipped,
    failed or not_found)."""
    report = find_report(session, team_id, report_id, lock=True)
    if report is None:
        return {"id": report_id, "outcome": "not_found", "detail": NOT_FOUND}
    actionability = (latest(session, report.id, "actionability_judgment") or {}).get("actionability")
    decision = request_state(report, request, now=now, latest_actionability=actionability)
    if decision.outcome == "transitioned":
        for field, value in decision.changes.items():
            setattr(report, field, value)
        session.add(report)
        if decision.feedback:
            dismissal = ReportArtefact(team_id=team_id, report_id=report.id, type="dismissal",
                                       content=decision.feedback, created_by=user_id,
                                       created_at=now)  # fmt: skip
            session.add(dismissal)
    result = {"id": report_id, "outcome": decision.outcome, "status": decision.status}
    if decision.detail:
        result["detail"] = decision.detail
    return result


def bulk_state(session: Session, team_id: int, ids: Sequence[str], request: StateRequest, *, now: datetime,
               user_id: int | None = None) -> dict[str, Any]:  # fmt: skip
    """Every id on its own (one bad id never blocks the others), in request order after de-duplication."""
    results = []
    for report_id in dedupe_ids(list(ids)):
        with session.begin_nested():
            results.append(change_state(session, team_id, report_id, request, now=now, user_id=user_id))
    counts = {f"{outcome}_count": sum(r["outcome"] == outcome for r in results)
              for outcome in ("transitioned", "skipped", "failed", "not_found")}  # fmt: skip
    return {"results": results, **counts}


def list_reports(session: Session, team_id: int, *, status: str | None = None, include_all: bool = False,
                 ordering: str = "status") -> list[tuple[SignalReport, dict[str, Any]]]:  # fmt: skip
    """Reports with what their artefacts say. Deleted never; suppressed only when asked for."""
    statement = select(SignalReport).where(SignalReport.team_id == team_id,
                                           SignalReport.status != ReportStatus.DELETED)  # fmt: skip
    if status is not None:
        statement = statement.where(SignalReport.status == status)
    elif not include_all:
        statement = statement.where(SignalReport.status != ReportStatus.SUPPRESSED)
    reports = list(session.exec(statement))
    artefacts: dict[UUID, list[ReportArtefact]] = {}
    if reports:
        for row in session.exec(
            select(ReportArtefact).where(col(ReportArtefact.report_id).in_([r.id for r in reports]))
        ):
            artefacts.setdefault(row.report_id, []).append(row)
    rows = [(report, derived(artefacts.get(report.id, []))) for report in reports]
    return sorted(rows, key=_order(ordering))


def _order(ordering: str):
    def updated(row) -> float:
        return row[0].updated_at.timestamp()

    if ordering == "status":

        def rank(row):
            report, facts = row
            if report.status == ReportStatus.READY:
                value = 1 if facts["actionability"] == "not_actionable" else 0
            else:
                value = _RANK.get(str(report.status), 9)
            return (value, -updated(row))

        return rank
    if ordering == "priority":
        return lambda row: (row[1]["priority"] or "P9", -updated(row))
    if ordering == "-updated_at":
        return lambda row: -updated(row)
    raise InvalidField("ordering", f"{ordering!r} is not one of status, priority, -updated_at")


def add_artefact(session: Session, team_id: int, report_id: str, kind: str, content: object, *,
                 now: datetime, user_id: int | None = None) -> ReportArtefact:  # fmt: skip
    report = find_report(session, team_id, report_id)
    if report is None:
        raise NotFoundError(f"no report {report_id} in team {team_id}")
    content = validate_artefact(kind, content)
    row = ReportArtefact(team_id=team_id, report_id=report.id, type=kind, content=content, created_by=user_id,
                         created_at=now)  # fmt: skip
    session.add(row)
    return row


def find_artefact(session: Session, team_id: int, artefact_id: str) -> ReportArtefact:
    key = _uuid(artefact_id)
    row = session.get(ReportArtefact, key) if key else None
    if row is None or row.team_id != team_id:
        raise NotFoundError(f"no artefact {artefact_id} in team {team_id}")
    return row


def edit_artefact(
    session: Session, team_id: int, artefact_id: str, content: object, now: datetime
) -> ReportArtefact:
    row = find_artefact(session, team_id, artefact_id)
    row.content = validate_artefact(row.type, content)
    row.updated_at = now
    session.add(row)
    return row


def is_status_type(kind: str) -> bool:
    return kind in STATUS_TYPES


def set_pause(session: Session, team_id: int, until: datetime | None, now: datetime) -> None:
    state = session.get(ProcessingState, team_id) or ProcessingState(team_id=team_id)
    state.paused_until = until
    state.updated_at = now
    session.add(state)
