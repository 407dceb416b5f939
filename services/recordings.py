"""Recordings: import files or events, list them, and read one back as the timeline the model reads.

A file either lands (events blob written, then the row committed) or not at all; the outcome of
each file is an `ImportResult`, so one bad file never stops the others, and one bad event never
loses its file: unusable events are skipped and counted. Events are kept encoded while they are
merged, so memory holds bytes rather than objects.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import case
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session, col

from integrations.blobstore import BlobStore
from integrations.recording_files import read_recording, session_id_from_name
from models import DeviceType, Recording
from models.queries import get_recording, list_recordings, update_recording_if_unchanged
from pipeline.errors import (
    BlobMissing,
    BlobStoreUnavailable,
    ConcurrentChange,
    NotFoundError,
    RecordingError,
)
from pipeline.formats import ParsedRecording, check_session_id
from pipeline.intake import Collector, EncodedEvents, describe_skips, nothing_usable
from pipeline.limits import eligibility
from pipeline.metadata import RecordingMeta
from pipeline.timeline import Timeline, render_timeline
from services.context import Deps

log = structlog.get_logger(__name__)
MAX_NOTES = 10
STORE_ATTEMPTS = 5


@dataclass(frozen=True)
class ImportResult:
    path: Path
    status: str  # imported | updated | unchanged | failed
    session_id: str | None = None
    events_added: int = 0
    message: str = ""
    skipped: int = 0
    detail: str = ""  # what was left out or mended, for the result line

    @property
    def failed(self) -> bool:
        return self.status == "failed"


@dataclass(frozen=True)
class Stored:
    session_id: str
    status: str  # imported | updated | unchanged
    added: int
    skipped: int
    detail: str


def import_file(deps: Deps, team_id: int, path: Path, session_id: str | None = None) -> ImportResult:
    """Import one file; never raises for a bad file (the result says what was wrong)."""
    try:
        with read_recording(path, deps.limits) as parsed:
            sid = check_session_id(session_id or parsed.session_id or session_id_from_name(path))
            stored = store(deps, team_id, sid, parsed, analyse=True)
    except RecordingError as exc:
        return ImportResult(path, "failed", message=str(exc))
    except ConcurrentChange as exc:
        return ImportResult(path, "failed", message=f"{exc}; nothing stored, import the file again")
    except (BlobMissing, BlobStoreUnavailable) as exc:  # the stored version of the session
        return ImportResult(path, "failed", message=f"{exc}; nothing stored")
    except OSError as exc:
        return ImportResult(path, "failed", message=f"cannot read the file ({exc.strerror or exc})")
    except SQLAlchemyError as exc:
        log.exception("recording_import_database_error", path=str(path))
        return ImportResult(path, "failed", message=f"database error ({type(exc).__name__}); nothing stored")
    except Exception as exc:  # a bug must not stop the other files of the batch
        log.exception("recording_import_internal_error", path=str(path))
        return ImportResult(path, "failed", message=f"internal error ({type(exc).__name__}); nothing stored")
    log.debug(
        "recording_imported",
        session_id=sid,
        status=stored.status,
        events_added=stored.added,
        events_skipped=stored.skipped,
        team_id=team_id,
    )
    return ImportResult(path, stored.status, sid, stored.added, "", stored.skipped, stored.detail)


def store_events(
    deps: Deps,
    team_id: int,
    session_id: str,
    events: Iterable[dict],
    distinct_id: str | None = None,
    *,
    analyse: bool = False,
) -> Stored:
    """Store events held in memory (a scenario, a test) as if they were a file's (`analyse`: as an
    import of a file does)."""
    pairs = [(None, event) for event in events]
    parsed = ParsedRecording("events", pairs, None, distinct_id)
    return store(deps, team_id, session_id, parsed, analyse=analyse)


def store(
    deps: Deps,
    team_id: int,
    session_id: str,
    parsed: ParsedRecording,
    *,
    within: Callable[[Session], None] | None = None,
    ingested_at: datetime | None = None,
    analyse: bool = False,
) -> Stored:
    """Merge the parsed events into the stored session; `within(session)` runs in the same transaction.

    With `analyse` (a complete recording: a file imported, a recording polled from a source), the
    recording's analysis is rendered and stored now (`services.analysis_cache`), so that none of the
    scanners observing it has to: the import read every event anyway and happens once, while the
    recording is observed once per scanner. A live session still growing (`services.ingest`) is
    left to its first observation, or every batch merged into it would render it again.

    Two writers of one session (two ingest batches at once, an import during ingest) never lose
    each other's events: the row is only updated if its blob is still the one merged into, else
    the merge is done again on the newer blob (when `parsed.pairs` is a list that can be walked
    again; a streamed file raises `ConcurrentChange` instead). Raises `RecordingError` when no
    event is usable or the recording outgrows the limit.
    """
    attempts = STORE_ATTEMPTS if isinstance(parsed.pairs, list) else 1
    for attempt in range(1, attempts + 1):
        try:
            stored = _store_once(deps, team_id, session_id, parsed, within, ingested_at or deps.now())
        except ConcurrentChange:
            if attempt == attempts:
                raise
            log.info("recording_merge_retried", session_id=session_id, team_id=team_id, attempt=attempt)
            continue
        if analyse and stored.status != "unchanged":
            _analyse(deps, team_id, session_id)
        return stored
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def _store_once(
    deps: Deps,
    team_id: int,
    session_id: str,
    parsed: ParsedRecording,
    within: Callable[[Session], None] | None,
    ingested_at: datetime,
) -> Stored:
    """One merge: the new blob is written before the row is committed and removed again if the
    commit fails; the old blob is removed only after the commit succeeds."""
    blobs, old_ref, new_ref = deps.blobs, None, None
    try:
        with deps.transaction() as session:
            row = get_recording(session, team_id, session_id)
            old_ref = row.blob_ref if row is not None else None
            collector = Collector(deps.limits, (lambda: blobs.lines(old_ref)) if old_ref else None)
            collector.add_all(parsed.pairs)
            skipped = parsed.skipped + collector.intake.skipped
            if collector.added == 0:
                if row is None:
                    raise RecordingError(nothing_usable(parsed, collector.intake))
                if within is not None:
                    within(session)
                return Stored(session_id, "unchanged", 0, sum(skipped.values()), _detail(parsed, collector))
            new_ref, size = blobs.write_lines(team_id, session_id, collector.lines())
            values = _row_values(collector.metadata(), size, new_ref, parsed.distinct_id, ingested_at)
            values.update(_intake_values(row, skipped, parsed.notes, collector.intake.mended))
            _write_row(session, team_id, session_id, row, values)
            if within is not None:
                within(session)
                session.flush()
    except IntegrityError as exc:  # another writer created the row (or stored the batch) first
        _discard(blobs, new_ref, old_ref)
        raise ConcurrentChange(f"recording {session_id!r} was created by another writer meanwhile") from exc
    except FileNotFoundError as exc:  # the blob we merged into was replaced (and removed) meanwhile
        _discard(blobs, new_ref, old_ref)
        if old_ref is None or _current_ref(deps, team_id, session_id) == old_ref:
            raise
        raise ConcurrentChange(f"recording {session_id!r} was changed by another writer meanwhile") from exc
    except BaseException:
        _discard(blobs, new_ref, old_ref)
        raise
    if old_ref is not None and old_ref != new_ref:
        _delete_replaced(blobs, old_ref)
    status = "updated" if old_ref else "imported"
    return Stored(session_id, status, collector.added, sum(skipped.values()), _detail(parsed, collector))


def _delete_replaced(blobs: BlobStore, replaced: str) -> None:
    """Delete the blob a store replaced, and its analysis with it (`services.analysis_cache`): no key
    reads it again, and left behind it would wait for the orphan check."""
    from services.analysis_cache import analysis_ref  # it reads recordings through this module

    blobs.delete(replaced)
    blobs.delete(analysis_ref(replaced))


def _analyse(deps: Deps, team_id: int, session_id: str) -> None:
    """Render and store the recording's analysis (see `store`), unless no scanner would observe it
    (ineligible). Best effort: a failure is logged, and the first observation renders it."""
    from services.analysis_cache import recording_timeline  # it reads recordings through this module

    try:
        with deps.read() as session:
            row = get_recording(session, team_id, session_id)
        if row is not None and eligibility(row) is None:  # an ineligible one is never observed
            recording_timeline(deps.blobs, row, budget_tokens=deps.settings.timeline_budget_tokens)
    except Exception as exc:
        log.warning("recording_analysis_deferred", session_id=session_id, error=type(exc).__name__)


def _write_row(
    session: Session, team_id: int, session_id: str, row: Recording | None, values: dict[str, Any]
) -> None:
    """Insert the row, or update it only if its blob is still the one this merge read.

    `last_ingested_at` never moves back: a batch that arrived during this merge already moved it on.
    """
    if row is None:
        session.add(Recording(team_id=team_id, session_id=session_id, **values))
        session.flush()
        return
    ingested = values["last_ingested_at"]
    values["last_ingested_at"] = case(
        (col(Recording.last_ingested_at) > ingested, col(Recording.last_ingested_at)), else_=ingested
    )
    if not update_recording_if_unchanged(session, row.id, row.blob_ref, values):
        raise ConcurrentChange(f"recording {session_id!r} was changed by another writer meanwhile")


def _current_ref(deps: Deps, team_id: int, session_id: str) -> str | None:
    with deps.read() as session:
        row = get_recording(session, team_id, session_id)
    return row.blob_ref if row is not None else None


def _discard(blobs: BlobStore, new_ref: str | None, old_ref: str | None) -> None:
    if new_ref is not None and new_ref != old_ref:
        blobs.delete(new_ref)


def recordings(deps: Deps, team_id: int, limit: int) -> list[Recording]:
    """A team's recordings, newest first."""
    with deps.read() as session:
        return list(list_recordings(session, team_id, limit=limit))


def timeline(deps: Deps, team_id: int, session_id: str, budget_tokens: int | None = None) -> Timeline:
    """The timeline of one stored recording, with its session id in the header.

    Raises `NotFoundError` when the team has no such recording, or its events are missing.
    """
    with deps.read() as session:
        row = get_recording(session, team_id, session_id)
    if row is None:
        raise NotFoundError(f"no recording {session_id!r} in team {team_id}; see `sightline recordings list`")
    try:
        return stored_timeline(
            deps.blobs,
            row,
            budget_tokens=budget_tokens or deps.settings.timeline_budget_tokens,
            session_id=session_id,
        )
    except OSError as exc:
        raise NotFoundError(
            f"the events of {session_id!r} are missing from {deps.blobs.location}; re-import it"
        ) from exc


def recording_meta(row: Recording) -> RecordingMeta:
    """The metadata computed at import, as stored on the row."""
    return RecordingMeta(
        start_ms=row.start_time.timestamp() * 1000,
        end_ms=row.end_time.timestamp() * 1000,
        duration_s=row.duration_s,
        active_s=row.active_s,
        click_count=row.click_count,
        keypress_count=row.keypress_count,
        console_error_count=row.console_error_count,
        urls=list(row.urls),
        viewport=row.viewport,
        device_type=str(row.device_type),
        event_count=row.event_count,
        custom_events=list(row.custom_events or []),
    )


def import_notes(row: Recording) -> list[str]:
    """What the header says about events left out when the recording was imported."""
    intake = row.intake or {}
    notes = []
    if row.skipped_events:
        reasons = describe_skips(Counter(intake.get("skipped") or {}))
        notes.append(f"{row.skipped_events} unusable events were skipped at import ({reasons})")
    notes += [f"at import, {note}" for note in (intake.get("notes") or [])[-3:]]
    return notes


def stored_timeline(
    blobs: BlobStore, row: Recording, *, budget_tokens: int, session_id: str | None = None
) -> Timeline:
    """The timeline of a stored recording; events are decoded as the walk reads them.

    Raises `BlobMissing` (an `OSError`) when the recording's blob is missing, `BlobStoreUnavailable`
    when the store does not answer.
    """
    events = EncodedEvents(list(blobs.lines(row.blob_ref)))
    return render_timeline(
        events,
        budget_tokens=budget_tokens,
        session_id=session_id,
        meta=recording_meta(row),
        notes=import_notes(row),
    )


def _detail(parsed: ParsedRecording, collector: Collector) -> str:
    """`3 events skipped: 2 without a timestamp, 1 broken JSONL line; …` or ""."""
    skipped = parsed.skipped + collector.intake.skipped
    parts = [f"{sum(skipped.values())} events skipped: {describe_skips(skipped)}"] if skipped else []
    if collector.intake.mended:
        parts.append(f"invalid text mended in {collector.intake.mended} events")
    if collector.duplicates:
        parts.append(f"{collector.duplicates} already stored")
    return "; ".join(parts + parsed.notes)


def _intake_values(
    row: Recording | None, skipped: Counter[str], notes: list[str], mended: int
) -> dict[str, Any]:
    """This import's skips and notes added to what the row remembers from earlier imports."""
    earlier = (row.intake if row is not None else None) or {}
    total = Counter(earlier.get("skipped") or {}) + skipped
    return {
        "skipped_events": sum(total.values()),
        "intake": {
            "skipped": dict(total.most_common()),
            "notes": [*(earlier.get("notes") or []), *notes][-MAX_NOTES:],
            "mended": int(earlier.get("mended") or 0) + mended,
        },
    }


def _utc(milliseconds: float) -> datetime:
    return datetime.fromtimestamp(milliseconds / 1000, tz=UTC)


def _row_values(
    meta: RecordingMeta, size: int, ref: str, distinct_id: str | None, now: datetime
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "start_time": _utc(meta.start_ms),
        "end_time": _utc(meta.end_ms),
        "duration_s": meta.duration_s,
        "active_s": meta.active_s,
        "click_count": meta.click_count,
        "keypress_count": meta.keypress_count,
        "console_error_count": meta.console_error_count,
        "start_url": meta.start_url,
        "urls": meta.urls,
        "viewport": meta.viewport,
        "device_type": DeviceType(meta.device_type),
        "event_count": meta.event_count,
        "custom_events": meta.custom_events,
        "size_bytes": size,
        "blob_ref": ref,
        "last_ingested_at": now,
    }
    if distinct_id:  # a later import without one keeps the one stored
        values["distinct_id"] = distinct_id
    return values
