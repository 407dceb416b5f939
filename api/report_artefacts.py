"""Report artefacts (`…/signals/reports/:report_id/artefacts`): list, append, read, edit, delete, diff.

Included in `api.signals`' router. Each endpoint calls one use case of `services.artefacts`, as
`sightline reports artefacts …` does. Writable types: note, code_reference, commit,
actionability_judgment, priority_judgment, safety_judgment, repo_selection, suggested_reviewers and
signal_finding (dismissals are written by state changes). `task_id` is always null: Sightline runs
no tasks. Sightline has no GitHub integration, so `diff` answers as the reference does when none
can reach the repository: 400 for an artefact that is not a commit (or misses its repository or
branch), else 404.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict

from api.auth import Caller, caller
from api.errors import ErrorBody, fields_named
from api.pagination import Page, Window, page, window
from api.shapes import People, UserShape
from models import ReportArtefact, as_utc
from services import artefacts as use

router = APIRouter(prefix="/reports/{report_id}/artefacts", tags=["signals"])
READ, WRITE = "task:read", "task:write"
NO_DIFF = {502: {"model": ErrorBody, "description": "GitHub could not produce the diff (never: no GitHub)."}}


class ArtefactShape(BaseModel):
    id: UUID
    report_id: UUID
    type: str
    content: Any
    created_at: datetime
    updated_at: datetime | None
    created_by: UserShape | None
    task_id: UUID | None = None


class NewArtefact(BaseModel):
    model_config = ConfigDict(extra="ignore")

    artefact_type: str
    content: Any


class ArtefactContent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    content: Any


class DiffShape(BaseModel):
    diff: str
    truncated: bool


def shape(row: ReportArtefact, people: People) -> ArtefactShape:
    return ArtefactShape(
        id=row.id,
        report_id=row.report_id,
        type=row.type,
        content=row.content,
        created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
        created_by=people(row.created_by),
    )


@router.get("", response_model=Page[ArtefactShape], summary="List a report's artefacts, oldest first")
def list_artefacts(
    request: Request,
    report_id: UUID,
    who: Annotated[Caller, Depends(caller(READ))],
    at: Annotated[Window, Depends(window)],
) -> Page[ArtefactShape]:
    count, rows = use.artefacts(who.deps, who.team_id, str(report_id), limit=at.limit, offset=at.offset)
    people = People(who.deps, (row.created_by for row in rows))
    return page(request, [shape(row, people) for row in rows], count, at)


@router.post("", response_model=ArtefactShape, status_code=201, summary="Append an artefact")
def add_artefact(
    report_id: UUID, body: NewArtefact, who: Annotated[Caller, Depends(caller(WRITE))]
) -> ArtefactShape:
    """Content is validated against the type's schema; status types are latest-wins."""
    with fields_named({"type": "artefact_type"}):
        kind, content, user_id = body.artefact_type, body.content, who.principal.user_id
        row = use.add_artefact(who.deps, who.team_id, str(report_id), kind, content, user_id=user_id)
    return shape(row, People(who.deps, [row.created_by]))


@router.get("/{artefact_id}", response_model=ArtefactShape, summary="Retrieve an artefact")
def retrieve_artefact(
    report_id: UUID, artefact_id: UUID, who: Annotated[Caller, Depends(caller(READ))]
) -> ArtefactShape:
    row = use.artefact(who.deps, who.team_id, str(report_id), str(artefact_id))
    return shape(row, People(who.deps, [row.created_by]))


@router.patch("/{artefact_id}", response_model=ArtefactShape, summary="Replace an artefact's content")
def edit_artefact(
    report_id: UUID,
    artefact_id: UUID,
    body: ArtefactContent,
    who: Annotated[Caller, Depends(caller(WRITE))],
) -> ArtefactShape:
    """Validated against the artefact's type; its attribution stays the creator's."""
    row = use.edit_artefact(who.deps, who.team_id, str(artefact_id), body.content, report_id=str(report_id))
    return shape(row, People(who.deps, [row.created_by]))


@router.delete("/{artefact_id}", status_code=204, response_class=Response, summary="Delete an artefact")
def delete_artefact(
    report_id: UUID, artefact_id: UUID, who: Annotated[Caller, Depends(caller(WRITE))]
) -> Response:
    """For a status type, the previous artefact of the type becomes the report's value again."""
    use.delete_artefact(who.deps, who.team_id, str(artefact_id), report_id=str(report_id))
    return Response(status_code=204)


@router.get(
    "/{artefact_id}/diff", response_model=DiffShape, responses=NO_DIFF, summary="A commit artefact's diff"
)
def artefact_diff(
    report_id: UUID, artefact_id: UUID, who: Annotated[Caller, Depends(caller(READ))]
) -> DiffShape:
    """Never a diff: Sightline has no GitHub integration (see the module docstring)."""
    use.artefact_diff(who.deps, who.team_id, str(report_id), str(artefact_id))
