"""`evaluate_observation(result_id)` (queue `evaluate`): one evaluation of one observation.

Transient failures (a Gemini 429 or 5xx, the database) are retried with the route's backoff, and
when the retries run out the result is failed with that reason (`evaluation_gave_up`); a permanent
one is written on the result by the use case, so nothing permanent is thrown here.
"""

from __future__ import annotations

from uuid import UUID

import dramatiq
import structlog

from actors.broker import process_deps
from pipeline.errors import PermanentError
from pipeline.names import EVALUATE, EVALUATION_GAVE_UP
from services import evaluation_runs

log = structlog.get_logger(__name__)


@dramatiq.actor(**EVALUATION_GAVE_UP.actor_options())
def evaluation_gave_up(message: dict, retries: dict) -> None:
    """`message` is the evaluate message that ran out of retries: its result is failed, not left pending."""
    (result_id,) = message["args"]
    evaluation_runs.give_up(process_deps(), UUID(result_id), attempts=int(retries["retries"]) + 1)


@dramatiq.actor(
    **EVALUATE.actor_options(), throws=(PermanentError,), on_retry_exhausted=EVALUATION_GAVE_UP.actor
)
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
