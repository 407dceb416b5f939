"""One observation attempt (DESIGN §5): what the `observe_session` actor does with one message.

Claim the row (pending → running), check eligibility, render the stored timeline, ask the provider
(the heuristic one, or Gemini through the process's gateway and its shared limiter), check the
answer, and write the result, the usage receipt and the signals in one transaction. Every outcome
is a status on the row, and every move is a conditional update on the row's status, so a message
delivered twice changes nothing the second time.

A transient failure (the provider's, a recording's blob missing, the blob store not answering) puts
the row back to `pending` with the `kind:message` it would fail with as its reason, and raises: the
caller retries (Dramatiq's Retries middleware, with `retry_delay_ms`), and when the retries run
out, `give_up` fails the row with that reason (`provider_transient`, `blob_missing`,
`blob_unavailable`), never as an internal error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import structlog
from sqlmodel import Session

from models.base import MAX_ERROR_LENGTH
from models.observation_queries import add_new_signals, claim, insert_receipt, move_status
from models.queries import get_recording
from models.vision import Observation, ObservationStatus
from pipeline.conversation import Answer, converse
from pipeline.errors import (
    BlobMissing,
    BlobStoreUnavailable,
    ConfigurationError,
    InvalidField,
    OutputInvalid,
    ProviderRejected,
    TransientError,
)
from pipeline.heuristics import heuristic_answer, heuristic_findings
from pipeline.limits import Ineligible, eligibility
from pipeline.observation import Outcome, build_outcome
from pipeline.outputs import check_output
from pipeline.timeline import Timeline
from services.budget import observation_price
from services.context import Deps
from services.recordings import stored_timeline
from settings import Settings

log = structlog.get_logger(__name__)
PENDING, RUNNING = ObservationStatus.PENDING, ObservationStatus.RUNNING
FAILURES = {
    ProviderRejected: ("provider_rejected", "the model provider refused the request"),
    OutputInvalid: ("validation_failed", "the model's answer did not fit the schema after a re-prompt"),
}
PROVIDER_TRANSIENT = "provider_transient:the model provider kept failing"


@dataclass(frozen=True)
class Attempted:
    status: str  # not_claimed | succeeded | ineligible | failed | superseded (finished elsewhere meanwhile)
    kind: str = ""  # why it is ineligible or failed
    signals: int = 0

    @property
    def written(self) -> bool:
        """Whether this attempt wrote the result (and what `also_write` added) in its transaction."""
        return self.status == "succeeded"


@dataclass
class Analysis:
    outcome: Outcome
    credits: int
    input_tokens: int
    output_tokens: int


def run_observation(
    deps: Deps, observation_id: str | UUID, *, also_write: Callable[[Session], None] | None = None
) -> Attempted:
    """Run one attempt of a pending observation; `also_write(session)` joins the success transaction.

    Raises a `TransientError` (`ProviderTransient`, `BlobMissing`, `BlobStoreUnavailable`) after
    putting the row back to pending with its `retry_reason` (retry it), `InvalidField` when
    `observation_id` is not a UUID. Every other failure is a `failed` row, not an exception.
    """
    key = _uuid(observation_id)
    with deps.transaction() as session:
        observation = claim(session, key, [PENDING], status=RUNNING, started_at=deps.now())
    if observation is None:
        log.info("observation_not_claimed", observation_id=str(key))
        return Attempted("not_claimed")
    bound = log.bind(observation_id=str(key), scanner_id=str(observation.scanner_id))
    try:
        result = analyse(deps, observation)
    except TransientError as exc:
        _move(deps, key, PENDING, retry_reason(exc, observation.session_id))
        raise
    except (ProviderRejected, OutputInvalid) as exc:
        kind, message = FAILURES[type(exc)]
        failed = fail_observation(deps, key, kind, message)
        bound.warning("observation_failed", kind=kind)
        return failed
    except ConfigurationError as exc:
        return fail_observation(deps, key, "provider_rejected", str(exc))
    except Exception:  # a bug must fail this row, not retry it forever
        bound.exception("observation_internal_error")
        return fail_observation(deps, key, "internal_error", "an unexpected error stopped the analysis")
    if isinstance(result, Ineligible):
        _move(deps, key, ObservationStatus.INELIGIBLE, result.reason)
        bound.info("observation_ineligible", kind=result.kind)
        return Attempted("ineligible", result.kind)
    if not finish(deps, observation, result, also_write):
        return Attempted("superseded")
    bound.info("observation_succeeded", signals=len(result.outcome.signals))
    return Attempted("succeeded", signals=len(result.outcome.signals))


def fail_observation(deps: Deps, observation_id: str | UUID, kind: str, message: str) -> Attempted:
    """Fail a running observation with `kind:message` as its reason."""
    _move(deps, _uuid(observation_id), ObservationStatus.FAILED, f"{kind}:{message}")
    return Attempted("failed", kind)


def give_up(deps: Deps, observation_id: str | UUID, attempts: int) -> bool:
    """The retries ran out: fail the observation waiting for another try with the reason its last
    attempt left (`retry_reason`), and the number of attempts.

    True when a pending row was failed; a row that finished meanwhile is left alone.
    """
    key = _uuid(observation_id)
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


def analyse(deps: Deps, observation: Observation) -> Analysis | Ineligible:
    """Everything but the write: eligibility, timeline, the provider's answer, the checked outcome."""
    with deps.read() as session:
        recording = get_recording(session, observation.team_id, observation.session_id)
    ineligible = eligibility(recording)
    if ineligible is not None:
        return ineligible
    assert recording is not None  # eligibility() refuses a missing recording (no_recording)
    timeline = stored_timeline(deps.blobs, recording, budget_tokens=deps.settings.timeline_budget_tokens)
    snapshot = observation.scanner_snapshot
    answer = _answer(deps, snapshot, timeline)
    credits = observation_price(snapshot["provider"], snapshot["model"], deps.settings)
    outcome = build_outcome(
        observation_id=str(observation.id),
        session_id=observation.session_id,
        snapshot=snapshot,
        timeline=timeline,
        answer=answer,
        credits=credits,
    )
    return Analysis(outcome, credits, answer.input_tokens, answer.output_tokens)


def finish(
    deps: Deps, observation: Observation, analysis: Analysis, also_write: Callable[[Session], None] | None
) -> bool:
    """running → succeeded with the result, the usage receipt and the signals, in one transaction.

    Everything is computed before the first write, so the database's write lock is held only for
    the statements themselves. False when the row was no longer running (nothing written).
    """
    outcome = analysis.outcome
    receipt = {
        "observation_id": observation.id,
        "team_id": observation.team_id,
        "scanner_id": observation.scanner_id,
        "model": observation.scanner_snapshot["model"],
        "credits": analysis.credits,
        "input_tokens": analysis.input_tokens,
        "output_tokens": analysis.output_tokens,
        "observation_created_at": observation.created_at,
    }
    with deps.transaction() as session:
        moved = move_status(
            session,
            observation.id,
            [RUNNING],
            status=ObservationStatus.SUCCEEDED,
            error_reason=None,  # an earlier attempt's retry reason
            completed_at=deps.now(),
            scanner_result=outcome.scanner_result,
            result_verdict=outcome.verdict,
            result_score=outcome.score,
            result_tags=outcome.tags,
        )
        if not moved:
            return False
        insert_receipt(session, **receipt)
        add_new_signals(session, observation.team_id, outcome.signals)
        if also_write is not None:
            also_write(session)
    return True


def _answer(deps: Deps, snapshot: dict, timeline: Timeline) -> Answer:
    scanner_type, config = snapshot["scanner_type"], snapshot["scanner_config"]
    if snapshot["provider"] == "heuristic":
        result = check_output(scanner_type, config, heuristic_answer(scanner_type, config, timeline))
        findings = heuristic_findings(timeline) if snapshot.get("emits_signals") else []
        return Answer(result=result, findings=findings)
    return converse(snapshot, timeline.text, deps.gemini().generate)


def _move(deps: Deps, observation_id: UUID, status: ObservationStatus, reason: str | None = None) -> None:
    """running → `status` with its reason; a finished row is an end, so it also gets its completion
    time (a pending one keeps the reason it would fail with if its retries run out)."""
    values: dict[str, Any] = {"error_reason": reason}
    if status != PENDING:
        values["completed_at"] = deps.now()
    with deps.transaction() as session:
        move_status(session, observation_id, [RUNNING], status=status, **values)


def _uuid(observation_id: str | UUID) -> UUID:
    try:
        return observation_id if isinstance(observation_id, UUID) else UUID(observation_id)
    except ValueError as exc:
        raise InvalidField("observation_id", f"{observation_id!r} is not an observation id") from exc
