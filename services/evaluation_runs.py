"""Running evaluations: a person's run over a target, the scheduler's automatic pass over new
observations, and the worker's evaluation of one (evaluation, observation) pair.

Both the run and the automatic pass write a `pending` result per pair (UNIQUE (evaluation,
observation) decides "already taken") and send its id to the `evaluate_observation` actor, which
evaluates it (`evaluate_result`) and writes the outcome once. A run replaces the pair's earlier
result; the automatic pass never takes a pair twice, and takes at most `conditions.max_per_day`
results per evaluation a day (runs count too) and AUTO_PER_TICK per tick: what is over the budget
is skipped, not put off.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import structlog
from sqlmodel import Session

from models import Observation, as_utc
from models.evaluation_queries import (
    completed_since,
    enabled_evaluations,
    result_of,
    results_since,
    scanner_window,
)
from models.evaluations import Evaluation, EvaluationResult, EvaluationRun, ResultStatus
from models.observation_queries import find_scanner
from models.queries import get_recording
from pipeline.conversation import Turn
from pipeline.errors import InvalidField, NotFoundError, OutputInvalid, PermanentError
from pipeline.evaluations import Candidate, Judgement, judge_call, read_judgement, run_checks, selects
from pipeline.evidence import timeline_seconds
from pipeline.names import EVALUATE
from pipeline.prompts import reprompt
from services.context import Deps
from services.evaluations import load_evaluation
from services.recordings import stored_timeline

log = structlog.get_logger(__name__)
AUTO_PER_TICK = 100  # results one evaluation queues per scheduler tick at most
SCAN_PER_TICK = 1000  # new observations one evaluation looks at per tick at most
MAX_RUN_OBSERVATIONS = 1000  # observations one run takes at most (the oldest of the window)


@dataclass(frozen=True)
class RunStarted:
    run_id: UUID
    evaluation_id: UUID
    target: dict[str, Any]
    observations: int
    truncated: bool
    created_at: datetime


@dataclass
class AutoPass:
    evaluations: int = 0
    queued: int = 0
    over_budget: int = 0
    by_evaluation: dict[str, int] = field(default_factory=dict)


def start_run(
    deps: Deps,
    team_id: int,
    ref: str,
    target: dict[str, Any],
    *,
    user_id: int | None = None,
    now: datetime | None = None,
) -> RunStarted:
    """Evaluate now: one observation (`{observation_id}`) or a scanner's observations completed in a
    window (`{scanner_id, since, until?}`, until defaults to now), up to MAX_RUN_OBSERVATIONS.

    Raises `NotFoundError` for an evaluation, observation or scanner the team does not have,
    `InvalidField` for a target of neither shape.
    """
    now = now or deps.now()
    with deps.transaction() as session:
        found = load_evaluation(session, team_id, ref)
        rows, normalised, truncated = _target(session, team_id, target, now)
        run = EvaluationRun(
            team_id=team_id,
            evaluation_id=found.id,
            target=normalised,
            observations=len(rows),
            truncated=truncated,
            created_by=user_id,
            created_at=now,
        )
        session.add(run)
        session.flush()
        ids = [_pending(session, found, row, now, run_id=run.id).id for row in rows]
        started = RunStarted(run.id, found.id, normalised, len(rows), truncated, now)
    deps.sender().send_each(EVALUATE, ids)
    return started


def _target(
    session: Session, team_id: int, target: dict[str, Any], now: datetime
) -> tuple[list[Observation], dict[str, Any], bool]:
    if target.get("observation_id"):
        row = session.get(Observation, _uuid(target["observation_id"], "observation_id"))
        if row is None or row.team_id != team_id:
            raise NotFoundError(f"no observation {target['observation_id']!r}")
        return [row], {"observation_id": str(row.id)}, False
    if not target.get("scanner_id"):
        raise InvalidField("target", "give observation_id, or scanner_id with since (and until)")
    scanner = find_scanner(session, team_id, str(target["scanner_id"]))
    if scanner is None:
        raise NotFoundError(f"no scanner {target['scanner_id']!r}")
    since = _time(target.get("since"), "since") or now - timedelta(days=7)
    until = _time(target.get("until"), "until") or now
    if since >= until:
        raise InvalidField("since", "since must come before until")
    rows = list(scanner_window(session, scanner.id, since, until, MAX_RUN_OBSERVATIONS + 1))
    normalised = {"scanner_id": str(scanner.id), "since": since.isoformat(), "until": until.isoformat()}
    return rows[:MAX_RUN_OBSERVATIONS], normalised, len(rows) > MAX_RUN_OBSERVATIONS


def _uuid(value: Any, name: str) -> UUID:
    try:
        return UUID(str(value))
    except ValueError as exc:
        raise InvalidField(name, f"{value!r} is not an id") from exc


def _time(value: Any, name: str) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return as_utc(value)
    try:
        return as_utc(datetime.fromisoformat(str(value)))
    except ValueError as exc:
        raise InvalidField(name, f"{value!r} is not an ISO 8601 time") from exc


def _pending(
    session: Session, found: Evaluation, row: Observation, now: datetime, run_id: UUID | None = None
) -> EvaluationResult:
    """The pair's result, new or reset to pending (a run asks again)."""
    result = result_of(session, found.id, row.id) or EvaluationResult(
        team_id=row.team_id, evaluation_id=found.id, observation_id=row.id, scanner_id=row.scanner_id
    )
    result.status, result.run_id, result.created_at, result.completed_at = (
        ResultStatus.PENDING,
        run_id,
        now,
        None,
    )
    result.passed = result.score = result.error = result.model = None
    result.reasoning, result.input_tokens, result.output_tokens = "", 0, 0
    session.add(result)
    session.flush()
    return result


def enqueue_new(deps: Deps, *, now: datetime | None = None) -> AutoPass:
    """The scheduler's stage: for each enabled evaluation, queue the observations completed since
    its watermark that its conditions select, within its budget; move the watermark past them."""
    now = now or deps.now()
    done, ids = AutoPass(), []
    with deps.transaction() as session:
        for found in enabled_evaluations(session):
            done.evaluations += 1
            queued, skipped = _queue_new(session, found, now)
            done.queued += len(queued)
            done.over_budget += skipped
            ids += queued
            if queued:
                done.by_evaluation[str(found.id)] = len(queued)
    deps.sender().send_each(EVALUATE, ids)
    return done


def _queue_new(session: Session, found: Evaluation, now: datetime) -> tuple[list[UUID], int]:
    conditions = found.conditions or {}
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    budget = min(AUTO_PER_TICK, conditions.get("max_per_day", 0) - results_since(session, found.id, day))
    rows = completed_since(
        session, found.team_id, as_utc(found.evaluated_until), found.last_observation_id, SCAN_PER_TICK
    )
    queued: list[UUID] = []
    skipped = 0
    for row, scanner_name in rows:
        candidate = Candidate(str(row.id), str(row.scanner_id), scanner_name, row.result_verdict)
        if not selects(conditions, str(found.id), candidate) or result_of(session, found.id, row.id):
            continue
        if len(queued) >= budget:
            skipped += 1
            continue
        queued.append(_pending(session, found, row, now).id)
    if rows:
        found.evaluated_until, found.last_observation_id = rows[-1][0].completed_at, rows[-1][0].id
        session.add(found)
    return queued, skipped


def evaluate_result(deps: Deps, result_id: UUID, *, now: datetime | None = None) -> EvaluationResult | None:
    """Evaluate one pending result and write its outcome; None when it is no longer pending (done
    already, or gone). A permanent failure (no Gemini key, a refused request, a judge whose answer
    stays unreadable) is written as `failed`; transient ones raise, for the actor to retry."""
    with deps.read() as session:
        result = session.get(EvaluationResult, result_id)
        if result is None or result.status != ResultStatus.PENDING:
            return None
        found = session.get(Evaluation, result.evaluation_id)
        row = session.get(Observation, result.observation_id)
        recording = get_recording(session, row.team_id, row.session_id) if row else None
    assert found is not None and row is not None
    judgement, model, tokens, error = None, None, (0, 0), None
    try:
        if str(found.evaluation_type) == "heuristic":
            judgement = _heuristic(deps, found, row, recording)
        else:
            model = (found.evaluation_config or {}).get("model") or deps.settings.default_model
            judgement, tokens = _judge(deps, found, row, recording, model)
    except PermanentError as exc:
        error = str(exc)[:1000]
    return _write(deps, result_id, judgement, model, tokens, error, now or deps.now())


def give_up(deps: Deps, result_id: UUID, attempts: int) -> bool:
    """The worker's retries ran out (the judge kept failing transiently): the pending result is
    failed with that reason, so it is neither left pending nor counted as a pass or a fail."""
    reason = f"gave up after {attempts} attempts: the model kept failing transiently"
    return _write(deps, result_id, None, None, (0, 0), reason, deps.now()) is not None


def _write(
    deps: Deps,
    result_id: UUID,
    judgement: Judgement | None,
    model: str | None,
    tokens: tuple[int, int],
    error: str | None,
    now: datetime,
) -> EvaluationResult | None:
    with deps.transaction() as session:
        result = session.get(EvaluationResult, result_id)
        if result is None or result.status != ResultStatus.PENDING:
            return None
        result.status = ResultStatus.FAILED if judgement is None else ResultStatus.SUCCEEDED
        if judgement is not None:
            result.passed, result.score, result.reasoning = (
                judgement.passed,
                judgement.score,
                judgement.reasoning,
            )
        result.model, result.error, result.completed_at = model, error, now
        result.input_tokens, result.output_tokens = tokens
        session.add(result)
        session.flush()
        session.expunge(result)
        return result


def _timeline_text(deps: Deps, recording: Any) -> str | None:
    if recording is None:
        return None
    try:
        return stored_timeline(deps.blobs, recording, budget_tokens=deps.settings.timeline_budget_tokens).text
    except OSError:
        return None


def _output(row: Observation) -> dict[str, Any]:
    return dict((row.scanner_result or {}).get("model_output") or {})


def _heuristic(deps: Deps, found: Evaluation, row: Observation, recording: Any) -> Judgement:
    text = _timeline_text(deps, recording)
    seconds = timeline_seconds(text) if text is not None else None
    pages = list(recording.urls or []) if recording is not None else []
    output_config = found.output_config or {}
    config = found.evaluation_config or {}
    return run_checks(config, str(found.output_type), output_config, _output(row), pages, seconds)


def _judge(
    deps: Deps, found: Evaluation, row: Observation, recording: Any, model: str
) -> tuple[Judgement, tuple[int, int]]:
    """Ask the judge, re-asking once with the error when its answer cannot be read."""
    config, output_config = found.evaluation_config or {}, found.output_config or {}
    question = str(((row.scanner_snapshot or {}).get("scanner_config") or {}).get("prompt") or "")
    timeline = _timeline_text(deps, recording) or "(the timeline is not available)"
    call = judge_call(
        model, config["prompt"], str(found.output_type), output_config, question, _output(row), timeline
    )
    generate, tokens, error = deps.gemini().generate, [0, 0], ""
    for _ in range(2):
        reply = generate(call)
        tokens[0], tokens[1] = tokens[0] + reply.input_tokens, tokens[1] + reply.output_tokens
        try:
            return read_judgement(reply.text, str(found.output_type), output_config), (tokens[0], tokens[1])
        except OutputInvalid as exc:
            error = str(exc)
            turns = (*call.turns, Turn("model", reply.text), Turn("user", reprompt(error)))
            call = type(call)(call.model, call.system, turns, call.schema)
    raise OutputInvalid(f"the judge's answer stayed unreadable: {error}")
