"""Importing recording files: read, parse, merge with what is stored, store, one file at a time.

A file either lands whole (events blob written, then the row committed) or not at all; the
outcome of each file is an `ImportResult`, so one bad file never stops the others.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import structlog
from sqlalchemy.exc import SQLAlchemyError

from integrations.blobstore import BlobStore
from models import Recording
from models.db import SessionFactory, session_scope
from models.queries import get_recording
from pipeline.errors import RecordingError
from pipeline.formats import check_session_id, merge_events, parse_recording, prepare_events
from pipeline.metadata import RecordingMeta, compute_metadata

log = structlog.get_logger(__name__)
RECORDING_SUFFIXES = (".json", ".jsonl", ".ndjson", ".json.gz", ".jsonl.gz")


@dataclass(frozen=True)
class ImportResult:
    path: Path
    status: str  # imported | updated | unchanged | failed
    session_id: str | None = None
    events_added: int = 0
    message: str = ""

    @property
    def failed(self) -> bool:
        return self.status == "failed"


def recording_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Each file named, and each recording file inside each folder named (sorted, recursive)."""
    for path in paths:
        if path.is_dir():
            yield from sorted(
                p for p in path.rglob("*") if p.is_file() and p.name.endswith(RECORDING_SUFFIXES)
            )
        else:
            yield path


def session_id_from_name(path: Path) -> str:
    name = path.name
    for suffix in sorted(RECORDING_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


class RecordingImporter:
    """Stores recordings of one team; `import_file` never raises for a bad file."""

    def __init__(self, sessions: SessionFactory, blobs: BlobStore, team_id: int):
        self.sessions, self.blobs, self.team_id = sessions, blobs, team_id

    def import_file(self, path: Path, session_id: str | None = None) -> ImportResult:
        try:
            raw = _read(path)
            parsed = parse_recording(raw)
            events = prepare_events(parsed)
            sid = check_session_id(session_id or parsed.session_id or session_id_from_name(path))
            status, added = self.store(sid, events, parsed.distinct_id)
        except RecordingError as exc:
            return ImportResult(path, "failed", message=str(exc))
        except OSError as exc:
            return ImportResult(path, "failed", message=f"cannot read the file ({exc.strerror or exc})")
        except SQLAlchemyError as exc:
            log.exception("recording_import_database_error", path=str(path))
            return ImportResult(
                path, "failed", message=f"database error ({type(exc).__name__}); nothing stored"
            )
        except Exception as exc:  # a bug must not stop the other files of the batch
            log.exception("recording_import_internal_error", path=str(path))
            return ImportResult(
                path, "failed", message=f"internal error ({type(exc).__name__}); nothing stored"
            )
        log.debug(
            "recording_imported", session_id=sid, status=status, events_added=added, team_id=self.team_id
        )
        return ImportResult(path, status, sid, added)

    def store(self, session_id: str, events: list[dict], distinct_id: str | None) -> tuple[str, int]:
        """Merge `events` into the stored session; returns (status, events added).

        The new blob is written before the row is committed and removed again if the commit fails;
        the old blob is removed only after the commit succeeds.
        """
        old_ref = new_ref = None
        try:
            with session_scope(self.sessions) as session:
                row = get_recording(session, self.team_id, session_id)
                added = len(events)
                if row is not None:
                    old_ref = row.blob_ref
                    events, added = merge_events(self.blobs.read(row.blob_ref), events)
                    if added == 0:
                        return "unchanged", 0
                new_ref, size = self.blobs.write(self.team_id, session_id, events)
                meta = compute_metadata(events)
                row = row or Recording(
                    team_id=self.team_id,
                    session_id=session_id,
                    blob_ref=new_ref,
                    start_time=_utc(meta.start_ms),
                    end_time=_utc(meta.end_ms),
                )
                _apply_metadata(row, meta, size, new_ref, distinct_id)
                session.add(row)
        except BaseException:
            if new_ref is not None and new_ref != old_ref:
                self.blobs.delete(new_ref)
            raise
        if old_ref is not None and old_ref != new_ref:
            self.blobs.delete(old_ref)
        return ("updated" if old_ref else "imported"), added


def _read(path: Path) -> bytes:
    raw = path.read_bytes()
    if path.name.endswith(".gz"):
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise RecordingError("the .gz file cannot be decompressed") from exc
    return raw


def _utc(milliseconds: float) -> datetime:
    return datetime.fromtimestamp(milliseconds / 1000, tz=UTC)


def _apply_metadata(
    row: Recording, meta: RecordingMeta, size: int, ref: str, distinct_id: str | None
) -> None:
    row.start_time, row.end_time = _utc(meta.start_ms), _utc(meta.end_ms)
    row.duration_s, row.active_s = meta.duration_s, meta.active_s
    row.click_count, row.keypress_count = meta.click_count, meta.keypress_count
    row.console_error_count = meta.console_error_count
    row.start_url, row.urls, row.viewport = meta.start_url, meta.urls, meta.viewport
    row.device_type, row.event_count = meta.device_type, meta.event_count
    row.custom_events = meta.custom_events
    row.size_bytes, row.blob_ref = size, ref
    row.distinct_id = distinct_id or row.distinct_id
    row.last_ingested_at = datetime.now(UTC)
