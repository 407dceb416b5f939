"""One observation attempt (DESIGN §5): what the `observe_session` actor does with one message.

Claim the row (pending → running), check eligibility, get the recording's timeline (rendered once per
version and shared by its scanners: `services.analysis_cache`), ask the provider
(the heuristic one, or Gemini through the process's gateway and its shared limiter), check the
answer, and write the result, the usage receipt and the signals in one transaction. Every outcome
is a status on the row, and every move is a conditional update on the row's status, so a message
delivered twice changes nothing the second time.

When the answer is at hand (a heuristic scanner, the recording's analysis in this process's memory
or in a local blob store: microseconds of work), it is written in the claim's transaction: one
commit, no lease to keep, and a crash before that commit leaves the row pending for the redelivered
message. Otherwise the claim commits first and the attempt runs under its lease.

A claim is a lease (`services.observation_leases`): the attempt renews it while it runs, and a
message for a row whose lease lapsed (its worker stopped) takes the row over rather than being
dropped; a row whose lease is live is refused (another worker is on it). Every write of an attempt
is fenced by its attempt number, so an attempt that was taken over writes nothing.

A transient failure (the provider's, a recording's blob missing, the blob store not answering) puts
the row back to `pending` with the `kind:message` it would fail with as its reason and the time of
its next attempt, and raises: the caller retries (Dramatiq's Retries middleware, with
`retry_delay_ms`), and when the retries run out, `give_up` (`services.observe_retries`) fails the row
with that reason (`provider_transient`, `blob_missing`, `blob_unavailable`), never as an internal error.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

import structlog
from sqlmodel import Session

from models.observation_queries import (
    add_new_signals,
    claim_many_with_recordings,
    claim_with_recording,
    insert_receipt,
    move_status,
)
from models.recordings import Recording
from models.vision import Observation, ObservationStatus
from pipeline.conversation import Answer, converse
from pipeline.errors import (
    ConfigurationError,
    OutputInvalid,
    ProviderRejected,
    TransientError,
)
from pipeline.heuristics import heuristic_answer, heuristic_findings
from pipeline.limits import Ineligible, eligibility
from pipeline.names import OBSERVE, OBSERVE_BATCH, OBSERVE_BATCH_SIZE
from pipeline.observation import Outcome, build_outcome
from pipeline.outputs import check_output
from pipeline.timeline import Timeline
from services.analysis_cache import recording_timeline, timeline_at_hand
from services.budget import observation_price
from services.context import Deps
from services.observation_leases import lease_end, leased
from services.observe_retries import observation_key, retry_delay_ms, retry_reason
from services.symbol_sets import prompt_stack_traces

log = structlog.get_logger(__name__)
PENDING, RUNNING = ObservationStatus.PENDING, ObservationStatus.RUNNING
FAILURES = {
    ProviderRejected: ("provider_rejected", "the model provider refused the request"),
    OutputInvalid: ("validation_failed", "the model's answer did not fit the schema after a re-prompt"),
}
# Only the actor's time limit interrupts an attempt from outside (Dramatiq raises it in its thread).
INTERRUPTED = "the analysis ran past its time limit"


@dataclass(frozen=True)
class Attempted:
    # not_claimed | succeeded | ineligible | failed | superseded (finished elsewhere meanwhile) |
    # retrying (in a batch: sent again alone after a transient failure)
    status: str
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
    deps: Deps,
    observation_id: str | UUID,
    *,
    retries: int = 0,
    also_write: Callable[[Session], None] | None = None,
) -> Attempted:
    """Run one attempt of a pending observation (or of one whose lease lapsed); `also_write(session)`
    joins the success transaction; `retries` is how many times its message was retried already.

    Raises a `TransientError` (`ProviderTransient`, `BlobMissing`, `BlobStoreUnavailable`) after
    putting the row back to pending with its `retry_reason` and next attempt (retry it),
    `InvalidField` when `observation_id` is not a UUID. Every other failure is a `failed` row, not an
    exception; an interruption (the actor's time limit) fails the row and is raised again.
    """
    key = observation_key(observation_id)
    with deps.transaction() as session:
        now = deps.now()
        takeovers = deps.settings.observation_max_takeovers
        claimed = claim_with_recording(session, key, now, lease_end(deps, now), takeovers)
        # An answer at hand is written with the claim: one transaction, no lease to keep.
        instant = _instant(deps, *claimed) if claimed is not None else None
        if claimed is not None and instant is not None:
            _write_success(deps, session, claimed[0], instant, also_write)
    if claimed is None:
        log.info("observation_not_claimed", observation_id=str(key))
        return Attempted("not_claimed")
    observation, recording = claimed
    if instant is not None:
        return _succeeded(observation, instant)
    return _run_claimed(deps, observation, recording, retries, also_write)


def _run_claimed(
    deps: Deps,
    observation: Observation,
    recording: Recording | None,
    retries: int,
    also_write: Callable[[Session], None] | None,
) -> Attempted:
    """The attempt of a claimed observation (committed), under its lease."""
    try:
        with leased(deps, observation.id, observation.attempts):
            return _attempt(deps, observation, recording, retries, also_write)
    except BaseException as exc:
        if not isinstance(exc, Exception):  # interrupted from outside: past the time limit, failed
            _move(deps, observation, ObservationStatus.FAILED, f"internal_error:{INTERRUPTED}")
        raise


def dispatch(deps: Deps, provider: str, observation_ids: Sequence[object]) -> int:
    """Send started observations to the workers (after their rows committed); how many were sent.

    A heuristic scanner's observations go `OBSERVE_BATCH_SIZE` to a message (`observe_batch`): each
    costs a fraction of a millisecond, less than the message carrying it. A model's go one to a
    message (`observe_session`), so that the worker threads wait on the model side by side.
    """
    ids = [str(each) for each in observation_ids]
    if provider != "heuristic" or len(ids) == 1:
        return deps.sender().send_each(OBSERVE, ids)
    for start in range(0, len(ids), OBSERVE_BATCH_SIZE):
        deps.sender().send(OBSERVE_BATCH, ids[start : start + OBSERVE_BATCH_SIZE])
    return len(ids)


def run_observations(deps: Deps, observation_ids: Sequence[str]) -> list[Attempted]:
    """Run the attempts of one `observe_batch` message, in the order of `observation_ids`.

    They are claimed together, and those whose answer is at hand written, in one transaction; the
    others claimed then run one after another under their leases, as `run_observation` runs them. A
    transient failure is one observation's, not the batch's: that observation, back to pending, is
    sent again alone (`observe_session`, with its own retries) after the retry delay, and the batch
    goes on. Any other exception stops the batch and is raised, after the observations not run yet
    were sent alone when it is an interruption (the time limit): otherwise the caller retries the
    batch, whose claimed observations are taken over once their leases lapse.
    """
    keys = [observation_key(each) for each in observation_ids]
    done, claimed = _claim_together(deps, keys)
    attempted: list[Attempted] = []
    for index, key in enumerate(keys):
        if key in done:
            attempted.append(done[key])
            continue
        observation, recording = claimed[key]
        try:
            attempted.append(_run_claimed(deps, observation, recording, 0, None))
        except TransientError as exc:
            deps.sender().send(OBSERVE, str(key), delay_ms=retry_delay_ms(deps.settings, 0, exc))
            attempted.append(Attempted("retrying", type(exc).__name__))
        except BaseException as exc:
            if not isinstance(exc, Exception):  # interrupted: no retry of this batch will run the rest
                deps.sender().send_each(OBSERVE, [each for each in keys[index + 1 :] if each not in done])
            raise
    return attempted


def _claim_together(
    deps: Deps, keys: list[UUID]
) -> tuple[dict[UUID, Attempted], dict[UUID, tuple[Observation, Recording | None]]]:
    """Claim the observations among `keys` that can be, in one transaction, and write those whose
    answer is at hand (`_instant`) in it: what is done (written, or not claimed: finished, or held
    by another attempt), and the claimed ones left to run. One transaction and two statements to
    claim instead of one transaction and two statements each: with eight worker threads on SQLite,
    fewer waits for its single writer's lock."""
    done: dict[UUID, Attempted] = {}
    written: list[tuple[Observation, Analysis]] = []
    with deps.transaction() as session:
        now = deps.now()
        until, takeovers = lease_end(deps, now), deps.settings.observation_max_takeovers
        claimed = {
            observation.id: (observation, recording)
            for observation, recording in claim_many_with_recordings(session, keys, now, until, takeovers)
        }
        for key, (observation, recording) in list(claimed.items()):
            instant = _instant(deps, observation, recording)
            if instant is not None:
                _write_success(deps, session, observation, instant, None)
                written.append((observation, instant))
                del claimed[key]
    for observation, analysis in written:  # committed
        done[observation.id] = _succeeded(observation, analysis)
    for key in keys:
        if key not in done and key not in claimed:
            log.info("observation_not_claimed", observation_id=str(key))
            done[key] = Attempted("not_claimed")
    return done, claimed


def _attempt(
    deps: Deps,
    observation: Observation,
    recording: Recording | None,
    retries: int,
    also_write: Callable[[Session], None] | None,
) -> Attempted:
    bound = log.bind(observation_id=str(observation.id), scanner_id=str(observation.scanner_id))
    try:
        result = analyse(deps, observation, recording)
    except TransientError as exc:
        _wait_for_retry(deps, observation, exc, retries)
        raise
    except (ProviderRejected, OutputInvalid) as exc:
        kind, message = FAILURES[type(exc)]
        bound.warning("observation_failed", kind=kind)
        return _fail(deps, observation, kind, message)
    except ConfigurationError as exc:
        return _fail(deps, observation, "provider_rejected", str(exc))
    except Exception:  # a bug must fail this row, not retry it forever
        bound.exception("observation_internal_error")
        return _fail(deps, observation, "internal_error", "an unexpected error stopped the analysis")
    if isinstance(result, Ineligible):
        _move(deps, observation, ObservationStatus.INELIGIBLE, result.reason)
        bound.info("observation_ineligible", kind=result.kind)
        return Attempted("ineligible", result.kind)
    if not finish(deps, observation, result, also_write):
        return Attempted("superseded")
    return _succeeded(observation, result)


def _succeeded(observation: Observation, analysis: Analysis) -> Attempted:
    signals = len(analysis.outcome.signals)
    ids = {"observation_id": str(observation.id), "scanner_id": str(observation.scanner_id)}
    log.info("observation_succeeded", **ids, signals=signals)
    return Attempted("succeeded", signals=signals)


def _instant(deps: Deps, observation: Observation, recording: Recording | None) -> Analysis | None:
    """The analysis when it costs microseconds, so that it may be written in the claim's transaction:
    a heuristic scanner observing an eligible recording whose analysis is at hand (in memory, or
    stored in a local blob store).
    None otherwise, and on any error: the attempt then runs the usual way, which reports it."""
    if observation.scanner_snapshot.get("provider") != "heuristic" or eligibility(recording) is not None:
        return None
    assert recording is not None  # eligibility() refuses a missing recording (no_recording)
    timeline = timeline_at_hand(deps.blobs, recording, budget_tokens=deps.settings.timeline_budget_tokens)
    if timeline is None:
        return None
    try:
        return _analysis(deps, observation, timeline)
    except Exception:
        return None


def _fail(deps: Deps, observation: Observation, kind: str, message: str) -> Attempted:
    """Fail the attempt's row with `kind:message` as its reason."""
    _move(deps, observation, ObservationStatus.FAILED, f"{kind}:{message}")
    return Attempted("failed", kind)


def _wait_for_retry(deps: Deps, observation: Observation, exc: TransientError, retries: int) -> None:
    """Back to pending with the reason it would fail with and, while retries are left, when the next
    attempt is due (after the delay `retry_delay_ms` gives the actor too)."""
    settings, next_attempt_at = deps.settings, None
    if retries < settings.observe_retries:
        next_attempt_at = deps.now() + timedelta(milliseconds=retry_delay_ms(settings, retries, exc))
    reason = retry_reason(exc, observation.session_id)
    _move(deps, observation, PENDING, reason, next_attempt_at=next_attempt_at)


def analyse(deps: Deps, observation: Observation, recording: Recording | None) -> Analysis | Ineligible:
    """Everything but the write: eligibility, timeline, the provider's answer, the checked outcome of
    observing `recording` (read with the claim; None when the session has none)."""
    ineligible = eligibility(recording)
    if ineligible is not None:
        return ineligible
    assert recording is not None  # eligibility() refuses a missing recording (no_recording)
    # Shared by every scanner observing this version of the recording (`services.analysis_cache`).
    timeline = recording_timeline(deps.blobs, recording, budget_tokens=deps.settings.timeline_budget_tokens)
    return _analysis(deps, observation, timeline)


def _analysis(deps: Deps, observation: Observation, timeline: Timeline) -> Analysis:
    """The provider's answer about `timeline` and the checked outcome."""
    snapshot = observation.scanner_snapshot
    answer = _answer(deps, snapshot, timeline, observation)
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
    the statements themselves. False when the attempt no longer held the row (nothing written).
    """
    with deps.transaction() as session:
        return _write_success(deps, session, observation, analysis, also_write)


def _write_success(
    deps: Deps,
    session: Session,
    observation: Observation,
    analysis: Analysis,
    also_write: Callable[[Session], None] | None,
) -> bool:
    """`finish`'s writes in `session`; False (nothing written) when the attempt no longer holds the row."""
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
    moved = move_status(
        session,
        observation.id,
        [RUNNING],
        attempt=observation.attempts,
        status=ObservationStatus.SUCCEEDED,
        error_reason=None,  # an earlier attempt's retry reason
        completed_at=deps.now(),
        lease_until=None,
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


def _answer(deps: Deps, snapshot: dict, timeline: Timeline, observation: Observation) -> Answer:
    scanner_type, config = snapshot["scanner_type"], snapshot["scanner_config"]
    if snapshot["provider"] == "heuristic":
        result = check_output(scanner_type, config, heuristic_answer(scanner_type, config, timeline))
        findings = heuristic_findings(timeline) if snapshot.get("emits_signals") else []
        return Answer(result=result, findings=findings)
    # Stack traces de-minified with the team's source maps, inside the same fence as the timeline.
    thrown = prompt_stack_traces(deps, observation.team_id, observation.session_id)
    return converse(snapshot, timeline.text + thrown, deps.gemini().generate)


def _move(
    deps: Deps, observation: Observation, status: ObservationStatus, reason: str, **values: Any
) -> None:
    """The attempt's row, running → `status` with its reason, unless another attempt took it over; a
    finished row is an end, so it also gets its completion time (a pending one keeps the reason it
    would fail with if its retries run out). The lease goes with the attempt."""
    values.update(error_reason=reason, lease_until=None)
    if status != PENDING:
        values["completed_at"] = deps.now()
    with deps.transaction() as session:
        move_status(session, observation.id, [RUNNING], attempt=observation.attempts, status=status, **values)
