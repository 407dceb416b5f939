"""`compact_recording(team_id, session_id)` (queue `ingest`): merge a live session's waiting batches
into its recording. Sent by the ingest endpoint at most once per merge delay; the scheduler merges
whatever a lost message left waiting. A concurrent merge of the same session is retried."""

from __future__ import annotations

import dramatiq
import structlog

from actors.broker import process_deps
from pipeline.errors import PermanentError
from pipeline.names import COMPACT
from services.ingest import merge_waiting

log = structlog.get_logger(__name__)


@dramatiq.actor(**COMPACT.actor_options(), throws=(PermanentError,))
def compact_recording(team_id: int, session_id: str) -> None:
    stored = merge_waiting(process_deps(), int(team_id), session_id)
    if stored is not None:
        log.info("ingest_merged", team_id=team_id, status=stored.status, events_added=stored.added)
