"""The lazy index of recordings' log lines and events (`recording_entries`).

Choice: index at first query, per recording version, instead of at store time (storing stays as
it is) or scanning blobs per query (every filter and page would decode every recording). Before a
team's logs or events are read, each recording whose current `blob_ref` is not yet indexed is read
once (`pipeline.log_entries.read_entries`: the same walk as a timeline render, milliseconds per
recording) and its rows replaced in one transaction. Cost: the first query after new recordings
pays for reading them (at most `BATCH` per query; the rest on the next); later queries are plain
indexed SQL. Reads join the recording's current `blob_ref`, so a replaced version's rows are never
returned, nor those of a deleted recording. Entry ids are deterministic, so two requests indexing
the same recording at once write the same rows; the loser's transaction is dropped.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import and_, delete, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from models import Recording
from models.recording_entries import RecordingEntry, RecordingEntryIndex
from pipeline.intake import EncodedEvents
from pipeline.log_entries import entry_uuid, read_entries
from services.context import Deps

log = structlog.get_logger(__name__)
BATCH = 500  # recordings read per query at most


def ensure_indexed(deps: Deps, team_id: int) -> int:
    """Index the team's recordings whose current version is not indexed yet; how many were read."""
    with deps.read() as session:
        stale = session.exec(
            select(Recording)
            .outerjoin(
                RecordingEntryIndex,
                and_(
                    col(RecordingEntryIndex.team_id) == col(Recording.team_id),
                    col(RecordingEntryIndex.session_id) == col(Recording.session_id),
                ),
            )
            .where(Recording.team_id == team_id)
            .where(
                or_(
                    col(RecordingEntryIndex.blob_ref).is_(None),
                    col(RecordingEntryIndex.blob_ref) != col(Recording.blob_ref),
                )
            )
            .limit(BATCH)
        ).all()
    for row in stale:
        _index(deps, row)
    return len(stale)


def index_recording(deps: Deps, row: Recording) -> None:
    """Index one recording's current version unless it is indexed already (a page shows its lines)."""
    with deps.read() as session:
        marker = session.exec(
            select(RecordingEntryIndex).where(
                RecordingEntryIndex.team_id == row.team_id, RecordingEntryIndex.session_id == row.session_id
            )
        ).first()
    if marker is None or marker.blob_ref != row.blob_ref:
        _index(deps, row)


def _index(deps: Deps, row: Recording) -> None:
    try:
        events = EncodedEvents(list(deps.blobs.lines(row.blob_ref)))
        entries = read_entries(events)
        first_ms = events[0]["timestamp"] if entries else 0.0
    except OSError as exc:  # a missing blob: indexed as empty until a new version arrives
        log.warning("recording_entries_unreadable", session_id=row.session_id, error=type(exc).__name__)
        entries, first_ms = [], 0.0
    rows = [
        RecordingEntry(
            id=entry_uuid(row.team_id, row.session_id, entry.seq, entry.stream, entry.ordinal),
            team_id=row.team_id,
            session_id=row.session_id,
            blob_ref=row.blob_ref,
            seq=entry.seq,
            stream=entry.stream,
            event=entry.event,
            level=entry.level,
            message=entry.message,
            fingerprint=entry.fingerprint,
            url=entry.url,
            distinct_id=row.distinct_id,
            timestamp=datetime.fromtimestamp(first_ms / 1000, UTC) + timedelta(seconds=entry.offset_s),
            offset_s=entry.offset_s,
            properties=entry.properties,
        )
        for entry in entries
    ]
    try:
        with deps.transaction() as session:
            mine = and_(
                col(RecordingEntry.team_id) == row.team_id, col(RecordingEntry.session_id) == row.session_id
            )
            session.execute(delete(RecordingEntry).where(mine))
            session.add_all(rows)
            marker = session.get(RecordingEntryIndex, (row.team_id, row.session_id))
            if marker is None:
                marker = RecordingEntryIndex(team_id=row.team_id, session_id=row.session_id, blob_ref="")
            marker.blob_ref, marker.entry_count, marker.indexed_at = row.blob_ref, len(rows), deps.now()
            session.add(marker)
    except IntegrityError:
        log.info("recording_entries_indexed_elsewhere", session_id=row.session_id)


def current(stream: str, team_id: int):
    """The statement of a team's current entries of `stream`, joined to their recording's version."""
    return (
        select(RecordingEntry)
        .join(
            Recording,
            and_(
                col(Recording.team_id) == col(RecordingEntry.team_id),
                col(Recording.session_id) == col(RecordingEntry.session_id),
                col(Recording.blob_ref) == col(RecordingEntry.blob_ref),
            ),
        )
        .where(RecordingEntry.team_id == team_id, RecordingEntry.stream == stream)
    )
