"""Signals (`/api/projects/:project_id/signals/…`): the processing pause, reports and their states.

Each endpoint calls one use case of `services.signals` or `services.reports`, as
`sightline signals …` and `sightline reports …` do; artefacts are in `api.report_artefacts`.

Beyond the reference, `POST processing/pause` pauses grouping (`{"until": ISO}` or
`{"for_seconds": N}`). Of the report list's filters, `has_implementation_pr=true` and any
`task_id` match nothing: Sightline opens no pull requests and runs no tasks. For the same reason
`implementation_pr_url` is always null, and `is_suggested_reviewer` always false.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict

from api import report_artefacts
from api.auth import Caller, caller
from api.errors import ErrorBody, fields_named
from api.pagination import Page, Window, page, window
from models import as_utc
from pipeline.inbox import inbox_filters
from pipeline.reports import StateRequest
from services import reports as use
from services.reports import ReportView
from services.signals import pause_processing, processing_paused_until, resume_processing

router = APIRouter(prefix="/api/projects/{project_id}/signals", tags=["signals"])
READ, WRITE = "task:read", "task:write"
# Our use cases name the CLI's options; the API names the reference's request fields.
STATE_FIELDS = {"to": "state", "reason": "dismissal_reason", "note": "dismissal_note"}
CONFLICT = {409: {"model": ErrorBody, "description": "The move is not allowed from the report's status."}}


class ProcessingShape(BaseModel):
    paused_until: datetime | None


class PauseInput(BaseModel):
    """Exactly one of `until` (an ISO time, UTC unless it says otherwise) and `for_seconds`."""

    model_config = ConfigDict(extra="ignore")

    until: datetime | None = None
    for_seconds: float | None = None


class Paused(BaseModel):
    status: str = "paused"
    paused_until: datetime


class Unpaused(BaseModel):
    status: str = "unpaused"
    was_paused: bool
    paused_until: datetime | None = None


class ReportShape(BaseModel):
    id: UUID
    title: str | None
    summary: str | None
    status: str
    total_weight: float
    signal_count: int
    signals_at_run: int
    created_at: datetime
    updated_at: datetime
    artefact_count: int
    priority: str | None
    actionability: str | None
    already_addressed: bool | None
    dismissal_reason: str | None
    dismissal_note: str | None
    is_suggested_reviewer: bool = False
    source_products: list[str]
    implementation_pr_url: str | None = None


class StateInput(BaseModel):
    """`state` is suppressed (dismiss), potential (restore, or snooze with `snooze_for` more
    signals) or resolved; a reason or note is kept as a `dismissal` artefact. Other keys are ignored."""

    model_config = ConfigDict(extra="ignore")

    state: str
    dismissal_reason: str | None = None
    dismissal_note: str | None = None
    snooze_for: int | None = None

    def request(self) -> StateRequest:
        with fields_named(STATE_FIELDS):
            return StateRequest(
                self.state, reason=self.dismissal_reason, note=self.dismissal_note, snooze_for=self.snooze_for
            )


class BulkStateInput(StateInput):
    """The same request for 1 to 100 reports (repeats collapse, keeping the first position)."""

    ids: list[UUID]


class BulkResult(BaseModel):
    id: str
    outcome: str
    status: str | None = None
    detail: str | None = None


class BulkShape(BaseModel):
    results: list[BulkResult]
    transitioned_count: int
    skipped_count: int
    failed_count: int
    not_found_count: int


def shape(view: ReportView) -> ReportShape:
    report, facts = view.report, view.facts
    return ReportShape(
        id=report.id,
        title=report.title,
        summary=report.summary,
        status=str(report.status),
        total_weight=report.total_weight,
        signal_count=report.signal_count,
        signals_at_run=report.signals_at_run,
        created_at=as_utc(report.created_at),
        updated_at=as_utc(report.updated_at),
        artefact_count=view.artefact_count,
        priority=facts["priority"],
        actionability=facts["actionability"],
        already_addressed=facts["already_addressed"],
        dismissal_reason=facts["dismissal_reason"],
        dismissal_note=facts["dismissal_note"],
        source_products=view.source_products,
    )


@router.get("/processing", response_model=Page[ProcessingShape], summary="Whether grouping is paused")
def processing(
    request: Request, who: Annotated[Caller, Depends(caller(READ))], at: Annotated[Window, Depends(window)]
) -> Page[ProcessingShape]:
    """One state: `paused_until`, null when grouping is not paused (an expired pause reads null)."""
    states = [ProcessingShape(paused_until=processing_paused_until(who.deps, who.team_id))]
    return page(request, states[at.offset : at.offset + at.limit], len(states), at)


@router.post("/processing/pause", response_model=Paused, summary="Pause grouping (beyond the reference)")
def pause(body: PauseInput, who: Annotated[Caller, Depends(caller(WRITE))]) -> Paused:
    """Signals are still stored while paused; they are grouped in arrival order when it ends."""
    with fields_named({"for": "for_seconds"}):
        end = pause_processing(who.deps, who.team_id, until=body.until, duration=body.for_seconds)
    return Paused(paused_until=end)


@router.delete("/processing/pause", response_model=Unpaused, summary="Resume grouping now")
def unpause(who: Annotated[Caller, Depends(caller(WRITE))]) -> Unpaused:
    """`was_paused`: whether a pause was still running."""
    return Unpaused(was_paused=resume_processing(who.deps, who.team_id))


@router.get("/reports", response_model=Page[ReportShape], summary="List the team's reports")
def list_reports(
    request: Request,
    who: Annotated[Caller, Depends(caller(READ))],
    at: Annotated[Window, Depends(window)],
    status: Annotated[str | None, Query(description="Statuses, comma-separated.")] = None,
    ordering: Annotated[str, Query(description="status, priority, -updated_at, …")] = "status",
    search: Annotated[str | None, Query(max_length=200)] = None,
    source_product: Annotated[str | None, Query(description="Comma-separated.")] = None,
    priority: Annotated[str | None, Query(description="P0 to P4, comma-separated.")] = None,
    has_implementation_pr: Annotated[bool | None, Query()] = None,
    suggested_reviewers: Annotated[str | None, Query(description="GitHub logins or user UUIDs.")] = None,
    task_id: Annotated[str | None, Query()] = None,
    include_all_statuses: Annotated[bool, Query(description="Suppressed reports too.")] = False,
) -> Page[ReportShape]:
    """Deleted reports never; suppressed ones only when `status` names them or with `include_all_statuses`."""
    filters = inbox_filters(
        status=status,
        include_all=include_all_statuses,
        search=search,
        source_product=source_product,
        priority=priority,
        suggested_reviewers=suggested_reviewers,
        has_implementation_pr=has_implementation_pr,
        task_id=task_id,
    )
    count, found = use.report_page(who.deps, who.team_id, filters, ordering, at.limit, at.offset)
    return page(request, [shape(view) for view in found], count, at)


@router.post("/reports/bulk-state", response_model=BulkShape, summary="Change many reports' state")
def bulk_state(body: BulkStateInput, who: Annotated[Caller, Depends(caller(WRITE))]) -> BulkShape:
    """Each id on its own: `transitioned`, `skipped` (not allowed from its status), `failed` or
    `not_found` (another team's, deleted or unknown). 200 once the body is valid."""
    ids = [str(item) for item in body.ids]
    done = use.bulk_state(who.deps, who.team_id, ids, body.request(), user_id=who.principal.user_id)
    return BulkShape.model_validate(done)


@router.get("/reports/{report_id}", response_model=ReportShape, summary="Retrieve a report")
def retrieve_report(report_id: UUID, who: Annotated[Caller, Depends(caller(READ))]) -> ReportShape:
    return shape(use.report_view(who.deps, who.team_id, str(report_id)))


@router.post(
    "/reports/{report_id}/state", response_model=ReportShape, responses=CONFLICT, summary="Change its state"
)
def change_state(
    report_id: UUID, body: StateInput, who: Annotated[Caller, Depends(caller(WRITE))]
) -> ReportShape:
    """Dismiss, restore, snooze or resolve; 409 when the move is not allowed from its status."""
    request, user_id = body.request(), who.principal.user_id
    with fields_named(STATE_FIELDS):
        use.change_state(who.deps, who.team_id, str(report_id), request, user_id=user_id).check()
    return retrieve_report(report_id, who)


router.include_router(report_artefacts.router)
