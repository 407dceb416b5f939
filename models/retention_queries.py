"""Reads and deletes of retention and per-person deletion (DESIGN §11). None of them commits.

Everything is keyed by a team and a list of session ids; the deletes go children first (labels,
signals, observations, ingest batches, recordings), as the foreign keys require. Long lists are
cut into chunks so no statement outgrows a database's limit on parameters.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col, delete, func, or_, select

from models.ingest import IngestBatch
from models.recording_entries import LogExplanation, RecordingEntry, RecordingEntryIndex
from models.recordings import Recording
from models.signals import Signal
from models.tenancy import Team
from models.vision import Observation, ObservationLabel, ObservationStatus, Scanner

CHUNK = 500
PREFIXES_PER_STATEMENT = 100
T = TypeVar("T")


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def team_ids(session: Session) -> list[int]:
    return [
        team_id for team_id in session.exec(select(Team.id).order_by(col(Team.id))) if team_id is not None
    ]


def due_sessions(session: Session, team_id: int, before: datetime, limit: int) -> list[str]:
    """A team's recordings that ended and were last ingested before `before`, oldest ingest first.

    Walks `ix_recordings_team_id_last_ingested_at`: when nothing is due it reads no row.
    """
    statement = (
        select(Recording.session_id)
        .where(
            Recording.team_id == team_id,
            col(Recording.last_ingested_at) < before,
            col(Recording.end_time) < before,
        )
        .order_by(col(Recording.last_ingested_at), col(Recording.session_id))
        .limit(limit)
    )
    return list(session.exec(statement))


def sessions_of_person(session: Session, team_id: int, distinct_id: str) -> list[str]:
    """The sessions of one person: their recordings', and those of their batches still waiting to
    be merged into a recording (which may not exist yet)."""
    recorded = select(Recording.session_id).where(
        Recording.team_id == team_id, Recording.distinct_id == distinct_id
    )
    waiting = select(IngestBatch.session_id).where(
        IngestBatch.team_id == team_id, IngestBatch.distinct_id == distinct_id
    )
    return list(session.connection().execute(sa.union(recorded, waiting)).scalars())


def session_observations(
    session: Session, team_id: int, session_ids: Sequence[str]
) -> list[tuple[UUID, bool]]:
    """The team's observations of these sessions, each with whether it succeeded (only those emit
    signals). Looked up by (scanner, session), the observations' unique index."""
    scanners = select(Scanner.id).where(Scanner.team_id == team_id)
    rows: list[tuple[UUID, bool]] = []
    for part in chunks(session_ids):
        statement = select(Observation.id, Observation.status).where(
            col(Observation.scanner_id).in_(scanners),
            col(Observation.session_id).in_(part),
        )
        rows += [(key, status == ObservationStatus.SUCCEEDED) for key, status in session.exec(statement)]
    return rows


def signals_starting(session: Session, team_id: int, prefixes: Sequence[str]) -> list[Any]:
    """(id, report_id) of the team's signals whose `source_id` starts with one of `prefixes`."""
    rows: list[Any] = []
    for part in chunks(prefixes, PREFIXES_PER_STATEMENT):
        matches = or_(*(col(Signal.source_id).startswith(prefix, autoescape=True) for prefix in part))
        statement = select(Signal.id, Signal.report_id).where(Signal.team_id == team_id, matches)
        rows += list(session.exec(statement))
    return rows


def delete_labels(session: Session, observation_ids: Sequence[UUID]) -> int:
    return _delete_in(session, ObservationLabel, col(ObservationLabel.observation_id), observation_ids)


def delete_signals(session: Session, signal_ids: Sequence[UUID]) -> list[Any]:
    """Delete these signals; (report_id, weight, deleted) of each as it was when deleted (RETURNING:
    a signal a grouping worker placed meanwhile comes back with its new report)."""
    rows: list[Any] = []
    for part in chunks(signal_ids):
        statement = (
            delete(Signal)
            .where(col(Signal.id).in_(part))
            .returning(col(Signal.report_id), col(Signal.weight), col(Signal.deleted))
        )
        rows += list(session.connection().execute(statement))
    return rows


def delete_observations(session: Session, observation_ids: Sequence[UUID]) -> int:
    return _delete_in(session, Observation, col(Observation.id), observation_ids)


def delete_ingest_batches(session: Session, team_id: int, session_ids: Sequence[str]) -> list[str | None]:
    """Delete the team's ingest batches of these sessions; the blob ref of each (a batch waiting for
    its merge holds one; None otherwise)."""
    refs: list[str | None] = []
    for part in chunks(session_ids):
        statement = (
            delete(IngestBatch)
            .where(col(IngestBatch.team_id) == team_id, col(IngestBatch.session_id).in_(part))
            .returning(col(IngestBatch.blob_ref))
        )
        refs += list(session.connection().execute(statement).scalars())
    return refs


def delete_recording_rows(session: Session, team_id: int, session_ids: Sequence[str]) -> list[str]:
    """Delete the team's recordings of these sessions, with the log and event lines read from them
    and their explanations; the blob refs they held (RETURNING: the refs at the moment of the
    delete, even if an ingest replaced one since it was read)."""
    refs: list[str] = []
    for part in chunks(session_ids):
        mine = (col(RecordingEntry.team_id) == team_id) & col(RecordingEntry.session_id).in_(part)
        lines = select(RecordingEntry.id).where(mine)
        session.exec(
            delete(LogExplanation).where(
                col(LogExplanation.team_id) == team_id, col(LogExplanation.entry_id).in_(lines)
            )
        )
        session.exec(delete(RecordingEntry).where(mine))
        session.exec(
            delete(RecordingEntryIndex).where(
                col(RecordingEntryIndex.team_id) == team_id, col(RecordingEntryIndex.session_id).in_(part)
            )
        )
        statement = (
            delete(Recording)
            .where(col(Recording.team_id) == team_id, col(Recording.session_id).in_(part))
            .returning(col(Recording.blob_ref))
        )
        refs += list(session.connection().execute(statement).scalars())
    return refs


def live_signal_count(session: Session, report_id: UUID) -> int:
    statement = select(func.count()).where(Signal.report_id == report_id, col(Signal.deleted).is_(False))
    return session.exec(statement).one()


# Tables whose `blob_ref` names the recording version their rows were read from, not a blob they own:
# they must not keep a replaced version's blob from being collected.
VERSION_MARKS = frozenset({RecordingEntry.__tablename__, RecordingEntryIndex.__tablename__})


def referenced_refs(session: Session, team_id: int) -> set[str]:
    """Every blob ref a row of the team holds: recordings', and batches' waiting for their merge
    (every table with `team_id` and `blob_ref` columns). The orphan check's "known" set."""
    known: set[str] = set()
    for table in SQLModel.metadata.sorted_tables:
        if table.name in VERSION_MARKS:
            continue
        if "blob_ref" in table.c and "team_id" in table.c:
            refs = sa.select(table.c.blob_ref).where(
                table.c.team_id == team_id, table.c.blob_ref.is_not(None)
            )
            known.update(session.connection().execute(refs).scalars())
    return known


def _delete_in(session: Session, model: Any, column: Any, keys: Sequence[Any]) -> int:
    count = 0
    for part in chunks(keys):
        count += session.exec(delete(model).where(column.in_(part))).rowcount
    return count
