"""Reports (DESIGN §7): the team's inbox: list and show, and state requests (single and bulk).

Which reports a list shows and in which order is `pipeline.inbox`; the database sorts, filters and
pages by a report's columns, which `refresh_inbox_columns` keeps in step with its artefacts after
every artefact write. State requests are decided by the pure state machine
(`pipeline.reports.request_state`); a dismissal keeps its feedback as an artefact
(`services.artefacts` manages the others). Deleted reports, and other teams', are never found.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlmodel import Session

from models import ReportArtefact, ReportStatus, Signal, SignalReport
from models.signal_queries import (
    artefact_rows,
    artefacts_by_report,
    artefacts_of,
    artefacts_where,
    inbox_page,
    products_by_report,
    report_conditions,
    report_order,
    report_signals,
    set_inbox_columns,
)
from pipeline.artefacts import derived, suggested_reviewers
from pipeline.errors import Conflict, InvalidField, NotFoundError
from pipeline.inbox import (
    JUDGMENTS,
    InboxFilters,
    inbox_columns,
    inbox_filters,
    nothing_matches,
    reviewed_by,
    sort_keys,
)
from pipeline.reports import StateRequest, dedupe_ids, request_state
from services.context import Deps

NOT_FOUND = "No report with this id is visible to you."
SHOWN_SIGNALS = 50
OUTCOMES = ("transitioned", "skipped", "failed", "not_found")


@dataclass(frozen=True)
class ReportView:
    """A report, what its newest artefacts say, how many it has, and its signals' source products."""

    report: SignalReport
    facts: dict[str, Any]
    artefact_count: int = 0
    source_products: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ReportDetail:
    report: SignalReport
    facts: dict[str, Any]  # what the newest artefacts say: priority, actionability, dismissal
    signals: list[Signal]  # newest first
    artefacts: list[ReportArtefact]  # oldest first


@dataclass(frozen=True)
class StateOutcome:
    """What one state request did to one report."""

    id: str
    outcome: str  # transitioned | skipped | failed | not_found
    status: str | None = None
    detail: str | None = None
    bad_field: str | None = None  # what made a `failed` request invalid

    def row(self) -> dict[str, Any]:
        """`{id, outcome, status?, detail?}`: a bulk result's entry."""
        found: dict[str, Any] = {"id": self.id, "outcome": self.outcome}
        if self.status is not None:
            found["status"] = self.status
        if self.detail:
            found["detail"] = self.detail
        return found

    def check(self) -> None:
        """Nothing when the report transitioned; else `NotFoundError`, `Conflict` (the move is not
        allowed from its status) or `InvalidField` (the request does not fit this report)."""
        detail = self.detail or ""
        if self.outcome == "not_found":
            raise NotFoundError(detail or NOT_FOUND)
        if self.outcome == "skipped":
            raise Conflict(detail)
        if self.outcome == "failed":
            name = self.bad_field or "state"
            raise InvalidField(name, detail.removeprefix(f"{name}: "))


def reports(
    deps: Deps,
    team_id: int,
    *,
    status: str | None = None,
    include_all: bool = False,
    ordering: str = "status",
) -> list[tuple[SignalReport, dict[str, Any]]]:
    """Reports with what their artefacts say, in `ordering` (`pipeline.inbox`). Deleted never;
    suppressed only with `include_all` or `status="suppressed"`. Raises `InvalidField`."""
    filters = inbox_filters(status=status, include_all=include_all)
    _, views = report_page(deps, team_id, filters, ordering, None, 0)
    return [(view.report, view.facts) for view in views]


def report_page(
    deps: Deps, team_id: int, filters: InboxFilters, ordering: str, limit: int | None, offset: int
) -> tuple[int, list[ReportView]]:
    """(how many match, one page of: all from `offset` when `limit` is None) the team's reports;
    `InvalidField` for an unknown ordering."""
    order = report_order(sort_keys(ordering))  # an unknown ordering is refused before anything is read
    if nothing_matches(filters):
        return 0, []
    with deps.read() as session:
        if filters.reviewers:
            count, rows = _reviewed_page(session, team_id, filters, order, limit, offset)
        else:
            count, rows = inbox_page(session, _conditions(team_id, filters), order, limit, offset)
        ids = [row.id for row in rows]
        artefacts_of_each, products = artefacts_by_report(session, ids), products_by_report(session, ids)
    return count, [_view(row, artefacts_of_each.get(row.id, []), products.get(row.id, [])) for row in rows]


def refresh_inbox_columns(session: Session, report_id: UUID) -> None:
    """Rewrite a report's `priority` and `actionability` from its artefacts (`pipeline.inbox`); call
    it in the transaction of every artefact write, after the write."""
    session.flush()
    judgments = artefact_rows(session, report_id, JUDGMENTS)
    set_inbox_columns(session, report_id, **inbox_columns(derived(judgments)))


def report_view(deps: Deps, team_id: int, report_id: str) -> ReportView:
    """One report as a list shows it; `NotFoundError`."""
    with deps.read() as session:
        found = load_report(session, team_id, report_id)
        rows = list(artefacts_of(session, found.id))
        products = products_by_report(session, [found.id]).get(found.id, [])
    return ReportView(found, derived(rows), len(rows), products)


def report_detail(deps: Deps, team_id: int, report_id: str) -> ReportDetail:
    """A report with its newest signals, its artefacts and what they say; `NotFoundError`."""
    with deps.read() as session:
        found = load_report(session, team_id, report_id)
        rows = list(artefacts_of(session, found.id))
        signals = list(report_signals(session, found.id, SHOWN_SIGNALS))
    return ReportDetail(found, derived(rows), signals, rows)


def change_state(
    deps: Deps,
    team_id: int,
    report_id: str,
    request: StateRequest,
    *,
    now: datetime | None = None,
    user_id: int | None = None,
) -> StateOutcome:
    """One report's state request; its outcome is transitioned, skipped, failed or not_found
    (`StateOutcome.check` raises for the last three)."""
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
    request order after de-duplication: `{results: [...], transitioned_count, …}`. Raises
    `InvalidField` (`ids`) unless there are 1 to 100 distinct ids."""
    now = now or deps.now()
    results = []
    with deps.transaction() as session:
        for report_id in dedupe_ids([str(item) for item in ids]):
            with session.begin_nested():
                results.append(_change_state(session, team_id, report_id, request, now, user_id).row())
    counts = {f"{outcome}_count": sum(r["outcome"] == outcome for r in results) for outcome in OUTCOMES}
    return {"results": results, **counts}


def find_report(session: Session, team_id: int, report_id: str, *, lock: bool = False) -> SignalReport | None:
    """A team's report by id; deleted reports and other teams' reports are not found."""
    key = as_uuid(report_id)
    found = session.get(SignalReport, key, with_for_update=lock) if key else None
    if found is None or found.team_id != team_id or found.status == ReportStatus.DELETED:
        return None
    return found


def load_report(session: Session, team_id: int, report_id: str) -> SignalReport:
    """A team's report by id; `NotFoundError` for a deleted one, another team's or none."""
    found = find_report(session, team_id, report_id)
    if found is None:
        raise NotFoundError(f"no report {report_id} in team {team_id}; see `sightline reports list --all`")
    return found


def _conditions(team_id: int, filters: InboxFilters, with_artefact: str | None = None) -> list[Any]:
    return report_conditions(
        team_id,
        statuses=filters.statuses,
        include_suppressed=filters.include_suppressed,
        search=filters.search,
        source_products=filters.source_products,
        priorities=filters.priorities,
        with_artefact=with_artefact,
    )


def _reviewed_page(
    session: Session, team_id: int, filters: InboxFilters, order: list[Any], limit: int | None, offset: int
) -> tuple[int, Sequence[SignalReport]]:
    """The reviewers filter reads the newest `suggested_reviewers` artefact, so it is applied here,
    to the reports that pass the others and have one, and the page is cut here too."""
    where = _conditions(team_id, filters, with_artefact="suggested_reviewers")
    _, rows = inbox_page(session, where, order)
    said = artefacts_where(session, where, "suggested_reviewers")
    kept = [row for row in rows if reviewed_by(filters, suggested_reviewers(said.get(row.id, [])))]
    return len(kept), kept[offset:][:limit]


def _view(report: SignalReport, artefacts: list[ReportArtefact], products: list[str]) -> ReportView:
    return ReportView(report, _facts(artefacts), len(artefacts), products)


def _facts(artefacts: list[ReportArtefact]) -> dict[str, Any]:
    return {**derived(artefacts), "suggested_reviewers": suggested_reviewers(artefacts)}


def _change_state(
    session: Session, team_id: int, report_id: str, request: StateRequest, now: datetime, user_id: int | None
) -> StateOutcome:
    found = find_report(session, team_id, report_id, lock=True)
    if found is None:
        return StateOutcome(report_id, "not_found", detail=NOT_FOUND)
    judgments = artefacts_of(session, found.id, "actionability_judgment")
    actionability = (judgments[-1].content or {}).get("actionability") if judgments else None
    decision = request_state(found, request, now=now, latest_actionability=actionability)
    if decision.outcome == "transitioned":
        for name, value in decision.changes.items():
            setattr(found, name, value)
        session.add(found)
        if decision.feedback:
            dismissal = ReportArtefact(
                team_id=team_id,
                report_id=found.id,
                type="dismissal",
                content=decision.feedback,
                created_by=user_id,
                created_at=now,
            )
            session.add(dismissal)
            refresh_inbox_columns(session, found.id)
    return StateOutcome(report_id, decision.outcome, decision.status, decision.detail, decision.bad_field)


def as_uuid(value: str) -> UUID | None:
    """`value` as a UUID; None when it is not one."""
    try:
        return UUID(str(value))
    except ValueError:
        return None
