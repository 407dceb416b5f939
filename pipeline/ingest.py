"""What one live-ingest batch must be: checked whole before anything is stored (pure).

A batch is `{session_id, window_id?, distinct_id?, batch_id, events: [...]}`. Unlike a file, whose
unusable events are skipped and counted, a batch comes from a recorder that can be fixed: any bad
event refuses the whole batch with a message naming it, and nothing of it is stored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import orjson

from pipeline.errors import InvalidField, RecordingError
from pipeline.formats import check_session_id

MAX_ID_LENGTH = 128
MAX_DISTINCT_ID_LENGTH = 400
MAX_EVENTS = 10_000


@dataclass(frozen=True)
class Batch:
    session_id: str
    batch_id: str
    window_id: str | None
    distinct_id: str | None
    events: list[dict[str, Any]]


def parse_batch(payload: Any, *, body_bytes: int, max_event_bytes: int) -> Batch:
    """Check a decoded batch; `InvalidField` names the first thing wrong.

    `body_bytes` is the decoded body's size: when the whole batch is within `max_event_bytes`, no
    event can exceed it, so events are only measured one by one in larger batches.
    """
    if not isinstance(payload, dict):
        raise InvalidField("body", "send a JSON object with session_id, batch_id and events")
    try:
        session_id = check_session_id(_required(payload, "session_id"))
    except RecordingError as exc:
        raise InvalidField("session_id", str(exc)) from exc
    batch_id = _required(payload, "batch_id")
    events = payload.get("events")
    if not isinstance(events, list) or not events:
        raise InvalidField("events", "send a non-empty list of rrweb events")
    if len(events) > MAX_EVENTS:
        raise InvalidField("events", f"{len(events)} events in one batch; send at most {MAX_EVENTS}")
    for index, event in enumerate(events):
        _check_event(index, event, max_event_bytes if body_bytes > max_event_bytes else None)
    return Batch(
        session_id=session_id,
        batch_id=batch_id,
        window_id=_text(payload, "window_id", MAX_ID_LENGTH),
        distinct_id=_text(payload, "distinct_id", MAX_DISTINCT_ID_LENGTH),
        events=events,
    )


def _required(payload: dict, name: str) -> str:
    value = _text(payload, name, MAX_ID_LENGTH)
    if value is None:
        raise InvalidField(name, f"{name} is required")
    return value


def _text(payload: dict, name: str, limit: int) -> str | None:
    value = payload.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidField(name, f"{name} must be a string")
    if len(value) > limit or "\x00" in value:
        raise InvalidField(name, f"{name} must be at most {limit} characters, without NUL")
    return value


def _check_event(index: int, event: Any, max_bytes: int | None) -> None:
    where = f"events[{index}]"
    if not isinstance(event, dict):
        raise InvalidField(where, "each event must be a JSON object")
    kind, timestamp = event.get("type"), event.get("timestamp")
    if not isinstance(kind, int) or isinstance(kind, bool):
        raise InvalidField(where, "no rrweb `type` (an integer)")
    if timestamp is None:
        raise InvalidField(where, "no `timestamp` (milliseconds since the epoch)")
    if isinstance(timestamp, bool) or not isinstance(timestamp, int | float) or not math.isfinite(timestamp):
        raise InvalidField(where, "`timestamp` must be a number of milliseconds since the epoch")
    if timestamp <= 0:
        raise InvalidField(where, "`timestamp` must be after 1970")
    if max_bytes is not None and len(orjson.dumps(event)) > max_bytes:
        raise InvalidField(where, f"the event is larger than {max_bytes} bytes")
