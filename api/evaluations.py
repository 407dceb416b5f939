"""Evaluations (`/api/environments/:project_id/evaluations`): list, create, read, change; a hard
delete is refused (405), as the reference does: PATCH `deleted: true` instead. Evaluation runs
(`/api/environments/:project_id/evaluation_runs`): evaluate now, over one observation or a scanner's
observations in a window; the results are written by the workers.

Each endpoint calls one use case, as `sightline evaluations …` does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from api.auth import Caller, caller
from api.errors import ApiError, ErrorBody
from api.pagination import Page, Window, page, window
from api.shapes import People, UserShape
from models.evaluation_queries import EVALUATION_ORDERS, EvaluationFilters
from pipeline.errors import InvalidField
from services import evaluation_runs as runs
from services import evaluations as use
from services.evaluations import EvaluationView

router = APIRouter(prefix="/api/environments/{project_id}", tags=["evaluations"])
READ, WRITE = "evaluation:read", "evaluation:write"
EvaluationOrder = Literal[tuple(name for field in EVALUATION_ORDERS for name in (field, f"-{field}"))]  # type: ignore[valid-type]


class EvaluationShape(BaseModel):
    id: UUID
    name: str
    description: str
    enabled: bool
    evaluation_type: str = Field(description="llm_judge or heuristic.")
    evaluation_config: Any = Field(description="llm_judge: {prompt, model?}; heuristic: {checks: [...]}.")
    output_type: str = Field(description="boolean or score.")
    output_config: Any = Field(description="boolean: {allows_na}; score: {min, max, pass_threshold}.")
    conditions: Any = Field(description="{scanners, verdicts, sampling_rate, max_per_day}.")
    created_at: datetime | None
    updated_at: datetime | None
    created_by: UserShape | None
    deleted: bool


class EvaluationInput(BaseModel):
    """An evaluation's fields; on create `name`, `evaluation_type`, `output_type` and
    `evaluation_config` are required, on update any subset is changed."""

    model_config = ConfigDict(extra="ignore")

    name: str | None = None
    description: str | None = None
    enabled: bool | None = None
    evaluation_type: str | None = None
    evaluation_config: Any = None
    output_type: str | None = None
    output_config: Any = None
    conditions: Any = None
    deleted: bool | None = None


def shape(found: EvaluationView, people: People) -> EvaluationShape:
    return EvaluationShape(
        id=found.id,
        created_at=found.created_at,
        updated_at=found.updated_at,
        created_by=people(found.created_by),
        **found.definition,
    )


def _ids(raw: str | None) -> list[UUID] | None:
    if raw is None:
        return None
    try:
        return [UUID(part.strip()) for part in raw.split(",") if part.strip()]
    except ValueError as exc:
        raise InvalidField("id__in", "a comma-separated list of evaluation ids") from exc


@router.get("/evaluations", response_model=Page[EvaluationShape], summary="List the team's evaluations")
def list_evaluations(
    request: Request,
    who: Annotated[Caller, Depends(caller(READ))],
    at: Annotated[Window, Depends(window)],
    enabled: Annotated[bool | None, Query(description="Filter by enabled status")] = None,
    id__in: Annotated[str | None, Query(max_length=4000, description="Ids, separated by commas.")] = None,
    order_by: Annotated[EvaluationOrder, Query()] = "-created_at",
    search: Annotated[str | None, Query(max_length=200, description="Search in name or description")] = None,
) -> Page[EvaluationShape]:
    filters = EvaluationFilters(enabled, _ids(id__in), search)
    count, found = use.evaluation_page(who.deps, who.team_id, filters, order_by, at.limit, at.offset)
    people = People(who.deps, (item.created_by for item in found))
    return page(request, [shape(item, people) for item in found], count, at)


@router.post("/evaluations", response_model=EvaluationShape, status_code=201, summary="Create an evaluation")
def create_evaluation(
    body: EvaluationInput, who: Annotated[Caller, Depends(caller(WRITE))]
) -> EvaluationShape:
    data = body.model_dump(exclude_unset=True)
    created = use.create_evaluation(who.deps, who.team_id, data, user_id=who.principal.user_id)
    return shape(created, People(who.deps, [created.created_by]))


@router.get("/evaluations/{evaluation_id}", response_model=EvaluationShape, summary="Retrieve an evaluation")
def retrieve_evaluation(
    evaluation_id: UUID, who: Annotated[Caller, Depends(caller(READ))]
) -> EvaluationShape:
    found = use.evaluation(who.deps, who.team_id, str(evaluation_id))
    return shape(found, People(who.deps, [found.created_by]))


@router.patch("/evaluations/{evaluation_id}", response_model=EvaluationShape, summary="Change an evaluation")
def update_evaluation(
    evaluation_id: UUID, body: EvaluationInput, who: Annotated[Caller, Depends(caller(WRITE))]
) -> EvaluationShape:
    """Any subset of the fields; `deleted: true` deletes it (it then answers 404)."""
    found = use.update_evaluation(
        who.deps, who.team_id, str(evaluation_id), body.model_dump(exclude_unset=True)
    )
    return shape(found, People(who.deps, [found.created_by]))


@router.delete(
    "/evaluations/{evaluation_id}",
    status_code=405,
    response_model=None,
    responses={405: {"model": ErrorBody, "description": "Hard delete is refused: PATCH `deleted: true`."}},
    summary="Delete an evaluation (refused)",
)
def delete_evaluation(evaluation_id: UUID, who: Annotated[Caller, Depends(caller(WRITE))]) -> None:
    """Hard delete of this model is not allowed. Use a patch API call to set "deleted" to true."""
    use.evaluation(who.deps, who.team_id, str(evaluation_id))  # another team's or unknown: 404 first
    detail = 'Hard delete of this model is not allowed. Use a patch API call to set "deleted" to true.'
    raise ApiError(405, "invalid_request", "method_not_allowed", detail)


class RunInput(BaseModel):
    """The evaluation and its target: `observation_id`, or `scanner_id` with `since` (and `until`,
    default now; `since` defaults to 7 days before `until`)."""

    model_config = ConfigDict(extra="ignore")

    evaluation_id: UUID
    observation_id: UUID | None = None
    scanner_id: UUID | None = None
    since: datetime | None = None
    until: datetime | None = None


class RunShape(BaseModel):
    id: UUID
    evaluation_id: UUID
    target: dict[str, Any]
    status: str = Field(description="queued: the workers write each observation's result.")
    observations: int = Field(description="Observations queued for evaluation.")
    truncated: bool = Field(description="The window held more than one run takes (1,000).")
    created_at: datetime


@router.post("/evaluation_runs", response_model=RunShape, status_code=201, summary="Create an evaluation run")
def create_run(body: RunInput, who: Annotated[Caller, Depends(caller(WRITE))]) -> RunShape:
    """Validate the request and queue the evaluation of the target's observations."""
    if (body.observation_id is None) == (body.scanner_id is None):
        raise InvalidField("observation_id", "give observation_id, or scanner_id with since (and until)")
    target = {
        key: value for key, value in body.model_dump(exclude={"evaluation_id"}).items() if value is not None
    }
    started = runs.start_run(
        who.deps, who.team_id, str(body.evaluation_id), target, user_id=who.principal.user_id
    )
    return RunShape(
        id=started.run_id,
        evaluation_id=started.evaluation_id,
        target=started.target,
        status="queued",
        observations=started.observations,
        truncated=started.truncated,
        created_at=started.created_at,
    )
