"""One poll of one recording source: claim it, walk its new recordings, import the finished ones.

The poll claims the source (moves its next poll a lease ahead, conditionally, so two pollers never
take the same one), lists the recordings that started at or after its watermark page by page,
oldest first, and for each one past the watermark: waits (a recording still being recorded holds
the watermark back), skips (already stored), or fetches its snapshots and imports them through
the same merge as a file (`services.recordings.store`). A recording that cannot be imported is
recorded and passed; a 429 ends the poll and backs the source off until its Retry-After; a spent
request budget or time budget ends it to go on at the next tick. The row is written once at the end.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

import structlog

from integrations.posthog import (
    PostHogClient,
    PostHogRateLimited,
    RecordingUnavailable,
    RequestBudgetSpent,
    request_permit,
)
from integrations.recording_files import read_recording_bytes
from integrations.secrets import secret_box
from models import MAX_ERROR_LENGTH, RecordingSource, as_utc
from models.source_queries import claim_poll, stored_session_ids
from pipeline.errors import RecordingError, SightlineError
from pipeline.formats import check_session_id
from pipeline.sources import RemoteRecording, Watermark, in_order, is_finished
from services.context import Deps
from services.recordings import store

log = structlog.get_logger(__name__)
CLAIM_LEASE = timedelta(minutes=10)  # a poller that dies mid-poll leaves the source due after this


@dataclass(frozen=True)
class Claimed:
    """What a poll needs of its source, read when it was claimed."""

    id: UUID
    team_id: int
    host: str
    project_id: int
    api_key_encrypted: str
    watermark: Watermark


@dataclass
class SourcePoll:
    source_id: UUID
    imported: int = 0
    skipped: int = 0
    waiting: int = 0
    failures: list[str] = field(default_factory=list)
    error: str | None = None
    backoff_until: datetime | None = None
    more: bool = False  # stopped on a budget: due again at the next tick


class _OutOfTime(Exception):
    """The poll stage's time budget is spent."""


def poll_source(
    deps: Deps, source_id: UUID, now: datetime, deadline: float, force: bool = False
) -> SourcePoll | None:
    """Poll one source; None when it is not due (or another poller claimed it first)."""
    claimed = _claim(deps, source_id, now, force)
    if claimed is None:
        return None
    poll = SourcePoll(source_id)
    try:
        key = secret_box(deps.settings).decrypt(claimed.api_key_encrypted)
        permit = request_permit(
            deps.redis(), deps.settings.redis_namespace, source_id, deps.settings.posthog_requests_per_minute
        )
        with PostHogClient(claimed.host, claimed.project_id, key, permit) as client:
            _walk(deps, claimed, client, poll, now, deadline)
    except PostHogRateLimited as exc:
        poll.backoff_until = now + timedelta(seconds=exc.retry_after_s)
        log.warning(
            "recording_source_rate_limited", source_id=str(source_id), until=poll.backoff_until.isoformat()
        )
    except (RequestBudgetSpent, _OutOfTime):
        poll.more = True
    except SightlineError as exc:
        poll.error = str(exc)
        log.warning("recording_source_poll_failed", source_id=str(source_id), error=poll.error)
    _save(deps, claimed, poll, now)
    log.info(
        "recording_source_polled",
        source_id=str(source_id),
        team_id=claimed.team_id,
        imported=poll.imported,
        skipped=poll.skipped,
        waiting=poll.waiting,
        failed=len(poll.failures),
        more=poll.more,
    )
    return poll


def _claim(deps: Deps, source_id: UUID, now: datetime, force: bool) -> Claimed | None:
    with deps.transaction() as session:
        row = session.get(RecordingSource, source_id)
        if row is None or not row.enabled:
            return None
        seen = as_utc(row.next_poll_at)
        due = force or seen is None or seen <= now
        backed_off = row.backoff_until is not None and as_utc(row.backoff_until) > now
        if not due or backed_off or not claim_poll(session, source_id, row.next_poll_at, now + CLAIM_LEASE):
            return None
        start = as_utc(row.watermark_start_time) or now
        return Claimed(
            row.id,
            row.team_id,
            row.host,
            row.project_id,
            row.api_key_encrypted,
            Watermark(start, row.watermark_session_id),
        )


def _walk(
    deps: Deps, claimed: Claimed, client: PostHogClient, poll: SourcePoll, now: datetime, deadline: float
) -> None:
    """Take every recording past the watermark, in listing order (oldest first)."""
    watermark, settle = claimed.watermark, timedelta(seconds=deps.settings.settle_s)
    for page in client.pages(since=watermark.position[0]):
        listed = [recording for recording in in_order(page) if watermark.is_after(recording)]
        with deps.read() as session:
            stored = stored_session_ids(session, claimed.team_id, [r.session_id for r in listed])
        for recording in listed:
            if time.monotonic() >= deadline:
                raise _OutOfTime
            if not is_finished(recording, now, settle):
                poll.waiting += 1
                watermark.hold()
                continue
            if recording.session_id in stored:
                poll.skipped += 1
            else:
                _import(deps, claimed, client, recording, poll)
            watermark.take(recording)


def _import(
    deps: Deps, claimed: Claimed, client: PostHogClient, recording: RemoteRecording, poll: SourcePoll
) -> None:
    """Fetch and store one recording; one that cannot be had is recorded, not raised."""
    session_id = recording.session_id
    try:
        check_session_id(session_id)
        raw = client.snapshots(session_id, deps.limits.max_recording_bytes)
        parsed = read_recording_bytes(raw, deps.limits)
        parsed.distinct_id = parsed.distinct_id or recording.distinct_id
        stored = store(deps, claimed.team_id, session_id, parsed, analyse=True)
    except (RecordingUnavailable, RecordingError) as exc:
        poll.failures.append(f"recording {session_id}: {exc}")
        log.warning("recording_source_recording_skipped", source_id=str(claimed.id), session_id=session_id)
        return
    poll.imported += stored.status != "unchanged"
    log.debug(
        "recording_source_imported", source_id=str(claimed.id), session_id=session_id, events=stored.added
    )


def _save(deps: Deps, claimed: Claimed, poll: SourcePoll, now: datetime) -> None:
    """Write what the poll did: watermark, counts, error, backoff and the next poll, in one transaction."""
    interval = timedelta(seconds=deps.settings.posthog_poll_interval_s)
    with deps.transaction() as session:
        row = session.get(RecordingSource, claimed.id)
        if row is None:  # removed while it was being polled
            return
        row.watermark_start_time, row.watermark_session_id = claimed.watermark.position
        row.last_polled_at = row.updated_at = now
        row.imported_count += poll.imported
        problems = [poll.error] if poll.error else poll.failures[-1:]
        row.last_error = problems[0][:MAX_ERROR_LENGTH] if problems else None
        row.backoff_until = poll.backoff_until
        if poll.backoff_until is not None:
            row.next_poll_at = poll.backoff_until
        else:
            row.next_poll_at = now if poll.more else now + interval
