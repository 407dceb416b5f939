"""Scouts (`/api/environments/:project_id/signals/scout/…`), path for path as the seed page writes
them: configs (list, create as an upsert, change, sync the canonical fleet), runs, metadata with the
limits the scheduler enforces, and the project profile.

Each endpoint calls one use case of `services.scouts`, `services.scout_runs` or
`services.project_profile`. Another team's config is a 404.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from api.auth import Caller, caller
from api.errors import ErrorBody
from models import ScoutRun, as_utc
from pipeline.limits import MAX_INTEGER
from services import project_profile, scouts
from services.scouts import ScoutView

router = APIRouter(prefix="/api/environments/{project_id}/signals/scout", tags=["signals scouts"])
READ, WRITE = "signal_scout:read", "signal_scout:write"
BAD = {400: {"model": ErrorBody, "description": "Invalid fields, an unknown skill, or over the maximum."}}


class ScoutConfigShape(BaseModel):
    id: UUID
    skill_name: str
    description: str
    scout_origin: str = Field(description="canonical (seeded by sync) or custom (from `sightline apply`).")
    enabled: bool
    emit: bool = Field(description="False: a dry run, recording what the scout would emit.")
    run_interval_minutes: int
    last_run_at: datetime | None
    created_at: datetime


class ScoutConfigCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    skill_name: str = Field(max_length=128)
    enabled: bool | None = None
    emit: bool | None = None
    run_interval_minutes: int | None = Field(default=None, ge=-MAX_INTEGER, le=MAX_INTEGER)


class ScoutConfigUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    enabled: bool | None = None
    emit: bool | None = None
    run_interval_minutes: int | None = Field(default=None, ge=-MAX_INTEGER, le=MAX_INTEGER)


class LimitsShape(BaseModel):
    max_runs_per_tick: int
    max_runs_per_day: int
    runs_today: int
    runs_remaining_today: int


class MetadataShape(BaseModel):
    enrolled: bool
    banner_message: str | None
    limits: LimitsShape


class ProfileShape(BaseModel):
    profile_id: str
    computed_at: str
    expires_at: str
    source_version: str
    payload: dict[str, Any]


class RunShape(BaseModel):
    run_id: str
    skill_name: str
    skill_version: int
    status: str
    created_at: str
    started_at: str | None
    completed_at: str | None
    task_id: str | None = None
    task_run_id: str | None = None
    task_url: str | None = None
    summary: str
    error: str | None
    failure_reason: str | None
    emitted_count: int
    emitted_finding_ids: list[str]
    scheduled_at: str = Field(description="The slot this run was claimed for (beyond the seed).")
    emit: bool = Field(description="False: a dry run; `findings` are what it would have emitted.")
    findings: list[dict[str, Any]] = Field(description="Each finding with its evidence (beyond the seed).")


def shape(found: ScoutView) -> ScoutConfigShape:
    return ScoutConfigShape(
        id=found.id,
        skill_name=found.skill_name,
        description=found.description,
        scout_origin=found.scout_origin,
        enabled=found.enabled,
        emit=found.emit,
        run_interval_minutes=found.run_interval_minutes,
        last_run_at=found.last_run_at,
        created_at=found.created_at,
    )


def _text(value: datetime | None) -> str | None:
    return as_utc(value).isoformat() if value is not None else None


def run_shape(run: ScoutRun) -> RunShape:
    return RunShape(
        run_id=str(run.id),
        skill_name=run.skill_name,
        skill_version=run.skill_version,
        status=str(run.status),
        created_at=as_utc(run.created_at).isoformat(),
        started_at=_text(run.started_at),
        completed_at=_text(run.completed_at),
        summary=run.summary,
        error=run.error,
        failure_reason=run.failure_reason,
        emitted_count=run.emitted_count,
        emitted_finding_ids=list(run.emitted_finding_ids or []),
        scheduled_at=as_utc(run.scheduled_at).isoformat(),
        emit=run.emit,
        findings=list(run.findings or []),
    )


@router.get("/configs", response_model=list[ScoutConfigShape], summary="List the project's scout configs")
def list_configs(who: Annotated[Caller, Depends(caller(READ))]) -> list[ScoutConfigShape]:
    """Per-scout configs for this project, ordered by skill name."""
    return [shape(each) for each in scouts.configs(who.deps, who.team_id)]


@router.post(
    "/configs",
    response_model=ScoutConfigShape,
    status_code=201,
    responses={
        200: {"model": ScoutConfigShape, "description": "A config existed; the fields were applied."},
        **BAD,
    },
    summary="Register (upsert) a scout's config",
)
def create_config(
    body: ScoutConfigCreate, response: Response, who: Annotated[Caller, Depends(caller(WRITE))]
) -> ScoutConfigShape:
    data = body.model_dump(exclude_none=True)
    found, created = scouts.upsert(who.deps, who.team_id, data, user_id=who.principal.user_id)
    response.status_code = 201 if created else 200
    return shape(found)


@router.post(
    "/configs/sync", response_model=list[ScoutConfigShape], status_code=200, summary="Sync the fleet"
)
def sync_configs(who: Annotated[Caller, Depends(caller(WRITE))]) -> list[ScoutConfigShape]:
    """Seed the canonical scouts (idempotent) and return the team's full fleet, ordered by skill name."""
    return [shape(each) for each in scouts.sync(who.deps, who.team_id)]


@router.patch(
    "/configs/{scout_id}", response_model=ScoutConfigShape, responses=BAD, summary="Tune one scout's config"
)
def update_config(
    scout_id: UUID, body: ScoutConfigUpdate, who: Annotated[Caller, Depends(caller(WRITE))]
) -> ScoutConfigShape:
    """Change `enabled`, `emit` (dry run) or `run_interval_minutes`; `skill_name` is fixed."""
    changes = body.model_dump(exclude_none=True)
    return shape(scouts.update(who.deps, who.team_id, scout_id, changes, user_id=who.principal.user_id))


@router.get(
    "/metadata/current", response_model=MetadataShape, summary="Enrolment and the enforced run limits"
)
def metadata(who: Annotated[Caller, Depends(caller(READ))]) -> MetadataShape:
    limits = scouts.limits(who.deps, who.team_id)
    enrolled = bool(scouts.configs(who.deps, who.team_id))
    return MetadataShape(
        enrolled=enrolled,
        banner_message=None,
        limits=LimitsShape(
            max_runs_per_tick=limits.max_runs_per_tick,
            max_runs_per_day=limits.max_runs_per_day,
            runs_today=limits.runs_today,
            runs_remaining_today=limits.runs_remaining_today,
        ),
    )


@router.get("/project_profile/current", response_model=ProfileShape, summary="The team's project profile")
def current_profile(
    who: Annotated[Caller, Depends(caller(READ))], force_refresh: bool = False
) -> ProfileShape:
    """The newest unexpired profile, built on a cache miss; `force_refresh=true` rebuilds it."""
    found = project_profile.current_profile(who.deps, who.team_id, force_refresh=force_refresh)
    return ProfileShape(**project_profile.as_shape(found))


@router.get("/runs", response_model=list[RunShape], summary="Recent scout runs, newest first")
def list_runs(
    who: Annotated[Caller, Depends(caller(READ))],
    date_from: datetime | None = None,
    date_to: datetime | None = None,
    emitted: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=scouts.MAX_RUNS_LISTED)] = scouts.MAX_RUNS_LISTED,
    skill_name: Annotated[str | None, Query(max_length=128)] = None,
    skill_version: Annotated[int | None, Query(ge=1, le=MAX_INTEGER)] = None,
    text: Annotated[str | None, Query(max_length=200)] = None,
) -> list[RunShape]:
    """At most 100; [date_from, date_to) on created_at; `emitted=true` for runs that emitted."""
    found = scouts.runs(
        who.deps,
        who.team_id,
        limit=limit,
        date_from=as_utc(date_from),
        date_to=as_utc(date_to),
        emitted=emitted,
        skill_name=skill_name,
        skill_version=skill_version,
        text=text,
    )
    return [run_shape(each) for each in found]
