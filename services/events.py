"""The events inside recordings (page views, clicks with their element, custom events, console
errors) as a filtered, paginated list of one team. `where` is parsed by `pipeline.event_query` and
compiled here into bound SQL conditions: no text of the request ever becomes SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_
from sqlmodel import col, select

from models import as_utc
from models.recording_entries import RecordingEntry
from pipeline.event_query import Comparison, Condition, Either, QueryRefused, parse_where
from services.context import Deps
from services.recording_entries import current, ensure_indexed

_COLUMNS = {
    "event": RecordingEntry.event,
    "distinct_id": RecordingEntry.distinct_id,
    "person_id": RecordingEntry.distinct_id,  # a recording's person is its distinct id
    "session_id": RecordingEntry.session_id,
    "timestamp": RecordingEntry.timestamp,
    "level": RecordingEntry.level,
    "message": RecordingEntry.message,
    "url": RecordingEntry.url,
}
PROPERTY_OPERATORS = ("exact", "is_not", "icontains", "is_set", "is_not_set")


def _condition(found: Condition) -> ColumnElement[bool]:
    if isinstance(found, Either):
        parts = [_condition(part) for part in found.parts]
        return or_(*parts) if found.any else and_(*parts)
    return _compare(found)


def _compare(found: Comparison) -> ColumnElement[bool]:
    value: Any = found.value
    if found.field.startswith("properties."):
        element = col(RecordingEntry.properties)[found.field.removeprefix("properties.")]
        column: Any = element.as_float() if isinstance(value, float) else element.as_string()
        value = (
            value if isinstance(value, float) else str(value).lower() if isinstance(value, bool) else value
        )
    else:
        column = col(_COLUMNS[found.field])
        if found.field == "timestamp":
            value = _instant(value)
        elif not isinstance(value, str):
            raise QueryRefused(f"{found.field} is text: quote the value")
    if found.op == "contains":
        return func.lower(column).contains(str(value).lower(), autoescape=True)
    return {
        "=": lambda: column == value,
        "!=": lambda: column != value,
        "<": lambda: column < value,
        "<=": lambda: column <= value,
        ">": lambda: column > value,
        ">=": lambda: column >= value,
    }[found.op]()


def _instant(value: object) -> datetime:
    try:
        return as_utc(datetime.fromisoformat(str(value)))
    except ValueError as exc:
        raise QueryRefused(f"timestamp takes an ISO 8601 time, not {str(value)[:40]!r}") from exc


def _property(item: dict[str, Any]) -> ColumnElement[bool]:
    key, operator = item.get("key"), item.get("operator") or "exact"
    if not isinstance(key, str) or not key or operator not in PROPERTY_OPERATORS:
        raise QueryRefused(
            f"each filter needs a key and an operator of {list(PROPERTY_OPERATORS)}", "properties"
        )
    element = col(RecordingEntry.properties)[key].as_string()
    value = item.get("value")
    values = [str(v) for v in value] if isinstance(value, list) else [str(value)]
    if operator == "is_set":
        return element.is_not(None)
    if operator == "is_not_set":
        return element.is_(None)
    if operator == "icontains":
        return func.lower(element).contains(values[0].lower(), autoescape=True)
    if operator == "is_not":
        return or_(element.is_(None), element.not_in(values))
    return element.in_(values)


def conditions(
    *,
    after: datetime | None = None,
    before: datetime | None = None,
    distinct_id: str | None = None,
    event: str | None = None,
    person_id: str | None = None,
    properties: Sequence[dict[str, Any]] = (),
    where: Sequence[str] = (),
) -> list[ColumnElement[bool]]:
    """The SQL conditions of the list's filters; `QueryRefused` names a refused one."""
    found: list[ColumnElement[bool]] = []
    if after is not None:
        found.append(col(RecordingEntry.timestamp) > as_utc(after))
    if before is not None:
        found.append(col(RecordingEntry.timestamp) < as_utc(before))
    for wanted, column in (
        (distinct_id, RecordingEntry.distinct_id),
        (person_id, RecordingEntry.distinct_id),
    ):
        if wanted is not None:
            found.append(col(column) == wanted)
    if event is not None:
        found.append(col(RecordingEntry.event) == event)
    found += [_property(item) for item in properties]
    found += [_condition(parse_where(text)) for text in where]
    return found


def list_events(
    deps: Deps, team_id: int, filters: list[ColumnElement[bool]], *, limit: int, offset: int
) -> tuple[list[RecordingEntry], int]:
    """One page of the team's events matching `filters`, newest first, and how many match."""
    ensure_indexed(deps, team_id)
    statement = current("event", team_id).where(*filters)
    with deps.read() as session:
        count = session.exec(select(func.count()).select_from(statement.subquery())).one()
        ordered = statement.order_by(col(RecordingEntry.timestamp).desc(), col(RecordingEntry.id))
        return list(session.exec(ordered.offset(offset).limit(limit)).all()), count
