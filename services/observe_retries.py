"""An observation waiting for another try (DESIGN §5): the reason it keeps, when the next attempt is
due, and its end when the retries run out.

A transient failure (the provider's, a recording's blob missing, the blob store not answering) puts
the row back to `pending` with the `kind:message` it would fail with; when the actor's retries run
out, `give_up` fails it with that reason (`provider_transient`, `blob_missing`, `blob_unavailable`),
never as an internal error.
"""

from __future__ import annotations

from uuid import UUID

import structlog

from models.base import MAX_ERROR_LENGTH
from models.observation_queries import move_status
from models.vision import Observation, ObservationStatus
from pipeline.errors import BlobMissing, BlobStoreUnavailable, InvalidField, TransientError
from services.context import Deps
from settings import Settings

log = structlog.get_logger(__name__)
PENDING = ObservationStatus.PENDING
PROVIDER_TRANSIENT = "provider_transient:the model provider kept failing"


def give_up(deps: Deps, observation_id: str | UUID, attempts: int) -> bool:
    """The retries ran out: fail the observation waiting for another try with the reason its last
    attempt left (`retry_reason`), and the number of attempts.

    True when a pending row was failed; a row that finished meanwhile is left alone.
    """
    key = observation_key(observation_id)
    with deps.transaction() as session:
        row = session.get(Observation, key)
        reason = f"{(row.error_reason if row else None) or PROVIDER_TRANSIENT} ({attempts} attempts)"
        moved = move_status(
            session,
            key,
            [PENDING],
            status=ObservationStatus.FAILED,
            error_reason=reason,
            completed_at=deps.now(),
            next_attempt_at=None,
        )
    if moved:
        log.warning("observation_failed", observation_id=str(key), kind=reason.partition(":")[0])
    return moved


def retry_reason(exc: TransientError, session_id: str) -> str:
    """The `kind:message` an observation waiting for its retry keeps, and fails with if none passes."""
    if isinstance(exc, BlobMissing):
        reason = f"blob_missing:the events of recording {session_id!r} are missing from {exc.location}"
    elif isinstance(exc, BlobStoreUnavailable):
        reason = f"blob_unavailable:the blob store {exc.location} did not answer"
    else:
        reason = PROVIDER_TRANSIENT
    return reason[: MAX_ERROR_LENGTH - 20]  # room for give_up's " (N attempts)"


def retry_delay_ms(settings: Settings, retries: int, exc: TransientError) -> int:
    """How long to wait before retry number `retries + 1`.

    Exponential from SIGHTLINE_OBSERVE_BACKOFF_MIN_S up to _MAX_S, or the wait the provider asked
    for (a 429's RetryInfo) when it is longer, capped at the same maximum.
    """
    longest = settings.observe_backoff_max_s
    backoff = min(longest, settings.observe_backoff_min_s * 2**retries)
    asked = min(getattr(exc, "retry_after_s", None) or 0, longest)
    return int(max(backoff, asked) * 1000)


def observation_key(observation_id: str | UUID) -> UUID:
    """`observation_id` as a UUID; `InvalidField` when it is not one."""
    try:
        return observation_id if isinstance(observation_id, UUID) else UUID(observation_id)
    except ValueError as exc:
        raise InvalidField("observation_id", f"{observation_id!r} is not an observation id") from exc
