"""`run_scout(run_id)` (queue `scouts`): one claimed run of one scout.

Transient failures (the database, a blob store) are retried with the route's backoff; a run that
already ran is skipped, so a redelivered message changes nothing.
"""

from __future__ import annotations

from uuid import UUID

import dramatiq
import structlog

from actors.broker import process_deps
from pipeline.errors import PermanentError
from pipeline.names import RUN_SCOUT
from services import scout_runs

log = structlog.get_logger(__name__)


@dramatiq.actor(**RUN_SCOUT.actor_options(), throws=(PermanentError,))
def run_scout(run_id: str) -> None:
    run = scout_runs.run_scout(process_deps(), UUID(run_id))
    if run is None:
        log.info("scout_run_skipped", run_id=run_id)
