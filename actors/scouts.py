"""`run_scout(run_id)` (queue `scouts`): one claimed run of one scout.

Transient failures (the database, a blob store) are retried with the route's backoff: the run goes
back to queued for the retry, and is failed with the error's kind when the retries run out. A run
that already ran is skipped, so a redelivered message changes nothing.
"""

from __future__ import annotations

from uuid import UUID

import dramatiq
import structlog
from dramatiq.middleware import CurrentMessage

from actors.broker import process_deps
from pipeline.errors import PermanentError
from pipeline.names import RUN_SCOUT
from services import scout_runs

log = structlog.get_logger(__name__)


@dramatiq.actor(**RUN_SCOUT.actor_options(), throws=(PermanentError,))
def run_scout(run_id: str) -> None:
    message = CurrentMessage.get_current_message()
    retries = int(message.options.get("retries", 0)) if message is not None else RUN_SCOUT.max_retries
    run = scout_runs.run_scout(process_deps(), UUID(run_id), last_attempt=retries >= RUN_SCOUT.max_retries)
    if run is None:
        log.info("scout_run_skipped", run_id=run_id)
