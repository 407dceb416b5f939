"""Console logs as logs (`/api/environments/:project_id/logs/…`): the attributes of the team's log
lines with their top values, and `explainLogWithAI` for one line. Each endpoint calls one use case
of `services.console_logs`; a line of another team is a 404."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from api.auth import Caller, caller
from models import as_utc
from services import console_logs

router = APIRouter(prefix="/api/environments/{project_id}/logs", tags=["logs"])
READ, WRITE = "logs:read", "logs:write"


class ValueShape(BaseModel):
    value: str
    count: int


class AttributeShape(BaseModel):
    name: str
    distinct_count: int
    values: list[ValueShape]


class AttributesShape(BaseModel):
    count: int
    results: list[AttributeShape]


class ExplainRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    uuid: UUID = Field(description="The log line's id (stable: team, session and event index).")
    timestamp: datetime | None = Field(
        default=None,
        description="When the line was logged (ISO 8601, UTC unless it says otherwise): with `uuid` it "
        "names the line, as the reference's. A time it was not logged at (to the second) is a 404; "
        "none: the id alone.",
    )
    force_refresh: bool = False


class ExplainShape(BaseModel):
    uuid: UUID
    timestamp: datetime
    force_refresh: bool
    explanation: str = Field(description="Beyond the seed: the explanation, citing moments as (t SECONDS).")
    source: str = Field(description="gemini, or moments when said without a model.")
    model: str | None
    cached: bool
    session_id: str
    level: str | None
    message: str
    moments: dict[str, Any] = Field(description="The timeline lines before and after the log line.")


@router.get("/attributes", response_model=AttributesShape, summary="Log attribute keys and their top values")
def attributes(
    who: Annotated[Caller, Depends(caller(READ))],
    search: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="Top values per key.")] = 10,
) -> AttributesShape:
    """level, message_fingerprint, message, page, session_id, distinct_id, date and source, each with
    its distinct count and most frequent values (containing `search` when given)."""
    found = console_logs.attributes(who.deps, who.team_id, search=search, top=limit)
    return AttributesShape(count=len(found), results=[AttributeShape(**each) for each in found])


@router.post("/explainLogWithAI", response_model=ExplainShape, status_code=201, summary="Explain a log entry")
def explain(body: ExplainRequest, who: Annotated[Caller, Depends(caller(WRITE))]) -> ExplainShape:
    """What the visitor did just before the line and what happened after; cached unless
    `force_refresh`. 404 when the team has no line `uuid`, or not at `timestamp`; 400 when
    `timestamp` is not a time."""
    done = console_logs.explain(
        who.deps, who.team_id, body.uuid, at=body.timestamp, force_refresh=body.force_refresh
    )
    return ExplainShape(
        uuid=done.entry.id,
        timestamp=as_utc(done.entry.timestamp),
        force_refresh=body.force_refresh,
        explanation=done.text,
        source=done.source,
        model=done.model,
        cached=done.cached,
        session_id=done.entry.session_id,
        level=done.entry.level,
        message=done.entry.message,
        moments=done.moments,
    )
