"""`evaluate_observation(result_id)` (queue `evaluate`): one evaluation of one observation.

Transient failures (a Gemini 429 or 5xx, the database) are retried with the route's backoff; a
permanent one is written on the result by the use case, so nothing permanent is thrown here.
"""

from __future__ import annotations

from uuid import UUID

import dramatiq
import structlog

from actors.broker import process_deps
from pipeline.errors import PermanentError
from pipeline.names import EVALUATE
from services import evaluation_runs

log = structlog.get_logger(__name__)


@dramatiq.actor(**EVALUATE.actor_options(), throws=(PermanentError,))
def evaluate_observation(result_id: str) -> None:
    result = evaluation_runs.evaluate_result(process_deps(), UUID(result_id))
    if result is None:
        log.info("evaluation_skipped", result_id=result_id)
        return
    log.info(
        "observation_evaluated",
        result_id=result_id,
        evaluation_id=str(result.evaluation_id),
        observation_id=str(result.observation_id),
        status=str(result.status),
        passed=result.passed,
    )
