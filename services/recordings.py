"""Reading stored recordings: the timeline the model reads, from the blob and the row."""

from __future__ import annotations

from collections import Counter

from integrations.blobstore import BlobStore
from models import Recording
from pipeline.intake import EncodedEvents, describe_skips
from pipeline.metadata import RecordingMeta
from pipeline.timeline import Timeline, render_timeline


def recording_meta(row: Recording) -> RecordingMeta:
    """The metadata computed at import, as stored on the row."""
    return RecordingMeta(
        start_ms=row.start_time.timestamp() * 1000, end_ms=row.end_time.timestamp() * 1000,
        duration_s=row.duration_s, active_s=row.active_s, click_count=row.click_count,
        keypress_count=row.keypress_count, console_error_count=row.console_error_count, urls=list(row.urls),
        viewport=row.viewport, device_type=str(row.device_type), event_count=row.event_count,
        custom_events=list(row.custom_events or []),
    )  # fmt: skip


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

    Raises `OSError` when the recording's blob is missing.
    """
    events = EncodedEvents(list(blobs.lines(row.blob_ref)))
    return render_timeline(
        events, budget_tokens=budget_tokens, session_id=session_id, meta=recording_meta(row),
        notes=import_notes(row),
    )  # fmt: skip
