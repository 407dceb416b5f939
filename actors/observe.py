"""`observe_session(observation_id)`: one scanner looks at one recording (DESIGN §5).

Load → check eligibility → render the timeline → ask the provider → write once. Every outcome is
a status on the row: transient provider failures go back to `pending` and are retried with
backoff up to `SIGHTLINE_OBSERVE_RETRIES`, then `failed`; a redelivered message for a finished
row changes nothing, because every move is a conditional update on the row's status.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import dramatiq
import structlog
from dramatiq.middleware import CurrentMessage, TimeLimitExceeded

from actors.observing import analyse, finish
from integrations.storage import database
from models.db import session_scope
from models.observation_queries import claim, move_status
from models.vision import Observation, ObservationStatus
from pipeline.errors import ConfigurationError, OutputInvalid, ProviderRejected, ProviderTransient
from pipeline.limits import Ineligible
from settings import Settings, get_settings

log = structlog.get_logger(__name__)
PENDING, RUNNING = ObservationStatus.PENDING, ObservationStatus.RUNNING
TIME_LIMIT_MS = 10 * 60 * 1000
# Our own count decides when to give up (SIGHTLINE_OBSERVE_RETRIES, at most 10); this is the ceiling.
MAX_RETRIES = 10
FAILURES = {
    ProviderRejected: ("provider_rejected", "the model provider refused the request"),
    OutputInvalid: ("validation_failed", "the model's answer did not fit the schema after a re-prompt"),
    TimeLimitExceeded: ("internal_error", "the analysis ran past its time limit"),
}


@dramatiq.actor(queue_name="observe", max_retries=MAX_RETRIES, min_backoff=1_000, time_limit=TIME_LIMIT_MS)
def observe_session(observation_id: str) -> None:
    settings = get_settings()
    sessions = database(settings).sessions
    observation = _claim(sessions, UUID(observation_id))
    if observation is None:
        log.info("observation_not_claimed", observation_id=observation_id)
        return
    bound = log.bind(observation_id=observation_id, scanner_id=str(observation.scanner_id))
    try:
        result = analyse(observation, settings, sessions)
    except ProviderTransient as exc:
        _retry_or_fail(sessions, observation.id, exc, settings)
        return
    except (ProviderRejected, OutputInvalid, TimeLimitExceeded) as exc:
        _fail(sessions, observation.id, *FAILURES[type(exc)])
        bound.warning("observation_failed", kind=FAILURES[type(exc)][0])
        return
    except ConfigurationError as exc:
        _fail(sessions, observation.id, "provider_rejected", str(exc))
        return
    except Exception:
        bound.exception("observation_internal_error")
        _fail(sessions, observation.id, "internal_error", "an unexpected error stopped the analysis")
        return
    if isinstance(result, Ineligible):
        _end(sessions, observation.id, ObservationStatus.INELIGIBLE, result.reason)
        bound.info("observation_ineligible", kind=result.kind)
    elif finish(sessions, observation, result, settings):
        bound.info("observation_succeeded", signals=len(result.outcome.signals))


def _now() -> datetime:
    return datetime.now(UTC)


def _claim(sessions, observation_id: UUID) -> Observation | None:
    """pending → running; None when another delivery has it or it is already finished."""
    with session_scope(sessions) as session:
        return claim(session, observation_id, [PENDING], status=RUNNING, started_at=_now())


def _end(sessions, observation_id: UUID, status: ObservationStatus, reason: str | None) -> None:
    with session_scope(sessions) as session:
        move_status(
            session, observation_id, [RUNNING], status=status, error_reason=reason, completed_at=_now()
        )


def _fail(sessions, observation_id: UUID, kind: str, message: str) -> None:
    _end(sessions, observation_id, ObservationStatus.FAILED, f"{kind}:{message}")


def _retry_or_fail(sessions, observation_id: UUID, exc: ProviderTransient, settings: Settings) -> None:
    message = CurrentMessage.get_current_message()
    retries = int(message.options.get("retries", 0)) if message is not None else settings.observe_retries
    if retries >= settings.observe_retries:
        attempts = retries + 1
        _fail(
            sessions,
            observation_id,
            "provider_transient",
            f"the model provider kept failing ({attempts} attempts)",
        )
        log.warning("observation_failed", observation_id=str(observation_id), kind="provider_transient")
        return
    backoff = min(settings.observe_backoff_max_s, settings.observe_backoff_min_s * 2**retries)
    delay = max(backoff, min(getattr(exc, "retry_after_s", None) or 0, settings.observe_backoff_max_s))
    with session_scope(sessions) as session:
        move_status(session, observation_id, [RUNNING], status=PENDING)
    log.info("observation_retrying", observation_id=str(observation_id), retries=retries, delay_s=delay)
    raise dramatiq.Retry(str(exc), delay=int(delay * 1000))
