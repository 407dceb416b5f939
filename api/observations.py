"""Vision observations and quota (`/api/environments/:environment_id/vision/…`).

A scanner's observations (list, stats, retrieve), one session's observations across the team's
scanners (list, retrieve), and this month's quota. Each endpoint calls one use case:
`services.observation_views` for the reads, `services.budget.quota` as `sightline quota` does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from api.auth import Caller, caller
from api.pagination import Page, Window, page, window
from api.shapes import People, UserShape
from models import Observation, as_utc
from models.vision_queries import OBSERVATION_ORDERS, ObservationFilters
from services import budget
from services import observation_views as use

router = APIRouter(tags=["vision observations"])
VISION = "/api/environments/{environment_id}/vision"
OF_SCANNER = VISION + "/scanners/{scanner_id}/observations"
READ, RECORDINGS = "replay_scanner:read", "session_recording:read"
ObservationOrder = Literal[tuple(name for field in OBSERVATION_ORDERS for name in (field, f"-{field}"))]  # type: ignore[valid-type]
CSV = "One value, or several separated by commas (any of them matches)."


class SnapshotShape(BaseModel):
    name: str
    scanner_type: str
    scanner_version: int
    model: str
    provider: str
    emits_signals: bool
    scanner_config: Any


class ResultShape(BaseModel):
    """The answer; beside the reference's fields, ours: `usage` (tokens, credits, model calls),
    `redaction` (what was masked), `timeline_tokens` and `notes`."""

    model_config = ConfigDict(extra="allow")

    model_output: Any = None
    signals_count: int = 0


class ObservationShape(BaseModel):
    id: UUID
    scanner_id: UUID
    session_id: str
    status: str
    error_reason: str
    workflow_id: str
    scanner_snapshot: SnapshotShape
    scanner_result: ResultShape
    triggered_by: str
    triggered_by_user: UserShape | None
    started_at: datetime | None
    completed_at: datetime | None
    created_at: datetime | None
    result_verdict: str | None = Field(None, description="Ours: a monitor's verdict.")
    result_score: float | None = Field(None, description="Ours: a scorer's score.")
    result_tags: list[str] | None = Field(None, description="Ours: a classifier's tags, freeform ones last.")
    attempts: int = Field(0, description="Ours: how many times a worker took it up.")
    next_attempt_at: datetime | None = Field(
        None, description="Ours: when a pending observation's retry is due (after the error_reason failure)."
    )


def shape(row: Observation, people: People) -> ObservationShape:
    snapshot = row.scanner_snapshot or {}
    return ObservationShape(
        id=row.id,
        scanner_id=row.scanner_id,
        session_id=row.session_id,
        status=str(row.status),
        error_reason=row.error_reason or "",
        workflow_id=row.workflow_id,
        scanner_snapshot=SnapshotShape(
            name=snapshot.get("name", ""),
            scanner_type=snapshot.get("scanner_type", ""),
            scanner_version=snapshot.get("scanner_version", 0),
            model=snapshot.get("model", ""),
            provider=snapshot.get("provider", ""),
            emits_signals=bool(snapshot.get("emits_signals")),
            scanner_config=snapshot.get("scanner_config"),
        ),
        scanner_result=ResultShape(**(row.scanner_result or {})),
        triggered_by=str(row.triggered_by),
        triggered_by_user=people(row.triggered_by_user),
        started_at=as_utc(row.started_at),
        completed_at=as_utc(row.completed_at),
        created_at=as_utc(row.created_at),
        result_verdict=row.result_verdict,
        result_score=row.result_score,
        result_tags=row.result_tags,
        attempts=row.attempts,
        next_attempt_at=as_utc(row.next_attempt_at),
    )


def shapes(who: Caller, rows: list[Observation]) -> list[ObservationShape]:
    people = People(who.deps, (row.triggered_by_user for row in rows))
    return [shape(row, people) for row in rows]


def _values(raw: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (raw or "").split(",") if part.strip())


async def observation_filters(
    session_id: Annotated[str | None, Query(max_length=128)] = None,
    status: Annotated[str | None, Query(description=CSV, max_length=200)] = None,
    tags: Annotated[str | None, Query(description=CSV, max_length=2000)] = None,
    triggered_by: Annotated[str | None, Query(description=CSV, max_length=200)] = None,
    verdict: Annotated[str | None, Query(description=CSV, max_length=200)] = None,
) -> ObservationFilters:
    """The filters of a scanner's observation list and stats."""
    return ObservationFilters(
        session_id, _values(status), _values(tags), _values(triggered_by), _values(verdict)
    )


Filters = Annotated[ObservationFilters, Depends(observation_filters)]
Reader = Annotated[Caller, Depends(caller(READ, RECORDINGS))]


@router.get(OF_SCANNER, response_model=Page[ObservationShape], summary="List a scanner's observations")
def list_observations(
    request: Request,
    scanner_id: UUID,
    who: Reader,
    at: Annotated[Window, Depends(window)],
    filters: Filters,
    order_by: Annotated[ObservationOrder, Query(description="Empty values sort last.")] = "-created_at",
) -> Page[ObservationShape]:
    count, rows = use.observation_page(
        who.deps, who.team_id, scanner_id, filters, order_by, at.limit, at.offset
    )
    return page(request, shapes(who, rows), count, at)


class StatusCounts(BaseModel):
    total: int
    pending: int
    running: int
    succeeded: int
    failed: int
    ineligible: int
    in_flight: int
    success_rate: int | None = Field(description="Succeeded among succeeded and failed, in percent.")


class Coverage(BaseModel):
    recent_sessions: int
    total_sessions: int
    recent_days: int


class MonitorStats(BaseModel):
    yes_total: int
    no_total: int
    inconclusive_total: int


class TagCount(BaseModel):
    tag: str
    count: int


class ClassifierStats(BaseModel):
    fixed_ranked: list[TagCount]
    freeform_ranked: list[TagCount]
    total_with_tags: int


class ScoreSummary(BaseModel):
    min: float
    p25: float
    median: float
    mean: float
    p75: float
    max: float
    count: int


class Histogram(BaseModel):
    labels: list[str]
    counts: list[int]


class ScorerStats(BaseModel):
    summary: ScoreSummary | None
    histogram: Histogram | None


class ObservationStatsShape(BaseModel):
    status_counts: StatusCounts
    coverage: Coverage
    available_tags: list[str]
    monitor: MonitorStats | None = Field(description="Monitors only; null for other types.")
    classifier: ClassifierStats | None = Field(description="Classifiers only; null for other types.")
    scorer: ScorerStats | None = Field(description="Scorers only; null for other types.")


@router.get(
    OF_SCANNER + "/stats",
    response_model=ObservationStatsShape,
    summary="What a scanner's observations add up to",
)
def observation_stats(
    scanner_id: UUID,
    who: Reader,
    filters: Filters,
    recent_days: Annotated[int | None, Query(description="Default 14, kept within 1..365.")] = None,
) -> ObservationStatsShape:
    found = use.observation_stats(who.deps, who.team_id, scanner_id, filters, recent_days=recent_days)
    return ObservationStatsShape.model_validate(found, from_attributes=True)


@router.get(
    OF_SCANNER + "/{observation_id}", response_model=ObservationShape, summary="Retrieve an observation"
)
def retrieve_scanner_observation(scanner_id: UUID, observation_id: UUID, who: Reader) -> ObservationShape:
    row = use.observation(who.deps, who.team_id, observation_id, scanner_id=scanner_id)
    return shapes(who, [row])[0]


@router.get(
    VISION + "/observations", response_model=Page[ObservationShape], summary="List a session's observations"
)
def list_session_observations(
    request: Request,
    who: Reader,
    at: Annotated[Window, Depends(window)],
    session_id: Annotated[str, Query(min_length=1, max_length=128, description="Required.")],
    order_by: Annotated[ObservationOrder, Query(description="Empty values sort last.")] = "-created_at",
) -> Page[ObservationShape]:
    count, rows = use.session_observations(who.deps, who.team_id, session_id, order_by, at.limit, at.offset)
    return page(request, shapes(who, rows), count, at)


@router.get(
    VISION + "/observations/{observation_id}",
    response_model=ObservationShape,
    summary="Retrieve an observation of any of the team's scanners",
)
def retrieve_observation(observation_id: UUID, who: Reader) -> ObservationShape:
    return shapes(who, [use.observation(who.deps, who.team_id, observation_id)])[0]


CREDITS = "In credits, Sightline's unit (an observation costs its model's price; heuristic ones are free)."


class QuotaShape(BaseModel):
    monthly_quota: int | None = Field(description=f"{CREDITS} Null: uncapped.")
    usage_this_month: int = Field(description=f"{CREDITS} Observations in flight are included.")
    remaining: int | None = Field(description=f"{CREDITS} Null: uncapped.")
    exhausted: bool
    period_start: datetime
    period_end: datetime
    projected_monthly_observations: int = Field(
        description="Observations a month the organisation's enabled scanners are expected to make."
    )
    projected_monthly_credits: int = Field(description=f"Ours: the same projection. {CREDITS}")


@router.get(VISION + "/quota", response_model=QuotaShape, summary="This month's quota")
def quota(who: Annotated[Caller, Depends(caller(READ))]) -> QuotaShape:
    report = budget.quota(who.deps, who.team_id)
    organisation = report.organisation
    return QuotaShape(
        monthly_quota=organisation.limit,
        usage_this_month=organisation.used,
        remaining=organisation.remaining,
        exhausted=organisation.exhausted,
        period_start=report.period_start,
        period_end=report.period_end,
        projected_monthly_observations=report.projected_observations,
        projected_monthly_credits=report.projected_credits,
    )
