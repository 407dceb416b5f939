"""Recording sources: add a team's PostHog project, list and remove them, and poll the due ones.

The API key is stored encrypted (integrations/secrets.py) and shown only masked (`phx_…abcd`).
A new source starts with a watermark `INITIAL_LOOKBACK` back (PostHog's own list default) and is
due at once; the scheduler then polls it every SIGHTLINE_POSTHOG_POLL_INTERVAL_S
(services/source_polls.py does one poll).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import structlog
from sqlalchemy.exc import IntegrityError

from integrations.secrets import secret_box
from models import RecordingSource, SourceKind, as_utc
from models.source_queries import due_source_ids, source_at, team_sources
from pipeline.errors import Conflict, InvalidField, NotFoundError
from pipeline.sources import check_api_key, check_host, check_project_id, mask_key
from services.context import Deps
from services.source_polls import SourcePoll, poll_source

log = structlog.get_logger(__name__)
INITIAL_LOOKBACK = timedelta(days=3)
# One poll stage stops starting sources after this long (the rest stay due for the next tick), so
# the scheduler extends its leadership in time.
STAGE_BUDGET_S = 15.0


@dataclass(frozen=True)
class SourceView:
    """A source as it may be shown: never its key, only the mask."""

    id: UUID
    kind: str
    host: str
    project_id: int
    api_key_mask: str
    enabled: bool
    imported_count: int
    last_polled_at: datetime | None
    next_poll_at: datetime | None
    backoff_until: datetime | None
    last_error: str | None


@dataclass
class PollSummary:
    """What one poll stage did, over every source it polled."""

    sources_polled: int = 0
    sessions_imported: int = 0
    sessions_skipped: int = 0  # already stored
    sessions_waiting: int = 0  # still being recorded: taken by a later poll
    sessions_failed: int = 0  # unusable or gone: recorded in the source's last_error
    errors: int = 0  # polls that stopped on an error (a refused key, PostHog unreachable)
    backed_off: int = 0  # polls that met a 429
    unfinished: int = 0  # polls that stopped on the request budget, to go on next tick

    def add(self, poll: SourcePoll) -> None:
        self.sources_polled += 1
        self.sessions_imported += poll.imported
        self.sessions_skipped += poll.skipped
        self.sessions_waiting += poll.waiting
        self.sessions_failed += len(poll.failures)
        self.errors += poll.error is not None
        self.backed_off += poll.backoff_until is not None
        self.unfinished += poll.more


def add_posthog(deps: Deps, team_id: int, host: str, project_id: int, api_key: str) -> SourceView:
    """Add a PostHog project as a source of the team's recordings.

    Raises `InvalidField` (host, project id, key) or `Conflict` when the team already has it.
    """
    host, project_id, key = check_host(host), check_project_id(project_id), check_api_key(api_key)
    now = deps.now()
    row = RecordingSource(
        team_id=team_id,
        kind=SourceKind.POSTHOG,
        host=host,
        project_id=project_id,
        api_key_encrypted=secret_box(deps.settings).encrypt(key),
        api_key_mask=mask_key(key),
        watermark_start_time=now - INITIAL_LOOKBACK,
        watermark_session_id="",
        next_poll_at=now,
        created_at=now,
        updated_at=now,
    )
    try:
        with deps.transaction() as session:
            existing = source_at(session, team_id, SourceKind.POSTHOG, host, project_id)
            if existing is not None:
                raise _duplicate(team_id, host, project_id, existing.id)
            session.add(row)
    except IntegrityError as exc:  # added by someone else at the same moment
        raise _duplicate(team_id, host, project_id, None) from exc
    log.info(
        "recording_source_added", source_id=str(row.id), team_id=team_id, host=host, project_id=project_id
    )
    return _view(row)


def sources(deps: Deps, team_id: int) -> list[SourceView]:
    with deps.read() as session:
        return [_view(row) for row in team_sources(session, team_id)]


def remove_source(deps: Deps, team_id: int, source_id: str) -> SourceView:
    """Delete the source (the recordings it imported stay); `NotFoundError` when the team has none."""
    with deps.transaction() as session:
        row = session.get(RecordingSource, _uuid(source_id))
        if row is None or row.team_id != team_id:
            raise NotFoundError(f"team {team_id} has no source {source_id}; see `sightline sources list`")
        view = _view(row)
        session.delete(row)
    log.info("recording_source_removed", source_id=str(view.id), team_id=team_id)
    return view


def poll_due_sources(
    deps: Deps, now: datetime, team_id: int | None = None, force: bool = False
) -> PollSummary:
    """Poll every due source (or, with `force`, every enabled one of the team), within a time budget.

    A failing source is recorded on its row and never stops the others.
    """
    with deps.read() as session:
        due = due_source_ids(session, now, team_id=team_id, force=force)
    summary = PollSummary()
    deadline = time.monotonic() + STAGE_BUDGET_S
    for source_id in due:
        if time.monotonic() >= deadline:
            break  # the rest stay due
        try:
            poll = poll_source(deps, source_id, now, deadline, force=force)
        except Exception:  # a bug in one source's poll must not stop the scheduler's others
            log.exception("recording_source_poll_crashed", source_id=str(source_id))
            summary.errors += 1
            continue
        if poll is not None:
            summary.add(poll)
    return summary


def _duplicate(team_id: int, host: str, project_id: int, existing: UUID | None) -> Conflict:
    which = f" (source {existing})" if existing else ""
    return Conflict(
        f"team {team_id} already polls PostHog project {project_id} on {host}{which}; "
        "remove it first to change its key"
    )


def _uuid(value: str) -> UUID:
    try:
        return UUID(str(value))
    except ValueError as exc:
        raise InvalidField("source", f"{value!r} is not a source id; see `sightline sources list`") from exc


def _view(row: RecordingSource) -> SourceView:
    return SourceView(
        id=row.id,
        kind=str(row.kind),
        host=row.host,
        project_id=row.project_id,
        api_key_mask=row.api_key_mask,
        enabled=row.enabled,
        imported_count=row.imported_count,
        last_polled_at=as_utc(row.last_polled_at),
        next_poll_at=as_utc(row.next_poll_at),
        backoff_until=as_utc(row.backoff_until),
        last_error=row.last_error,
    )
