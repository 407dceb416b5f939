"""Events (`GET /api/environments/:project_id/events`): the events inside the team's recordings,
filtered by the seed's parameters, as JSON pages or CSV. One call of `services.events`.

`properties`, `select` and `where` take JSON-serialised arrays as the seed says (a bare string or a
repeated parameter is read as one item each); `where` is the small grammar of `pipeline.event_query`.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from api.auth import Caller, caller
from api.pagination import Page, Window, page, window
from models import as_utc
from models.recording_entries import RecordingEntry
from pipeline.event_query import QueryRefused, check_field
from services import events

router = APIRouter(prefix="/api/environments/{project_id}", tags=["events"])
COLUMNS = ("id", "distinct_id", "properties", "event", "timestamp", "person", "elements", "elements_chain")
_RISKY = ("=", "+", "-", "@", "\t", "\r")
_Text = Annotated[str | None, Query(max_length=400)]
_Items = Annotated[list[str] | None, Query(max_length=2000)]


def _items(values: list[str] | None, name: str) -> list[Any]:
    found: list[Any] = []
    for value in values or []:
        if value.lstrip().startswith("["):
            try:
                parsed = json.loads(value)
            except ValueError as exc:
                raise QueryRefused(f"{name} is not a JSON array: {exc}", name) from exc
            found += parsed if isinstance(parsed, list) else [parsed]
        else:
            found.append(_object(value) if name == "properties" else value)
    return found


def _object(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError as exc:
        raise QueryRefused(f"properties is not JSON: {exc}", "properties") from exc


def _shape(entry: RecordingEntry) -> dict[str, Any]:
    element = (entry.properties or {}).get("element")
    return {
        "id": str(entry.id),
        "distinct_id": entry.distinct_id,
        "properties": {**(entry.properties or {}), "$session_id": entry.session_id, "message": entry.message},
        "event": entry.event,
        "timestamp": as_utc(entry.timestamp).isoformat(),
        "person": entry.distinct_id,
        "elements": [{"text": element}] if element else [],
        "elements_chain": element or "",
    }


def _selected(row: dict[str, Any], select: list[str]) -> dict[str, Any]:
    if not select:
        return row
    return {
        name: row["properties"].get(name.removeprefix("properties."))
        if name.startswith("properties.")
        else row.get(name)
        for name in select
    }


def _csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    names = list(rows[0]) if rows else list(COLUMNS)
    writer = csv.writer(out)
    writer.writerow(names)
    for row in rows:
        writer.writerow([_cell(row.get(name)) for name in names])
    return out.getvalue()


def _cell(value: Any) -> str:
    """Recording text is untrusted: a cell a spreadsheet would run as a formula is quoted."""
    text = value if isinstance(value, str) else "" if value is None else json.dumps(value, default=str)
    return "'" + text if text.startswith(_RISKY) else text


@router.get(
    "/events",
    response_model=Page[dict[str, Any]],
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
    summary="List the events inside recordings",
)
def list_events(
    request: Request,
    who: Annotated[Caller, Depends(caller("query:read"))],
    at: Annotated[Window, Depends(window)],
    after: datetime | None = None,
    before: datetime | None = None,
    distinct_id: _Text = None,
    event: _Text = None,
    person_id: _Text = None,
    properties: _Items = None,
    select: _Items = None,
    where: _Items = None,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> Any:
    """Page views, clicks (`$autocapture`, the element in `elements`), custom events and console
    errors, newest first. `where`: `field op 'value'` joined by AND/OR (fields event, distinct_id,
    person_id, session_id, timestamp, level, message, url, properties.NAME; ops = != < <= > >=
    contains)."""
    chosen = [
        check_field(str(name), "select") if name not in COLUMNS else name for name in _items(select, "select")
    ]
    filters = events.conditions(
        after=after,
        before=before,
        distinct_id=distinct_id,
        event=event,
        person_id=person_id,
        properties=[item for item in _items(properties, "properties") if isinstance(item, dict)],
        where=[str(item) for item in _items(where, "where")],
    )
    found, count = events.list_events(who.deps, who.team_id, filters, limit=at.limit, offset=at.offset)
    rows = [_selected(_shape(entry), chosen) for entry in found]
    if format == "csv":
        return Response(_csv(rows), media_type="text/csv")
    return page(request, rows, count, at)
