"""Vision scanners (`/api/environments/:environment_id/vision/scanners`): list, create, read, change, delete.

Each endpoint calls one use case of `services.scanners`, as `sightline scanners …` does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict

from api.auth import Caller, caller
from api.pagination import Page, Window, page, window
from api.shapes import People, UserShape
from models.observation_queries import SCANNER_ORDERS, ScannerFilters
from services import scanners as use
from services.scanners import ScannerView

router = APIRouter(prefix="/api/environments/{environment_id}/vision/scanners", tags=["vision scanners"])
READ, WRITE, RECORDINGS = "replay_scanner:read", "replay_scanner:write", "session_recording:read"
ScannerOrder = Literal[tuple(name for field in SCANNER_ORDERS for name in (field, f"-{field}"))]  # type: ignore[valid-type]


class ScannerShape(BaseModel):
    id: UUID
    name: str
    description: str
    scanner_type: str
    scanner_config: Any
    query: Any
    sampling_rate: float
    provider: str
    model: str
    enabled: bool
    emits_signals: bool
    credit_limit: int | None = None
    scanner_version: int
    estimated_monthly_observations: int
    last_swept_at: datetime | None
    created_at: datetime | None
    created_by: UserShape | None
    updated_at: datetime | None


class ScannerInput(BaseModel):
    """A scanner's fields; on create `name`, `scanner_type` and `scanner_config` are required, on
    update any subset is changed."""

    model_config = ConfigDict(extra="ignore")

    name: str | None = None
    description: str | None = None
    scanner_type: str | None = None
    scanner_config: dict[str, Any] | None = None
    query: dict[str, Any] | None = None
    sampling_rate: float | None = None
    provider: str | None = None
    model: str | None = None
    enabled: bool | None = None
    emits_signals: bool | None = None
    credit_limit: int | None = None


def shape(found: ScannerView, people: People) -> ScannerShape:
    definition = found.definition
    return ScannerShape(
        id=found.id,
        scanner_version=found.version,
        estimated_monthly_observations=found.estimated_monthly_observations,
        last_swept_at=found.last_swept_at,
        created_at=found.created_at,
        updated_at=found.updated_at,
        created_by=people(found.created_by),
        **{**definition, "description": definition.get("description") or ""},
    )


@router.get("", response_model=Page[ScannerShape], summary="List the team's scanners")
def list_scanners(
    request: Request,
    who: Annotated[Caller, Depends(caller(READ))],
    at: Annotated[Window, Depends(window)],
    scanner_type: Annotated[str | None, Query()] = None,
    enabled: Annotated[bool | None, Query()] = None,
    emits_signals: Annotated[bool | None, Query()] = None,
    created_by: Annotated[int | None, Query(description="A user id.")] = None,
    search: Annotated[str | None, Query(max_length=200)] = None,
    order_by: Annotated[ScannerOrder, Query()] = "name",
) -> Page[ScannerShape]:
    filters = ScannerFilters(scanner_type, enabled, emits_signals, created_by, search)
    count, found = use.scanner_page(who.deps, who.team_id, filters, order_by, at.limit, at.offset)
    people = People(who.deps, (item.created_by for item in found))
    return page(request, [shape(item, people) for item in found], count, at)


@router.post("", response_model=ScannerShape, status_code=201, summary="Create a scanner")
def create_scanner(
    body: ScannerInput, who: Annotated[Caller, Depends(caller(WRITE, RECORDINGS))]
) -> ScannerShape:
    data = body.model_dump(exclude_unset=True)
    created = use.create_scanner(who.deps, who.team_id, data, user_id=who.principal.user_id)
    return shape(created, People(who.deps, [created.created_by]))


@router.get("/{scanner_id}", response_model=ScannerShape, summary="Retrieve a scanner")
def retrieve_scanner(scanner_id: UUID, who: Annotated[Caller, Depends(caller(READ))]) -> ScannerShape:
    found = use.scanner(who.deps, who.team_id, str(scanner_id))
    return shape(found, People(who.deps, [found.created_by]))


@router.patch("/{scanner_id}", response_model=ScannerShape, summary="Change a scanner")
def update_scanner(
    scanner_id: UUID, body: ScannerInput, who: Annotated[Caller, Depends(caller(WRITE, RECORDINGS))]
) -> ScannerShape:
    use.update_scanner(who.deps, who.team_id, str(scanner_id), body.model_dump(exclude_unset=True))
    return retrieve_scanner(scanner_id, who)


@router.delete("/{scanner_id}", status_code=204, summary="Delete a scanner", response_class=Response)
def delete_scanner(scanner_id: UUID, who: Annotated[Caller, Depends(caller(WRITE))]) -> Response:
    use.delete_scanner(who.deps, who.team_id, str(scanner_id))
    return Response(status_code=204)
