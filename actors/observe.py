"""`observe_session(observation_id)`: one scanner looks at one recording (`services.observe`).

Dramatiq retries what may pass: a transient failure (`TransientError`: the provider's, a missing
recording blob, a blob store not answering) is raised as `dramatiq.Retry` with our backoff (at
least the wait the provider asked for), up to SIGHTLINE_OBSERVE_RETRIES times, read when a failure
happens, never at import. When they run out, Dramatiq's Retries middleware sends the message to
`observation_gave_up`, which fails the row with the reason the last attempt left
(`provider_transient`, `blob_missing`, `blob_unavailable`). Permanent errors are thrown, not
retried; any other failure (the database, say) is retried the route's number of times.
"""

from __future__ import annotations

import dramatiq
import structlog
from dramatiq.middleware import CurrentMessage, TimeLimitExceeded

from actors.broker import process_deps
from actors.jobruns import current_attempt
from pipeline.errors import PermanentError, TransientError
from pipeline.names import OBSERVE, OBSERVE_BATCH, OBSERVE_GAVE_UP
from services.observe import run_observation, run_observations
from services.observe_retries import give_up, retry_delay_ms

log = structlog.get_logger(__name__)


def _retry_when(retries: int, exception: BaseException) -> bool:
    """Whether Dramatiq's Retries middleware tries the message again after this failure."""
    if isinstance(exception, dramatiq.Retry):  # a transient failure (the provider, the blob store)
        return retries < process_deps().settings.observe_retries
    return retries < OBSERVE.max_retries


@dramatiq.actor(
    **OBSERVE.actor_options(),
    retry_when=_retry_when,
    throws=(PermanentError,),
    on_retry_exhausted=OBSERVE_GAVE_UP.actor,
)
def observe_session(observation_id: str) -> None:
    deps = process_deps()
    attempt = current_attempt()  # its JobRun row is written with the result, in one transaction
    retries = _retries()
    also_write = attempt.insert_into if attempt else None
    try:
        result = run_observation(deps, observation_id, retries=retries, also_write=also_write)
    except TransientError as exc:
        delay_ms = retry_delay_ms(deps.settings, retries, exc)
        log.info(
            "observation_retrying", observation_id=observation_id, retries=retries, delay_s=delay_ms / 1000
        )
        raise dramatiq.Retry(str(exc), delay=delay_ms) from exc
    except TimeLimitExceeded:  # run_observation failed the row
        if attempt is not None:
            attempt.failed("observation failed: internal_error (past the time limit)")
        return
    if attempt is not None and result.written:
        attempt.committed()
    elif attempt is not None and result.status == "failed":
        attempt.failed(f"observation failed: {result.kind}")  # the job history shows it as failed


@dramatiq.actor(
    **OBSERVE_BATCH.actor_options(), throws=(PermanentError,), on_retry_exhausted=OBSERVE_GAVE_UP.actor
)
def observe_batch(observation_ids: list[str]) -> None:
    """Several observations of heuristic scanners (`services.observe.dispatch`), one after another;
    one that fails transiently is sent again alone. Its job run is written after the last."""
    attempted = run_observations(process_deps(), observation_ids)
    attempt = current_attempt()
    failed = sum(1 for each in attempted if each.status == "failed")
    if attempt is not None and failed:
        attempt.failed(f"{failed} of {len(observation_ids)} observations failed")


@dramatiq.actor(**OBSERVE_GAVE_UP.actor_options(), throws=(PermanentError,))
def observation_gave_up(message: dict, retries: dict) -> None:
    """`message` is the observe_session (one id) or observe_batch (a list of ids) message that ran
    out of retries; `retries` how many it had. Only the observations still pending are failed."""
    (argument,) = message["args"]
    for observation_id in argument if isinstance(argument, list) else [argument]:
        give_up(process_deps(), observation_id, attempts=int(retries["retries"]) + 1)


def _retries() -> int:
    """How many times the current message was retried already."""
    message = CurrentMessage.get_current_message()
    return int(message.options.get("retries", 0)) if message is not None else 0
