"""PostHog as a recording source: list a project's recordings, fetch each one's snapshots (httpx).

What PostHog's public API says, as read in PostHog/posthog `posthog/session_recordings/
session_recording_api.py` (SessionRecordingViewSet: `list`, `snapshots`, `list_recordings_response`,
`SessionRecordingSnapshotsRequestSerializer`, `_gather_session_recording_sources`,
`_stream_blob_v2_to_client`), `posthog/session_recordings/utils.py` (`filter_from_params_to_query`),
`posthog/session_recordings/queries/session_recording_list_from_query.py` (`ongoing`, paging),
`posthog/schema.py` (`RecordingsQuery`, `RecordingOrder`, `RecordingOrderDirection`), the frontend's
`snapshot-processing/snapshot-parsing-utils.ts` (`processSnapshotLine`) and the API reference
https://posthog.com/docs/api/session-recordings:

- Auth: `Authorization: Bearer <personal API key>` (`phx_…`, scope `session_recording:read`);
  a bad key answers 401, a missing scope or project 403. Throttled requests answer 429 with
  `Retry-After` (DRF `Throttled`); the listing and snapshot endpoints have their own burst limits.
- `GET /api/projects/:project_id/session_recordings/` (also `/api/environments/:id/…`). Query
  values are read as JSON when they parse: `limit` (default 50), `offset`, `date_from` (default
  `-3d`; ISO or relative; compared with the recording's first timestamp), `date_to`, `order`
  (`start_time`, `duration`, …), `order_direction` (`ASC`|`DESC`, default DESC). Answer:
  `{"results": [...], "has_next": bool, "version": 4, "next_cursor"?}`; a result has `id` (the
  session id), `distinct_id`, `viewed`, `recording_duration`, `active_seconds`, `start_time`,
  `end_time`, `click_count`, …, `start_url`, `person`, `snapshot_source`, and `ongoing` (the last
  event arrived within the last 5 minutes).
- `GET …/session_recordings/:id/snapshots` without `source` lists the sources:
  `{"sources": [{"source": "blob_v2", "start_timestamp", "end_timestamp", "blob_key": "0"}, …]}`
  (or one `{"source": "blob_v2_lts", "blob_key": "<path>"}` once persisted). Then
  `?source=blob_v2&start_blob_key=A&end_blob_key=B` (inclusive; at most 20 apart with a personal
  key) or `?source=blob_v2_lts&blob_key=…` answers `application/jsonl`: lines
  `["<window_id>", {rrweb event}]` or `{"window_id": …, "data": [events]}`, events possibly marked
  `"cv": "2024-10"` with gzip-compressed payloads. `integrations.recording_files` reads those.

Every request first takes a slot of the source's per-minute budget (shared through Redis);
when none is left, `RequestBudgetSpent` ends the poll and the next tick goes on. The API key is
held by the HTTP client only: it is never part of a message, a log line or a `repr`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import redis
from dramatiq.rate_limits import WindowRateLimiter
from dramatiq.rate_limits.backends import RedisBackend

from models import as_utc, utcnow
from pipeline.errors import PermanentError, RecordingError, TransientError
from pipeline.intake import MB
from pipeline.sources import RemoteRecording

PAGE_SIZE = 100
MAX_BLOBS_PER_REQUEST = 20  # PostHog refuses wider ranges from a personal API key
DEFAULT_RETRY_AFTER_S = 60.0
MAX_RETRY_AFTER_S = 3600.0
WINDOW_S = 61  # whole-second buckets: 61 of them keep every 60-second span under the limit
TIMEOUT = httpx.Timeout(30.0, connect=10.0)


class PostHogRequestFailed(PermanentError):
    """PostHog refused a request in a way a retry will not change (a wrong project, a redirect…)."""


class PostHogKeyRefused(PostHogRequestFailed):
    """401/403: the API key is wrong, revoked, or lacks the scope or the project."""


class PostHogUnavailable(TransientError):
    """A timeout, a connection error or a 5xx: the next poll tries again."""


class PostHogRateLimited(PostHogUnavailable):
    """A 429: no request to this source before `retry_after_s` seconds have passed."""

    def __init__(self, message: str, retry_after_s: float):
        super().__init__(message)
        self.retry_after_s = retry_after_s


class RequestBudgetSpent(TransientError):
    """This minute's requests to the source are spent (SIGHTLINE_POSTHOG_RPM); the next tick goes on."""


class RecordingUnavailable(PermanentError):
    """One recording's snapshots cannot be had (gone, or no source Sightline reads)."""


def request_permit(
    client: redis.Redis, namespace: str, source_id: object, per_minute: int
) -> Callable[[], bool]:
    """Takes one request slot of the source's sliding one-minute window; False when it is full."""
    key = f"{namespace}:sightline:posthog-rpm:{source_id}"
    window = WindowRateLimiter(RedisBackend(client=client), key, limit=per_minute, window=WINDOW_S)

    def permit() -> bool:
        with window.acquire(raise_on_failure=False) as acquired:
            return bool(acquired)

    return permit


class PostHogClient:
    """One project of one PostHog host, with one API key; use as a context manager."""

    def __init__(
        self,
        host: str,
        project_id: int,
        api_key: str,
        permit: Callable[[], bool],
        transport: httpx.BaseTransport | None = None,
    ):
        self.host, self.project_id, self._permit = host, project_id, permit
        self._http = httpx.Client(
            base_url=host,
            headers={"Authorization": f"Bearer {api_key}", "User-Agent": "sightline-recording-source"},
            timeout=TIMEOUT,
            follow_redirects=False,
            transport=transport,
        )
        self.base = f"/api/projects/{project_id}/session_recordings"

    def __repr__(self) -> str:
        return f"PostHogClient({self.host}, project {self.project_id})"

    def __enter__(self) -> PostHogClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._http.close()

    def pages(self, since: datetime) -> Iterator[list[RemoteRecording]]:
        """Recordings that started at or after `since`, oldest first, one page at a time."""
        offset = 0
        while True:
            params = {
                "limit": PAGE_SIZE,
                "offset": offset,
                "date_from": as_utc(since).strftime("%Y-%m-%dT%H:%M:%SZ"),  # floored to the second
                "order": "start_time",
                "order_direction": "ASC",
            }
            body = self._json(
                self._get(f"{self.base}/", params, "the recordings list"), "the recordings list"
            )
            results = body.get("results")
            if not isinstance(results, list):
                raise PostHogRequestFailed(_shape("the recordings list", self.host))
            yield [_remote(item, self.host) for item in results]
            if not body.get("has_next") or not results:
                return
            offset += len(results)

    def snapshots(self, session_id: str, max_bytes: int) -> bytes:
        """The recording's snapshot lines (JSONL), at most `max_bytes` of them.

        Raises `RecordingUnavailable`, `RecordingError` (over `max_bytes`) or the request errors.
        """
        path = f"{self.base}/{session_id}/snapshots"
        listed = self._json(self._get(path, {}, "a recording's snapshot sources"), "the snapshot sources")
        requests = snapshot_requests(listed.get("sources") or [])
        if not requests:
            raise RecordingUnavailable("PostHog lists no blob_v2 snapshots for it (nothing to import yet)")
        chunks, total = [], 0
        for params in requests:
            chunk = self._download(path, params, max_bytes - total)
            total += len(chunk)
            chunks.append(chunk.rstrip(b"\n"))
        return b"\n".join(chunks) + b"\n"

    def _download(self, path: str, params: dict[str, str], allowed: int) -> bytes:
        self._take_slot()
        try:
            with self._http.stream("GET", path, params=params) as response:
                _check(response, "a recording's snapshots", self.host)
                body = bytearray()
                for piece in response.iter_bytes():
                    body += piece
                    if len(body) > allowed:
                        raise RecordingError(
                            f"its snapshots pass the {allowed // MB} MB left of the recording limit "
                            "(SIGHTLINE_MAX_RECORDING_BYTES); it was not imported"
                        )
                return bytes(body)
        except httpx.HTTPError as exc:
            raise PostHogUnavailable(_unreachable(self.host, exc)) from exc

    def _get(self, path: str, params: dict[str, Any], what: str) -> httpx.Response:
        self._take_slot()
        try:
            response = self._http.get(path, params=params)
        except httpx.HTTPError as exc:
            raise PostHogUnavailable(_unreachable(self.host, exc)) from exc
        _check(response, what, self.host)
        return response

    def _take_slot(self) -> None:
        if not self._permit():
            raise RequestBudgetSpent("this minute's PostHog requests are spent; the next tick goes on")

    def _json(self, response: httpx.Response, what: str) -> dict:
        try:
            body = response.json()
        except ValueError as exc:
            raise PostHogRequestFailed(_shape(what, self.host)) from exc
        if not isinstance(body, dict):
            raise PostHogRequestFailed(_shape(what, self.host))
        return body


def snapshot_requests(sources: list[dict]) -> list[dict[str, str]]:
    """The snapshot requests for the listed sources: the persisted blob whole, or blob_v2 keys in
    runs of at most `MAX_BLOBS_PER_REQUEST`."""
    lts = [
        s for s in sources if isinstance(s, dict) and s.get("source") == "blob_v2_lts" and s.get("blob_key")
    ]
    if lts:
        return [{"source": "blob_v2_lts", "blob_key": str(lts[0]["blob_key"])}]
    keys = sorted(
        int(s["blob_key"])
        for s in sources
        if isinstance(s, dict) and s.get("source") == "blob_v2" and str(s.get("blob_key", "")).isdigit()
    )
    runs: list[list[int]] = []
    for key in keys:
        if runs and key == runs[-1][-1] + 1 and len(runs[-1]) < MAX_BLOBS_PER_REQUEST:
            runs[-1].append(key)
        else:
            runs.append([key])
    return [
        {"source": "blob_v2", "start_blob_key": str(run[0]), "end_blob_key": str(run[-1])} for run in runs
    ]


def _check(response: httpx.Response, what: str, host: str) -> None:
    """Translate a non-2xx answer into our errors (the message never holds the request's headers)."""
    status = response.status_code
    if status < 300:
        return
    if status in (401, 403):
        raise PostHogKeyRefused(
            f"the PostHog API key was refused ({status}) when asking {host} for {what}: use a personal "
            "API key (phx_…) with the session_recording:read scope and access to the project, then "
            "remove the source and add it again"
        )
    if status == 429:
        after = retry_after_s(response.headers.get("Retry-After"))
        raise PostHogRateLimited(f"PostHog is rate limiting (429); waiting {after:g} s", after)
    if status in (404, 410) and "snapshots" in what:
        raise RecordingUnavailable(f"PostHog no longer has it ({status})")
    if status == 408 or status >= 500:
        raise PostHogUnavailable(f"PostHog answered {status} for {what}; the next poll tries again")
    if 300 <= status < 400:
        target = httpx.URL(response.headers.get("Location", ""))
        raise PostHogRequestFailed(
            f"{host} redirects to {target.scheme}://{target.host}: add the source with that host instead"
        )
    hint = "; check --project-id" if status == 404 else ""
    raise PostHogRequestFailed(f"PostHog refused {what} ({status}){hint}")


def retry_after_s(value: str | None) -> float:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), within sane bounds."""
    if not value:
        return DEFAULT_RETRY_AFTER_S
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return DEFAULT_RETRY_AFTER_S
        seconds = (as_utc(when) - utcnow()).total_seconds()
    return min(max(seconds, 1.0), MAX_RETRY_AFTER_S)


def _remote(item: object, host: str) -> RemoteRecording:
    try:
        if not isinstance(item, dict):
            raise TypeError(type(item).__name__)
        return RemoteRecording(
            session_id=str(item["id"]),
            start_time=_when(item["start_time"]),
            end_time=_when(item["end_time"]),
            ongoing=bool(item.get("ongoing")),
            distinct_id=str(item["distinct_id"]) if item.get("distinct_id") else None,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PostHogRequestFailed(_shape("a listed recording (id, start_time, end_time)", host)) from exc


def _when(value: str) -> datetime:
    return as_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))


def _shape(what: str, host: str) -> str:
    return f"{host} answered {what} in a shape Sightline does not know: is it a PostHog API host?"


def _unreachable(host: str, exc: httpx.HTTPError) -> str:
    return f"cannot reach {host} ({type(exc).__name__}); the next poll tries again"
