"""Importing recording files: read, check each event, merge with what is stored, store.

A file either lands (events blob written, then the row committed) or not at all; the outcome of
each file is an `ImportResult`, so one bad file never stops the others, and one bad event never
loses its file: unusable events are skipped and counted. Memory stays near the size of the
events as compact JSON: files above `STREAM_ABOVE_BYTES` are parsed one event at a time, events
are kept encoded, and the blob is written and read as a stream.
"""

from __future__ import annotations

import gzip
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import structlog
from sqlalchemy.exc import SQLAlchemyError

from integrations.blobstore import BlobStore
from models import Recording
from models.db import SessionFactory, session_scope
from models.queries import get_recording
from pipeline.errors import RecordingError
from pipeline.formats import Pair, ParsedRecording, check_session_id, parse_recording, stream_recording
from pipeline.intake import MB, Collector, Limits, describe_skips, nothing_usable
from pipeline.metadata import RecordingMeta

log = structlog.get_logger(__name__)
RECORDING_SUFFIXES = (".json", ".jsonl", ".ndjson", ".json.gz", ".jsonl.gz")
STREAM_ABOVE_BYTES = 32 * MB  # smaller files are parsed whole (faster); larger ones event by event
MAX_NOTES = 10


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
    status: str
    added: int
    skipped: int
    detail: str


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

    def __init__(self, sessions: SessionFactory, blobs: BlobStore, team_id: int, limits: Limits = Limits()):
        self.sessions, self.blobs, self.team_id, self.limits = sessions, blobs, team_id, limits

    def import_file(self, path: Path, session_id: str | None = None) -> ImportResult:
        try:
            with read_recording(path, self.limits) as parsed:
                sid = check_session_id(session_id or parsed.session_id or session_id_from_name(path))
                stored = self.store(sid, parsed)
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
            "recording_imported", session_id=sid, status=stored.status, events_added=stored.added,
            events_skipped=stored.skipped, team_id=self.team_id,
        )  # fmt: skip
        return ImportResult(path, stored.status, sid, stored.added, "", stored.skipped, stored.detail)

    def store_events(self, session_id: str, events: Iterable[dict], distinct_id: str | None = None) -> Stored:
        """Store events held in memory (a scenario, a test) as if they were a file's."""
        pairs = [(None, event) for event in events]
        return self.store(session_id, ParsedRecording("events", pairs, None, distinct_id))

    def store(self, session_id: str, parsed: ParsedRecording) -> Stored:
        """Merge the parsed events into the stored session.

        The new blob is written before the row is committed and removed again if the commit fails;
        the old blob is removed only after the commit succeeds. Raises `RecordingError` when no
        event is usable or the recording outgrows the limit.
        """
        old_ref = new_ref = None
        try:
            with session_scope(self.sessions) as session:
                row = get_recording(session, self.team_id, session_id)
                old_ref = row.blob_ref if row is not None else None
                collector = Collector(self.limits, (lambda: self.blobs.lines(old_ref)) if old_ref else None)
                collector.add_all(parsed.pairs)
                skipped = parsed.skipped + collector.intake.skipped
                if collector.added == 0:
                    if row is None:
                        raise RecordingError(nothing_usable(parsed, collector.intake))
                    return Stored("unchanged", 0, sum(skipped.values()), _detail(parsed, collector))
                new_ref, size = self.blobs.write_lines(self.team_id, session_id, collector.lines())
                meta = collector.metadata()
                row = row or Recording(
                    team_id=self.team_id, session_id=session_id, blob_ref=new_ref,
                    start_time=_utc(meta.start_ms), end_time=_utc(meta.end_ms),
                )  # fmt: skip
                _apply_metadata(row, meta, size, new_ref, parsed.distinct_id)
                _remember_intake(row, skipped, parsed.notes, collector.intake.mended)
                session.add(row)
        except BaseException:
            if new_ref is not None and new_ref != old_ref:
                self.blobs.delete(new_ref)
            raise
        if old_ref is not None and old_ref != new_ref:
            self.blobs.delete(old_ref)
        status = "updated" if old_ref else "imported"
        return Stored(status, collector.added, sum(skipped.values()), _detail(parsed, collector))


def _detail(parsed: ParsedRecording, collector: Collector) -> str:
    """`3 events skipped: 2 without a timestamp, 1 broken JSONL line; …` or ""."""
    skipped = parsed.skipped + collector.intake.skipped
    parts = [f"{sum(skipped.values())} events skipped: {describe_skips(skipped)}"] if skipped else []
    if collector.intake.mended:
        parts.append(f"invalid text mended in {collector.intake.mended} events")
    if collector.duplicates:
        parts.append(f"{collector.duplicates} already stored")
    return "; ".join(parts + parsed.notes)


def _remember_intake(row: Recording, skipped: Counter[str], notes: list[str], mended: int) -> None:
    """Add this import's skips and notes to what the row remembers from earlier imports."""
    earlier = row.intake or {}
    total = Counter(earlier.get("skipped") or {}) + skipped
    row.skipped_events = sum(total.values())
    row.intake = {
        "skipped": dict(total.most_common()),
        "notes": [*(earlier.get("notes") or []), *notes][-MAX_NOTES:],
        "mended": int(earlier.get("mended") or 0) + mended,
    }


@contextmanager
def read_recording(path: Path, limits: Limits) -> Iterator[ParsedRecording]:
    """The parsed file, open while its events are read (a large file is streamed from disk).

    Raises `RecordingError` when the file, or what a `.gz` file inflates to, is over the limit.
    """
    compressed = path.name.endswith(".gz")
    size = path.stat().st_size
    if not compressed and size > limits.max_recording_bytes:
        raise RecordingError(_too_large(f"the file is {size / MB:.1f} MB", limits))
    with path.open("rb") as raw:
        stream: BinaryIO = gzip.GzipFile(fileobj=raw) if compressed else raw
        bounded = _Bounded(stream, limits, compressed)
        head = bounded.read(STREAM_ABOVE_BYTES)
        parsed = None
        if len(head) == STREAM_ABOVE_BYTES:
            parsed = stream_recording(bounded, head)
            if parsed is None:
                head += bounded.read()
        yield parsed or parse_recording(head)


class _Bounded:
    """Reads from a stream, refusing to go past the recording limit (and translating gzip errors)."""

    def __init__(self, stream: BinaryIO, limits: Limits, compressed: bool):
        self.stream, self.limits, self.compressed, self.total = stream, limits, compressed, 0

    def read(self, size: int = -1) -> bytes:
        allowed = self.limits.max_recording_bytes + 1 - self.total
        try:
            data = self.stream.read(allowed if size is None or size < 0 else min(size, allowed))
        except (OSError, EOFError, zlib.error) as exc:
            if not self.compressed or isinstance(exc, FileNotFoundError | PermissionError):
                raise
            raise RecordingError("the .gz file cannot be decompressed") from exc
        self.total += len(data)
        if self.total > self.limits.max_recording_bytes:
            what = "the .gz file inflates past" if self.compressed else "the file grew past"
            raise RecordingError(_too_large(what, self.limits, compare=False))
        return data


def _too_large(what: str, limits: Limits, compare: bool = True) -> str:
    limit = f"{limits.max_recording_bytes // MB} MB"
    joined = f"{what}, over the {limit} limit" if compare else f"{what} the {limit} limit"
    return f"{joined} (SIGHTLINE_MAX_RECORDING_BYTES); nothing was stored"


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


__all__ = ["ImportResult", "Pair", "RecordingImporter", "read_recording", "recording_files"]
