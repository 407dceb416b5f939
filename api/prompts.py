"""The prompt library (`/api/environments/:project_id/llm_prompts`): list, create, read by id or by
name (optionally a version), change; DELETE is refused (405) as the reference does: a prompt is
soft-deleted with `PATCH {"deleted": true}`.

Each endpoint calls one use case of `services.prompts`, as `sightline prompts …` does. A change to
`name` or `prompt` is a new version; a deleted prompt leaves the list and resolution by name but
stays readable by id, so what an old observation used can be looked up.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from api.auth import Caller, caller
from api.errors import ApiError, ErrorBody
from api.pagination import Page, Window, page, window
from api.shapes import People, UserShape
from pipeline.limits import MAX_INTEGER
from services import prompts as use
from services.prompts import PromptView

router = APIRouter(prefix="/api/environments/{project_id}/llm_prompts", tags=["llm prompts"])
READ, WRITE = "llm_prompt:read", "llm_prompt:write"
Version = Annotated[
    int | None,
    Query(ge=1, le=MAX_INTEGER, description="A version of the prompt (1, 2, …); its latest when left out."),
]


class PromptShape(BaseModel):
    id: UUID
    name: str
    prompt: str
    version: int = Field(description="This version's number; the first is 1, every change adds one.")
    created_by: UserShape | None
    created_at: datetime
    updated_at: datetime = Field(description="When this version was written.")
    deleted: bool


class PromptInput(BaseModel):
    """A prompt's fields; on create `name` and `prompt` are required, on update any subset is changed."""

    model_config = ConfigDict(extra="ignore")

    name: str | None = Field(default=None, max_length=255)
    prompt: str | None = None
    deleted: bool | None = None


def shape(found: PromptView, people: People) -> PromptShape:
    return PromptShape(
        id=found.id,
        name=found.name,
        prompt=found.prompt,
        version=found.version,
        created_by=people(found.created_by),
        created_at=found.created_at,
        updated_at=found.updated_at,
        deleted=found.deleted,
    )


def _one(who: Caller, found: PromptView) -> PromptShape:
    return shape(found, People(who.deps, [found.created_by]))


@router.get("", response_model=Page[PromptShape], summary="List the team's prompts (not the deleted ones)")
def list_prompts(
    request: Request, who: Annotated[Caller, Depends(caller(READ))], at: Annotated[Window, Depends(window)]
) -> Page[PromptShape]:
    count, found = use.prompts(who.deps, who.team_id, limit=at.limit, offset=at.offset)
    people = People(who.deps, (item.created_by for item in found))
    return page(request, [shape(item, people) for item in found], count, at)


@router.post("", response_model=PromptShape, status_code=201, summary="Create a prompt (version 1)")
def create_prompt(body: PromptInput, who: Annotated[Caller, Depends(caller(WRITE))]) -> PromptShape:
    data = body.model_dump(exclude_unset=True)
    return _one(who, use.create_prompt(who.deps, who.team_id, data, user_id=who.principal.user_id))


@router.get("/name/{prompt_name}", response_model=PromptShape, summary="Retrieve a prompt by its name")
def retrieve_prompt_by_name(
    prompt_name: Annotated[str, Path(max_length=255)],
    who: Annotated[Caller, Depends(caller(READ))],
    version: Version = None,
) -> PromptShape:
    """The live (not deleted) prompt called `prompt_name`, at `version` or its latest."""
    return _one(who, use.prompt_named(who.deps, who.team_id, prompt_name, version=version))


@router.get("/{prompt_id}", response_model=PromptShape, summary="Retrieve a prompt")
def retrieve_prompt(
    prompt_id: UUID, who: Annotated[Caller, Depends(caller(READ))], version: Version = None
) -> PromptShape:
    """A prompt by id, deleted ones too (an old observation may name it), at `version` or its latest."""
    return _one(who, use.prompt_by_id(who.deps, who.team_id, prompt_id, version=version))


@router.patch("/{prompt_id}", response_model=PromptShape, summary="Change a prompt (a new version)")
def update_prompt(
    prompt_id: UUID, body: PromptInput, who: Annotated[Caller, Depends(caller(WRITE))]
) -> PromptShape:
    """A new `name` or `prompt` makes a new version; `deleted: true` soft-deletes the prompt (refused
    while a scanner or action names it), `deleted: false` restores it."""
    changes = body.model_dump(exclude_unset=True)
    edited = use.update_prompt(who.deps, who.team_id, prompt_id, changes, user_id=who.principal.user_id)
    return _one(who, edited.prompt)


@router.delete(
    "/{prompt_id}",
    status_code=405,
    response_model=None,
    responses={405: {"model": ErrorBody, "description": 'Always: PATCH {"deleted": true} instead.'}},
    summary="Hard delete is not allowed",
)
def delete_prompt(prompt_id: UUID, who: Annotated[Caller, Depends(caller(WRITE))]) -> None:
    """Hard delete of a prompt is not allowed. Use a PATCH call to set `deleted` to true."""
    use.prompt_by_id(who.deps, who.team_id, prompt_id)  # another team's or an unknown one is a 404
    detail = 'Hard delete of this model is not allowed. Use a PATCH call to set "deleted" to true.'
    raise ApiError(405, "invalid_request", "method_not_allowed", detail, headers={"Allow": "GET, PATCH"})
