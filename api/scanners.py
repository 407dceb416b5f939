"""Vision scanners (`/api/environments/:environment_id/vision/scanners`): list, create, read, change,
delete; the team's creators and counts; a proposed scanner's estimate; observing sessions now.

Each endpoint calls one use case: `services.scanners` as `sightline scanners …` does (`estimate`
too), `services.scanner_overview` for creators and stats, and `services.observations.observe_sessions`
as `sightline observe` does. The static paths come before `/{scanner_id}`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.auth import Caller, caller
from api.errors import ApiError
from api.pagination import Page, Window, page, window
from api.shapes import People, UserShape
from models.observation_queries import SCANNER_ORDERS, ScannerFilters
from pipeline.errors import InvalidField
from pipeline.limits import MAX_INTEGER
from services import observations
from services import scanner_overview as overview
from services import scanners as use
from services.observations import Requested
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
    scanner_type: Annotated[Literal["monitor", "classifier", "scorer", "summarizer"] | None, Query()] = None,
    enabled: Annotated[bool | None, Query()] = None,
    emits_signals: Annotated[bool | None, Query()] = None,
    created_by: Annotated[int | None, Query(ge=1, le=MAX_INTEGER, description="A user id.")] = None,
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


class CreatorsShape(BaseModel):
    creators: list[UserShape]


@router.get("/creators", response_model=CreatorsShape, summary="The people who created the team's scanners")
def scanner_creators(who: Annotated[Caller, Depends(caller(READ))]) -> CreatorsShape:
    ids = overview.scanner_creators(who.deps, who.team_id)
    people = People(who.deps, ids)
    return CreatorsShape(creators=[user for user in map(people, ids) if user is not None])


class CountedShape(BaseModel):
    enabled: int
    total: int


class StatsShape(BaseModel):
    total: int
    enabled: int
    by_type: dict[str, CountedShape]


@router.get("/stats", response_model=StatsShape, summary="Team-wide scanner counts")
def scanner_stats(who: Annotated[Caller, Depends(caller(READ))]) -> StatsShape:
    return StatsShape.model_validate(overview.scanner_stats(who.deps, who.team_id), from_attributes=True)


class EstimateInput(BaseModel):
    model_config = ConfigDict(extra="ignore")

    query: Any = None
    sampling_rate: Any = 1


class EstimateShape(BaseModel):
    matched_sessions_in_window: int = Field(description="Matching, eligible sessions; sampling not applied.")
    window_days: float = Field(description="Days of data counted (the last 30 at most, 1 at least).")
    estimated_observations_per_month: int
    sampling_rate: float


@router.post(
    "/estimate", response_model=EstimateShape, summary="Estimate a proposed scanner's monthly volume"
)
def estimate_scanner(
    body: EstimateInput, who: Annotated[Caller, Depends(caller(READ, RECORDINGS))]
) -> EstimateShape:
    found = use.estimate_scanner(who.deps, who.team_id, body.query, body.sampling_rate)
    return EstimateShape.model_validate(found, from_attributes=True)


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


class ObserveInput(BaseModel):
    """`session_id` (the reference), or `session_ids` (up to 200, as `sightline observe`)."""

    model_config = ConfigDict(extra="ignore")

    session_id: str | None = None
    session_ids: list[str] | None = None


class StartedShape(BaseModel):
    workflow_id: str
    observation_id: UUID


class ScannedShape(BaseModel):
    observation_id: UUID | None


class OutcomeShape(BaseModel):
    session_id: str
    outcome: str = Field(description="started, already_scanned, skipped_limit or skipped_quota.")
    observation_id: UUID | None = Field(description="The started one, or the one the session already has.")


class BatchShape(BaseModel):
    started: int
    results: list[OutcomeShape]


OBSERVE_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {
        "model": StartedShape | BatchShape,
        "description": "Started (one session), or each outcome (several).",
    },
    200: {"model": ScannedShape, "description": "One session: the scanner already observed it."},
    402: {"description": "One session: the monthly credit limit is reached."},
    429: {"description": "One session: too many observations are in flight; try again shortly."},
}


@router.post(
    "/{scanner_id}/observe",
    status_code=202,
    response_model=None,
    responses=OBSERVE_RESPONSES,
    summary="Observe sessions now",
)
def observe(
    scanner_id: UUID, body: ObserveInput, who: Annotated[Caller, Depends(caller(WRITE, RECORDINGS))]
) -> JSONResponse:
    """Apply this scanner to one session (`session_id`) or up to 200 (`session_ids`) now.

    A session without a recording is refused (400) and nothing starts. For one session: 202 with
    the workflow id when it starts, 200 with the observation id when the scanner already observed
    it, 402 when the monthly credit limit is reached, 429 when too many observations are in flight.
    For several: 202 with each session's outcome.
    """
    if body.session_id is not None and body.session_ids is not None:
        raise InvalidField("session_ids", "give session_id or session_ids, not both")
    if body.session_ids is None and not body.session_id:
        raise InvalidField("session_id", "name the session to observe")
    wanted = body.session_ids if body.session_ids is not None else [str(body.session_id)]
    outcomes = observations.observe_sessions(
        who.deps, who.team_id, str(scanner_id), wanted, user_id=who.principal.user_id
    )
    return _batch(outcomes) if body.session_ids is not None else _one(outcomes[0])


def _batch(outcomes: list[Requested]) -> JSONResponse:
    results = [
        OutcomeShape(session_id=each.session_id, outcome=each.outcome, observation_id=_id_of(each))
        for each in outcomes
    ]
    started = sum(each.outcome == "started" for each in outcomes)
    return JSONResponse(BatchShape(started=started, results=results).model_dump(mode="json"), status_code=202)


def _one(outcome: Requested) -> JSONResponse:
    if outcome.outcome == "started" and outcome.observation_id and outcome.workflow_id:
        body = StartedShape(workflow_id=outcome.workflow_id, observation_id=outcome.observation_id)
        return JSONResponse(body.model_dump(mode="json"), status_code=202)
    if outcome.outcome == "already_scanned":
        return JSONResponse(ScannedShape(observation_id=outcome.existing_id).model_dump(mode="json"))
    if outcome.outcome == "skipped_quota":
        detail = "The monthly credit limit (the organisation's, or this scanner's credit_limit) is reached."
        raise ApiError(402, "invalid_request", "quota_exhausted", detail)
    detail = "Too many observations are in flight for this scanner or team; try again shortly."
    raise ApiError(429, "throttled_error", "in_flight_limit", detail, headers={"Retry-After": "30"})


def _id_of(outcome: Requested) -> UUID | None:
    return outcome.observation_id or outcome.existing_id
