"""A local fake of PostHog's recordings API for tests: the real paths, parameters and shapes.

It answers `GET /api/{projects|environments}/:id/session_recordings/` (`limit`, `offset`,
`date_from`, `date_to`, `order`, `order_direction`; `{"results", "has_next", "version"}`) and
`GET …/session_recordings/:id/snapshots` (the `sources` list of blob_v2 blocks, then
`?source=blob_v2&start_blob_key=&end_blob_key=` as JSONL lines `["window", event]` or
`{"window_id", "data"}`, FullSnapshots compressed as posthog-js does with `"cv": "2024-10"`), the
way integrations/posthog.py's docstring says PostHog does. It checks the bearer key (401), the
project (403), a personal key's 20-block range limit (400), can answer 429 with Retry-After for
the next N requests, and records every request. Add recordings with `add`, finish them with `update`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson

from integrations.fake_server import LocalServer
from models import utcnow
from pipeline.intake import COMPRESSED_VERSION, encode_compressed

DEFAULT_LIMIT = 50  # SessionRecordingListFromQuery.SESSION_RECORDINGS_DEFAULT_LIMIT
MAX_BLOBS = 20
_LIST = re.compile(r"^/api/(?:projects|environments)/(?P<project>\d+)/session_recordings/?$")
_SNAPSHOTS = re.compile(
    r"^/api/(?:projects|environments)/(?P<project>\d+)/session_recordings/(?P<session>[^/]+)/snapshots/?$"
)


@dataclass
class FakeRecording:
    session_id: str
    events: list[dict]
    distinct_id: str = "user-1"
    ongoing: bool = False
    blocks: int = 1  # how many blob_v2 blocks the events are split into (0: none flushed yet)
    shape: str = "array"  # JSONL lines as ["window", event], or "object": {"window_id", "data": [...]}
    window_id: str = "0191f2c8-window"

    @property
    def start_time(self) -> datetime:
        return _at(min(event["timestamp"] for event in self.events))

    @property
    def end_time(self) -> datetime:
        return _at(max(event["timestamp"] for event in self.events))

    def listed(self) -> dict[str, Any]:
        """The recording as SessionRecordingSerializer renders it in a list."""
        duration = int((self.end_time - self.start_time).total_seconds())
        return {
            "id": self.session_id,
            "distinct_id": self.distinct_id,
            "viewed": False,
            "viewers": [],
            "recording_duration": duration,
            "active_seconds": duration,
            "inactive_seconds": 0,
            "start_time": _iso(self.start_time),
            "end_time": _iso(self.end_time),
            "click_count": sum(1 for e in self.events if e.get("type") == 3 and e["data"].get("source") == 2),
            "keypress_count": 0,
            "mouse_activity_count": 0,
            "console_log_count": 0,
            "console_warn_count": 0,
            "console_error_count": 0,
            "start_url": next((e["data"].get("href") for e in self.events if e.get("type") == 4), None),
            "person": {
                "id": 1,
                "name": self.distinct_id,
                "distinct_ids": [self.distinct_id],
                "properties": {},
            },
            "retention_period_days": 30,
            "snapshot_source": "web",
            "snapshot_library": "web",
            "ongoing": self.ongoing,
            "activity_score": None,
            "has_summary": False,
            "summary_outcome": None,
            "external_references": [],
            "matches_filters": True,
        }

    def block_lines(self) -> list[bytes]:
        """Each blob_v2 block's JSONL (ending with a newline, as stored)."""
        if self.blocks == 0:
            return []
        events = [_compressed(event) for event in sorted(self.events, key=lambda e: e["timestamp"])]
        size = -(-len(events) // self.blocks)
        chunks = [events[i : i + size] for i in range(0, len(events), size)]
        if self.shape == "object":
            return [orjson.dumps({"window_id": self.window_id, "data": chunk}) + b"\n" for chunk in chunks]
        return [
            b"".join(orjson.dumps([self.window_id, event]) + b"\n" for event in chunk) for chunk in chunks
        ]


@dataclass
class PostHogRequest:
    path: str
    query: dict[str, str]
    status: int


@dataclass
class FakePostHog(LocalServer):
    name = "fake-posthog"

    api_key: str = "phx_fake0123456789abcdefghijklmnopqrstuvwxyzABCD"
    project_id: int = 1
    requests: list[PostHogRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()
        self._recordings: dict[str, FakeRecording] = {}
        self._lock = threading.Lock()
        self._throttle: list[int] = [0, 0]  # requests left to answer 429, Retry-After seconds

    def add(self, session_id: str, events: list[dict], **options: Any) -> FakeRecording:
        with self._lock:
            recording = self._recordings[session_id] = FakeRecording(session_id, list(events), **options)
        return recording

    def update(self, session_id: str, more_events: Iterable[dict] = (), **changes: Any) -> None:
        """Append events to a recording and change its fields (`ongoing=False` finishes it)."""
        with self._lock:
            recording = self._recordings[session_id]
            recording.events.extend(more_events)
            for name, value in changes.items():
                setattr(recording, name, value)

    def rate_limit(self, requests: int = 1, retry_after_s: int = 30) -> None:
        """Answer the next `requests` requests with 429 and this Retry-After."""
        with self._lock:
            self._throttle = [requests, retry_after_s]

    def paths(self, kind: str = "") -> list[str]:
        """Requested paths (`kind`: "list" or "snapshots" to filter)."""
        wanted = {"list": _LIST, "snapshots": _SNAPSHOTS}.get(kind)
        return [r.path for r in self.requests if wanted is None or wanted.match(r.path)]

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _handler(self)

    def answer(self, path: str, query: dict[str, str], authorization: str | None) -> tuple[int, Any, dict]:
        """(status, body, headers) for one GET; bytes bodies are JSONL."""
        with self._lock:
            if self._throttle[0] > 0:
                self._throttle[0] -= 1
                wait = self._throttle[1]
                detail = f"Request was throttled. Expected available in {wait} seconds."
                return 429, _error("throttled_error", "throttled", detail), {"Retry-After": str(wait)}
            if authorization != f"Bearer {self.api_key}":
                detail = "Personal API key found in request Authorization header is invalid."
                return 401, _error("authentication_error", "authentication_failed", detail), {}
            listing, snapshots = _LIST.match(path), _SNAPSHOTS.match(path)
            matched = listing or snapshots
            if matched is None:
                return 404, _error("invalid_request", "not_found", "Not found."), {}
            if int(matched["project"]) != self.project_id:
                return (
                    403,
                    _error(
                        "authentication_error", "permission_denied", "You don't have access to the project."
                    ),
                    {},
                )
            if snapshots is None:
                return 200, self._list(query), {}
            return self._snapshots(snapshots["session"], query)

    def _list(self, query: dict[str, str]) -> dict[str, Any]:
        limit, offset = int(query.get("limit", DEFAULT_LIMIT)), int(query.get("offset", 0))
        since = _date(query.get("date_from", "-3d"))
        until = _date(query["date_to"]) if query.get("date_to") else None
        order = query.get("order", "start_time")
        chosen = [
            r.listed()
            for r in self._recordings.values()
            if r.start_time >= since and (until is None or r.start_time <= until)
        ]
        chosen.sort(key=lambda item: (item[order], item["id"]), reverse=query.get("order_direction") != "ASC")
        page = chosen[offset : offset + limit + 1]  # one more than asked: HogQLHasMorePaginator
        return {"results": page[:limit], "has_next": len(page) > limit, "version": 4}

    def _snapshots(self, session_id: str, query: dict[str, str]) -> tuple[int, Any, dict]:
        recording = self._recordings.get(session_id)
        if recording is None:
            return 404, _error("invalid_request", "not_found", "Recording not found"), {}
        blocks = recording.block_lines()
        if query.get("source") is None:
            return 200, {"sources": _sources(recording, blocks)}, {}
        if query.get("source") != "blob_v2":
            return 400, _error("validation_error", "invalid_input", "Invalid source"), {}
        try:
            first, last = int(query["start_blob_key"]), int(query["end_blob_key"])
        except (KeyError, ValueError):
            return 400, _error("validation_error", "invalid_input", "Blob keys must be integers"), {}
        if last - first > MAX_BLOBS:
            detail = f"Cannot request more than {MAX_BLOBS} blob keys at once"
            return 400, _error("validation_error", "invalid_input", detail), {}
        if last >= len(blocks):
            return 404, _error("invalid_request", "not_found", "Block index out of range"), {}
        return 200, b"".join(blocks[first : last + 1]).rstrip(b"\n"), {}


def _sources(recording: FakeRecording, blocks: list[bytes]) -> list[dict[str, Any]]:
    return [
        {
            "source": "blob_v2",
            "start_timestamp": _iso(recording.start_time),
            "end_timestamp": _iso(recording.end_time),
            "blob_key": str(index),
        }
        for index in range(len(blocks))
    ]


def _compressed(event: dict) -> dict:
    """A FullSnapshot as posthog-js sends it: the payload gzipped into a latin-1 string."""
    if event.get("type") != 2:
        return event
    return {**event, "cv": COMPRESSED_VERSION, "data": encode_compressed(event["data"])}


def _error(kind: str, code: str, detail: str) -> dict[str, Any]:
    return {"type": kind, "code": code, "detail": detail, "attr": None}


def _at(milliseconds: float) -> datetime:
    return datetime.fromtimestamp(milliseconds / 1000, tz=UTC)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _date(value: str) -> datetime:
    """An ISO date-time, or PostHog's relative `-3d` / `-12h` (from the real clock)."""
    relative = re.fullmatch(r"-(\d+)([dhm])", value)
    if relative:
        unit = {"d": "days", "h": "hours", "m": "minutes"}[relative[2]]
        return utcnow() - timedelta(**{unit: int(relative[1])})
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _handler(fake: FakePostHog) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = dict(parse_qsl(url.query))
            status, body, headers = fake.answer(url.path, query, self.headers.get("Authorization"))
            fake.requests.append(PostHogRequest(url.path, query, status))
            data = body if isinstance(body, bytes) else orjson.dumps(body)
            self.send_response(status)
            self.send_header(
                "Content-Type", "application/jsonl" if isinstance(body, bytes) else "application/json"
            )
            self.send_header("Content-Length", str(len(data)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            """Quiet: tests read `requests`, not stderr."""

    return Handler
