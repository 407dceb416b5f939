"""Reports (DESIGN §7): the team's inbox: list and show, state requests (single and bulk) and artefacts.

State requests are decided by the pure state machine (`pipeline.reports.request_state`); a dismissal
keeps its feedback as an artefact. Artefacts are validated per type (`pipeline.artefacts`); status
types are latest-wins, so deleting the newest makes the previous one the report's value again.
Deleted reports, and other teams', are never found.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlmodel import Session

from models import ReportArtefact, ReportStatus, Signal, SignalReport
from models.signal_queries import artefacts_by_report, artefacts_of, report_signals, team_reports
from pipeline.artefacts import derived, validate_artefact
from pipeline.errors import InvalidField, NotFoundError
from pipeline.reports import STATUSES, StateRequest, dedupe_ids, request_state
from services.context import Deps

NOT_FOUND = "No report with this id is visible to you."
SHOWN_SIGNALS = 50
OUTCOMES = ("transitioned", "skipped", "failed", "not_found")
# `ordering=status`: the pipeline's rank, not the text of the status (reference §1.3).
_RANK = {
    "pending_input": 2,
    "in_progress": 3,
    "candidate": 4,
    "potential": 5,
    "failed": 6,
    "resolved": 7,
    "suppressed": 8,
}


@dataclass(frozen=True)
class ReportDetail:
    report: SignalReport
    facts: dict[str, Any]  # what the newest artefacts say: priority, actionability, dismissal
    signals: list[Signal]  # newest first
    artefacts: list[ReportArtefact]  # oldest first


def reports(
    deps: Deps,
    team_id: int,
    *,
    status: str | None = None,
    include_all: bool = False,
    ordering: str = "status",
) -> list[tuple[SignalReport, dict[str, Any]]]:
    """Reports with what their artefacts say, in `ordering` (status, priority or -updated_at).

    Deleted never; suppressed only with `include_all` or `status="suppressed"`. Raises `InvalidField`.
    """
    if status is not None and status not in STATUSES:
        raise InvalidField("status", f"{status!r} is not one of {', '.join(STATUSES)}")
    order = _order(ordering)
    with deps.read() as session:
        rows = team_reports(session, team_id, status=status, include_suppressed=include_all)
        artefacts = artefacts_by_report(session, [report.id for report in rows])
    return sorted(((report, derived(artefacts.get(report.id, []))) for report in rows), key=order)


def report_detail(deps: Deps, team_id: int, report_id: str) -> ReportDetail:
    """A report with its newest signals, its artefacts and what they say; `NotFoundError`."""
    with deps.read() as session:
        report = find_report(session, team_id, report_id)
        if report is None:
            raise NotFoundError(
                f"no report {report_id} in team {team_id}; see `sightline reports list --all`"
            )
        artefacts = list(artefacts_of(session, report.id))
        signals = list(report_signals(session, report.id, SHOWN_SIGNALS))
    return ReportDetail(report, derived(artefacts), signals, artefacts)


def change_state(
    deps: Deps,
    team_id: int,
    report_id: str,
    request: StateRequest,
    *,
    now: datetime | None = None,
    user_id: int | None = None,
) -> dict[str, Any]:
    """One report's state request: `{id, outcome, status?, detail?}`, the outcome being transitioned,
    skipped, failed or not_found. Raises `InvalidField` for a request that is wrong in itself."""
    with deps.transaction() as session:
        return _change_state(session, team_id, report_id, request, now or deps.now(), user_id)


def bulk_state(
    deps: Deps,
    team_id: int,
    ids: Sequence[str],
    request: StateRequest,
    *,
    now: datetime | None = None,
    user_id: int | None = None,
) -> dict[str, Any]:
    """The same request for many reports, each on its own (one bad id never blocks the others), in
    request order after de-duplication: `{results: [...], transitioned_count, …}`."""
    now = now or deps.now()
    results = []
    with deps.transaction() as session:
        for report_id in dedupe_ids(list(ids)):
            with session.begin_nested():
                results.append(_change_state(session, team_id, report_id, request, now, user_id))
    counts = {f"{outcome}_count": sum(r["outcome"] == outcome for r in results) for outcome in OUTCOMES}
    return {"results": results, **counts}


def artefacts(deps: Deps, team_id: int, report_id: str) -> list[ReportArtefact]:
    """A report's artefacts, oldest first; `NotFoundError`."""
    with deps.read() as session:
        report = find_report(session, team_id, report_id)
        if report is None:
            raise NotFoundError(f"no report {report_id} in team {team_id}")
        return list(artefacts_of(session, report.id))


def add_artefact(
    deps: Deps,
    team_id: int,
    report_id: str,
    kind: str,
    content: object,
    *,
    now: datetime | None = None,
    user_id: int | None = None,
) -> ReportArtefact:
    """Append an artefact, validated against its type. Raises `NotFoundError` or `InvalidField`."""
    with deps.transaction() as session:
        report = find_report(session, team_id, report_id)
        if report is None:
            raise NotFoundError(f"no report {report_id} in team {team_id}")
        content = validate_artefact(kind, content)
        row = ReportArtefact(
            team_id=team_id,
            report_id=report.id,
            type=kind,
            content=content,
            created_by=user_id,
            created_at=now or deps.now(),
        )
        session.add(row)
    return row


def edit_artefact(
    deps: Deps, team_id: int, artefact_id: str, content: object, *, now: datetime | None = None
) -> ReportArtefact:
    """Replace an artefact's content, validated against its type. Raises `NotFoundError` or `InvalidField`."""
    with deps.transaction() as session:
        row = _find_artefact(session, team_id, artefact_id)
        row.content = validate_artefact(row.type, content)
        row.updated_at = now or deps.now()
        session.add(row)
    return row


def delete_artefact(deps: Deps, team_id: int, artefact_id: str) -> str:
    """Delete an artefact; its type. Raises `NotFoundError`."""
    with deps.transaction() as session:
        row = _find_artefact(session, team_id, artefact_id)
        session.delete(row)
        return row.type


def find_report(session: Session, team_id: int, report_id: str, *, lock: bool = False) -> SignalReport | None:
    """A team's report by id; deleted reports and other teams' reports are not found."""
    key = _uuid(report_id)
    report = session.get(SignalReport, key, with_for_update=lock) if key else None
    if report is None or report.team_id != team_id or report.status == ReportStatus.DELETED:
        return None
    return report


def _change_state(
    session: Session, team_id: int, report_id: str, request: StateRequest, now: datetime, user_id: int | None
) -> dict[str, Any]:
    report = find_report(session, team_id, report_id, lock=True)
    if report is None:
        return {"id": report_id, "outcome": "not_found", "detail": NOT_FOUND}
    judgments = artefacts_of(session, report.id, "actionability_judgment")
    actionability = (judgments[-1].content or {}).get("actionability") if judgments else None
    decision = request_state(report, request, now=now, latest_actionability=actionability)
    if decision.outcome == "transitioned":
        for name, value in decision.changes.items():
            setattr(report, name, value)
        session.add(report)
        if decision.feedback:
            dismissal = ReportArtefact(
                team_id=team_id,
                report_id=report.id,
                type="dismissal",
                content=decision.feedback,
                created_by=user_id,
                created_at=now,
            )
            session.add(dismissal)
    result = {"id": report_id, "outcome": decision.outcome, "status": decision.status}
    if decision.detail:
        result["detail"] = decision.detail
    return result


def _find_artefact(session: Session, team_id: int, artefact_id: str) -> ReportArtefact:
    key = _uuid(artefact_id)
    row = session.get(ReportArtefact, key) if key else None
    if row is None or row.team_id != team_id:
        raise NotFoundError(f"no artefact {artefact_id} in team {team_id}")
    return row


def _uuid(value: str) -> UUID | None:
    try:
        return UUID(str(value))
    except ValueError:
        return None


def _order(ordering: str) -> Callable[[tuple[SignalReport, dict[str, Any]]], Any]:
    """The sort key of an ordering; `InvalidField` for an unknown one."""

    def updated(row: tuple[SignalReport, dict[str, Any]]) -> float:
        return row[0].updated_at.timestamp()

    def rank(row: tuple[SignalReport, dict[str, Any]]) -> tuple[int, float]:
        report, facts = row
        if report.status == ReportStatus.READY:
            value = 1 if facts["actionability"] == "not_actionable" else 0
        else:
            value = _RANK.get(str(report.status), 9)
        return (value, -updated(row))

    orders = {
        "status": rank,
        "priority": lambda row: (row[1]["priority"] or "P9", -updated(row)),
        "-updated_at": lambda row: -updated(row),
    }
    if ordering not in orders:
        raise InvalidField("ordering", f"{ordering!r} is not one of status, priority, -updated_at")
    return orders[ordering]
