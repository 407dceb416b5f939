"""Vision actions (`/api/projects/:project_id/vision/actions`): list, create, read, change, delete.

Each endpoint calls one use case of `services.actions`, as `sightline actions …` does. Secrets in
targets (Slack webhook URLs, webhook URLs and secrets) are stored encrypted and shown masked;
sending a target back with its masked value keeps the stored secret. Deleting an action that already
ran disables it instead (still 204): its runs keep their history, and it no longer appears enabled
or scheduled.
`hog_flow_id` is always null: Sightline delivers by itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict

from api.auth import Caller, caller
from api.pagination import Page, Window, page, window
from api.shapes import People, UserShape
from models import VisionAction, as_utc
from services import actions as use
from services.context import Deps

router = APIRouter(prefix="/api/projects/{project_id}/vision/actions", tags=["vision actions"])
READ, WRITE, RECORDINGS = "vision_action:read", "vision_action:write", "session_recording:read"


class ActionShape(BaseModel):
    id: UUID
    name: str
    scanner: UUID
    enabled: bool
    trigger_type: str
    mode: str
    trigger_config: dict[str, Any]
    selection: dict[str, Any]
    synthesis_config: dict[str, Any]
    delivery_config: list[dict[str, Any]]
    alert_config: dict[str, Any] | None
    next_run_at: datetime | None
    last_run_at: datetime | None
    hog_flow_id: UUID | None = None
    created_at: datetime | None
    created_by: UserShape | None
    updated_at: datetime | None


class ActionInput(BaseModel):
    """An action's fields; on create `name` and `scanner` (an id or a name) are required, on update
    any subset is changed. `trigger_config` is `{rrule, timezone}` (the team's timezone when left out)."""

    model_config = ConfigDict(extra="ignore")

    name: str | None = None
    scanner: str | None = None
    enabled: bool | None = None
    trigger_type: str | None = None
    mode: str | None = None
    trigger_config: dict[str, Any] | None = None
    selection: dict[str, Any] | None = None
    synthesis_config: dict[str, Any] | None = None
    delivery_config: list[dict[str, Any]] | None = None
    alert_config: dict[str, Any] | None = None


def shape(action: VisionAction, people: People, deps: Deps) -> ActionShape:
    return ActionShape(
        id=action.id,
        name=action.name,
        scanner=action.scanner_id,
        enabled=action.enabled,
        trigger_type=str(action.trigger_type),
        mode=str(action.mode),
        trigger_config=action.trigger_config or {},
        selection=action.selection or {},
        synthesis_config=action.synthesis_config or {},
        delivery_config=use.shown_targets(deps, action),
        alert_config=action.alert_config,
        next_run_at=as_utc(action.next_run_at),
        last_run_at=as_utc(action.last_run_at),
        created_at=as_utc(action.created_at),
        created_by=people(action.created_by),
        updated_at=as_utc(action.updated_at),
    )


@router.get("", response_model=Page[ActionShape], summary="List the team's actions, by name")
def list_actions(
    request: Request,
    who: Annotated[Caller, Depends(caller(READ))],
    at: Annotated[Window, Depends(window)],
    scanner: Annotated[UUID | None, Query(description="Only the actions over this scanner.")] = None,
) -> Page[ActionShape]:
    count, found = use.actions(who.deps, who.team_id, scanner_id=scanner, limit=at.limit, offset=at.offset)
    people = People(who.deps, (item.created_by for item in found))
    return page(request, [shape(item, people, who.deps) for item in found], count, at)


@router.post("", response_model=ActionShape, status_code=201, summary="Create an action")
def create_action(
    body: ActionInput, who: Annotated[Caller, Depends(caller(WRITE, RECORDINGS))]
) -> ActionShape:
    data = body.model_dump(exclude_unset=True)
    scanner = str(data.pop("scanner", None) or "")
    created = use.create_action(who.deps, who.team_id, scanner, data, user_id=who.principal.user_id)
    return shape(created, People(who.deps, [created.created_by]), who.deps)


@router.get("/{action_id}", response_model=ActionShape, summary="Retrieve an action")
def retrieve_action(action_id: UUID, who: Annotated[Caller, Depends(caller(READ))]) -> ActionShape:
    found = use.action(who.deps, who.team_id, str(action_id))
    return shape(found, People(who.deps, [found.created_by]), who.deps)


@router.patch("/{action_id}", response_model=ActionShape, summary="Change an action")
def update_action(
    action_id: UUID, body: ActionInput, who: Annotated[Caller, Depends(caller(WRITE, RECORDINGS))]
) -> ActionShape:
    use.update_action(who.deps, who.team_id, str(action_id), body.model_dump(exclude_unset=True))
    return retrieve_action(action_id, who)


@router.delete(
    "/{action_id}",
    status_code=204,
    response_class=Response,
    summary="Delete an action (one that already ran is disabled instead; 204 either way)",
)
def delete_action(action_id: UUID, who: Annotated[Caller, Depends(caller(WRITE))]) -> Response:
    """An action that never ran is deleted. One that ran is disabled instead (`enabled: false`,
    `next_run_at: null`) so its runs keep their history; it can still be read. 204 either way."""
    use.delete_action(who.deps, who.team_id, str(action_id))
    return Response(status_code=204)
