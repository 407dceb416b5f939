"""Reading recordings: every file format of DESIGN §4 becomes one sorted list of rrweb events.

Pure: takes the file's bytes and returns data. Raises `RecordingError` with a message that
says what is wrong with the file and where.
"""

from __future__ import annotations

import gzip
import math
import zlib
from dataclasses import dataclass, field

import orjson

from pipeline.errors import RecordingError

MAX_SESSION_ID_LENGTH = 128
MAX_DISTINCT_ID = 400
MAX_TIMESTAMP_MS = 10**14  # about the year 5138: anything later is not epoch milliseconds
COMPRESSED_VERSION = "2024-10"
_COMPRESSED_KEYS = ("texts", "attributes", "removes", "adds")


@dataclass
class ParsedRecording:
    """What a file holds: events per window, and the ids the file itself carries."""

    format: str
    windows: dict[str | None, list] = field(default_factory=dict)
    session_id: str | None = None
    distinct_id: str | None = None


def parse_recording(raw: bytes) -> ParsedRecording:
    """Detect the format of `raw` and split it into windows of (still unchecked) events."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if not raw.strip():
        raise RecordingError("the file is empty")
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if _first_line_parses(raw):
            return _parse_jsonl(raw)
        raise RecordingError(_json_problem(exc, len(raw))) from exc
    return _parse_document(document)


def _first_line_parses(raw: bytes) -> bool:
    """JSONL has a complete JSON value on its first line; pretty-printed JSON does not."""
    stripped = raw.strip()
    if b"\n" not in stripped:
        return False
    try:
        orjson.loads(stripped.split(b"\n", 1)[0])
    except orjson.JSONDecodeError:
        return False
    return True


def _json_problem(exc: orjson.JSONDecodeError, size: int) -> str:
    truncated = exc.pos >= size - 1 or "EOF" in exc.msg or "end of" in exc.msg
    hint = "; the file looks truncated" if truncated else ""
    return f"not valid JSON ({exc.msg} at byte {exc.pos}){hint}"


def _parse_document(document: object) -> ParsedRecording:
    if isinstance(document, list):
        if len(document) == 2 and isinstance(document[0], str) and isinstance(document[1], dict):
            return _jsonl_from_lines([document])
        return ParsedRecording("rrweb-array", {None: document}, _first_session_id(document))
    if not isinstance(document, dict):
        raise RecordingError("expected a JSON array of rrweb events or an object holding them")
    if "version" in document and isinstance(document.get("data"), dict):
        return _parse_export(document)
    if isinstance(document.get("result"), list):
        events = document["result"]
        return ParsedRecording("api-result", {None: events}, _first_session_id(events))
    if "window_id" in document and isinstance(document.get("data"), list):
        return _jsonl_from_lines([document])
    if isinstance(document.get("events"), list):
        events = document["events"]
        return ParsedRecording("rrweb-object", {None: events}, _first_session_id(events))
    keys = ", ".join(sorted(map(str, document))[:6]) or "none"
    raise RecordingError(f"unrecognised recording object (keys: {keys}); expected an rrweb event array")


def _first_session_id(events: list) -> str | None:
    first = events[0] if events else None
    if isinstance(first, dict) and isinstance(first.get("sessionId"), str):
        return first["sessionId"]
    return None


def _parse_jsonl(raw: bytes) -> ParsedRecording:
    lines = []
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            lines.append(orjson.loads(line))
        except orjson.JSONDecodeError as exc:
            raise RecordingError(f"line {number} is not valid JSON ({exc.msg})") from exc
    return _jsonl_from_lines(lines)


def _jsonl_from_lines(lines: list) -> ParsedRecording:
    """PostHog blob lines: `{"window_id", "data": [...]}` or `["<window_id>", {event}]`."""
    windows: dict[str | None, list] = {}
    for number, line in enumerate(lines, start=1):
        if isinstance(line, list) and len(line) == 2 and isinstance(line[1], dict):
            windows.setdefault(line[0], []).append(line[1])
        elif isinstance(line, dict) and isinstance(line.get("data"), list):
            windows.setdefault(line.get("window_id"), []).extend(line["data"])
        else:
            raise RecordingError(f"line {number} is neither a snapshot line nor a [window_id, event] pair")
    return ParsedRecording("posthog-jsonl", windows)


def _parse_export(document: dict) -> ParsedRecording:
    version, data = document.get("version"), document["data"]
    person = data.get("person") if isinstance(data.get("person"), dict) else {}
    distinct_ids = person.get("distinct_ids") or []
    distinct_id = distinct_ids[0] if distinct_ids and isinstance(distinct_ids[0], str) else None
    distinct_id = distinct_id.replace("\x00", "")[:MAX_DISTINCT_ID] if distinct_id else None
    if version == "2022-12-02" and isinstance(data.get("snapshotsByWindowId"), dict):
        windows = {
            key: value for key, value in data["snapshotsByWindowId"].items() if isinstance(value, list)
        }
        return ParsedRecording("posthog-export-2022-12-02", windows, None, distinct_id)
    if version == "2023-04-28" and isinstance(data.get("snapshots"), list):
        windows: dict[str | None, list] = {}
        for snapshot in data["snapshots"]:
            window_id = snapshot.get("windowId") if isinstance(snapshot, dict) else None
            windows.setdefault(window_id, []).append(snapshot)
        session_id = data.get("id") if isinstance(data.get("id"), str) else None
        return ParsedRecording("posthog-export-2023-04-28", windows, session_id, distinct_id)
    raise RecordingError(f"unsupported PostHog export version {version!r}; expected 2022-12-02 or 2023-04-28")


def prepare_events(parsed: ParsedRecording) -> list[dict]:
    """Checked, decompressed events of every window, merged by timestamp (stable).

    Every event of a known window keeps it as `windowId` (node ids of different windows collide),
    so two files of one session agree on which window each event belongs to.
    """
    named_windows = len(parsed.windows) > 1
    merged: list[dict] = []
    for window_id, events in parsed.windows.items():
        where = f" in window {window_id}" if named_windows else ""
        for index, event in enumerate(events):
            checked = _checked_event(event, index, where)
            if window_id is not None and checked.get("windowId") != window_id:
                checked = {**checked, "windowId": str(window_id)}
            merged.append(checked)
    if not merged:
        raise RecordingError("the recording holds no events")
    merged.sort(key=_timestamp)
    return merged


def _timestamp(event: dict) -> float:
    return event["timestamp"]


def _checked_event(event: object, index: int, where: str) -> dict:
    # Fast path for the common, well-formed event (this runs once per event of every import).
    if event.__class__ is dict and event.get("type").__class__ is int and "cv" not in event:
        timestamp = event.get("timestamp")
        if timestamp.__class__ in (int, float) and 0 <= timestamp < MAX_TIMESTAMP_MS:
            return event
    if not isinstance(event, dict):
        raise RecordingError(f"event {index}{where} is not an object")
    timestamp = event.get("timestamp")
    if timestamp is None:
        raise RecordingError(f"event {index}{where} has no timestamp")
    if isinstance(timestamp, bool) or not isinstance(timestamp, int | float) or not math.isfinite(timestamp):
        raise RecordingError(f"event {index}{where} has a non-numeric timestamp {str(timestamp)[:40]!r}")
    if not 0 <= timestamp < MAX_TIMESTAMP_MS:
        raise RecordingError(f"event {index}{where} has timestamp {timestamp:g}, not milliseconds since 1970")
    if isinstance(event.get("type"), bool) or not isinstance(event.get("type"), int):
        raise RecordingError(f"event {index}{where} has no integer type")
    if "cv" in event:
        return _decompressed(event, index, where)
    return event


def _decompressed(event: dict, index: int, where: str) -> dict:
    """Undo posthog-js `compressEvent`: gzip bytes carried as a latin-1 string."""
    if event["cv"] != COMPRESSED_VERSION:
        raise RecordingError(f"event {index}{where} uses unknown compression {event['cv']!r}")
    event = {key: value for key, value in event.items() if key != "cv"}
    try:
        data = event.get("data")
        if isinstance(data, str):
            event["data"] = _gunzip_json(data)
        elif isinstance(data, dict):
            event["data"] = {
                key: _gunzip_json(value) if key in _COMPRESSED_KEYS and isinstance(value, str) else value
                for key, value in data.items()
            }
    except (OSError, EOFError, zlib.error, UnicodeEncodeError, orjson.JSONDecodeError) as exc:
        raise RecordingError(f"event {index}{where}: compressed payload cannot be decoded") from exc
    return event


def _gunzip_json(value: str) -> object:
    return orjson.loads(gzip.decompress(value.encode("latin-1")))


def encode_compressed(value: object) -> str:
    """The posthog-js encoding of a payload (gzip, then bytes as a latin-1 string)."""
    return gzip.compress(orjson.dumps(value)).decode("latin-1")


def check_session_id(session_id: str) -> str:
    """The session id, or `RecordingError` when it is empty, too long or has control characters."""
    if not session_id or not session_id.strip():
        raise RecordingError("the session id is empty; pass --session-id")
    if len(session_id) > MAX_SESSION_ID_LENGTH:
        raise RecordingError(
            f"session id is {len(session_id)} characters, over the {MAX_SESSION_ID_LENGTH} maximum; "
            "pass a shorter --session-id"
        )
    if any(ord(char) < 32 for char in session_id):
        raise RecordingError("session id contains control characters")
    return session_id


def _identity(event: dict) -> bytes:
    """What makes two events the same event: everything but the window label."""
    if "windowId" in event:
        event = {key: value for key, value in event.items() if key != "windowId"}
    return orjson.dumps(event, option=orjson.OPT_SORT_KEYS)


def merge_events(existing: list[dict], incoming: list[dict]) -> tuple[list[dict], int]:
    """Existing events plus the incoming ones not already present, by timestamp; and how many were new."""
    seen = {_identity(event) for event in existing}
    fresh = []
    for event in incoming:
        key = _identity(event)
        if key not in seen:
            seen.add(key)
            fresh.append(event)
    if not fresh:
        return existing, 0
    return sorted(existing + fresh, key=_timestamp), len(fresh)
