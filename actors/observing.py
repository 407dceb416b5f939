"""The I/O around one observation, for the `observe_session` actor: load, ask, and write once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import dramatiq
from sqlmodel import col, select

from actors.jobruns import current_attempt
from integrations.blobstore import BlobStore
from integrations.gemini import GeminiClient
from integrations.observing import observation_price
from integrations.ratelimit import GeminiLimiter
from models import Signal
from models.db import SessionFactory, session_scope
from models.observation_queries import insert_receipt, move_status
from models.queries import get_recording
from models.vision import Observation, ObservationStatus
from pipeline.conversation import Answer, ModelCall, ModelReply, converse
from pipeline.heuristics import heuristic_answer, heuristic_findings
from pipeline.limits import Ineligible, eligibility
from pipeline.observation import Outcome, build_outcome
from pipeline.outputs import check_output
from services.recordings import stored_timeline
from settings import Settings


@dataclass
class Analysis:
    outcome: Outcome
    credits: int
    input_tokens: int
    output_tokens: int


def analyse(observation: Observation, settings: Settings, sessions: SessionFactory) -> Analysis | Ineligible:
    """Everything but the write: eligibility, timeline, the provider's answer, the checked outcome."""
    with sessions() as session:
        recording = get_recording(session, observation.team_id, observation.session_id)
    ineligible = eligibility(recording)
    if ineligible is not None:
        return ineligible
    blobs = BlobStore(settings.blob_dir)
    timeline = stored_timeline(blobs, recording, budget_tokens=settings.timeline_budget_tokens)
    snapshot = observation.scanner_snapshot
    answer = _answer(snapshot, timeline, settings)
    credits = observation_price(snapshot["provider"], snapshot["model"], settings)
    outcome = build_outcome(
        observation_id=str(observation.id),
        session_id=observation.session_id,
        snapshot=snapshot,
        timeline=timeline,
        answer=answer,
        credits=credits,
    )
    return Analysis(outcome, credits, answer.input_tokens, answer.output_tokens)


def _answer(snapshot: dict, timeline, settings: Settings) -> Answer:
    scanner_type, config = snapshot["scanner_type"], snapshot["scanner_config"]
    if snapshot["provider"] == "heuristic":
        result = check_output(scanner_type, config, heuristic_answer(scanner_type, config, timeline))
        findings = heuristic_findings(timeline) if snapshot.get("emits_signals") else []
        return Answer(result=result, findings=findings)
    client, limiter = _gemini(settings), _limiter(settings)

    def generate(call: ModelCall) -> ModelReply:
        with limiter.slot():
            return client.generate(call)

    return converse(snapshot, timeline.text, generate)


_clients: dict[tuple, GeminiClient] = {}


def _gemini(settings: Settings) -> GeminiClient:
    """One client per configuration per process (it holds a connection pool)."""
    key = (
        settings.gemini_api_key,
        settings.gemini_base_url,
        settings.gemini_api_version,
        settings.gemini_timeout_s,
    )
    if key not in _clients:
        _clients[key] = GeminiClient.from_settings(settings)
    return _clients[key]


def _limiter(settings: Settings) -> GeminiLimiter:
    client = dramatiq.get_broker().client
    return GeminiLimiter(
        client,
        namespace=settings.redis_namespace,
        per_minute=settings.gemini_requests_per_minute,
        concurrency=settings.gemini_concurrency,
    )


def finish(
    sessions: SessionFactory, observation: Observation, analysis: Analysis, settings: Settings
) -> bool:
    """running → succeeded with the result, the usage receipt and the signals, in one transaction.

    The worker's `JobRun` row for this attempt goes in the same transaction (see `actors.jobruns`).
    Everything is computed before the first write, so the database's write lock is held only for
    the statements themselves.
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
    attempt = current_attempt()
    with session_scope(sessions) as session:
        moved = move_status(
            session,
            observation.id,
            [ObservationStatus.RUNNING],
            status=ObservationStatus.SUCCEEDED,
            completed_at=datetime.now(UTC),
            scanner_result=outcome.scanner_result,
            result_verdict=outcome.verdict,
            result_score=outcome.score,
            result_tags=outcome.tags,
        )
        if not moved:
            return False
        insert_receipt(session, **receipt)
        _add_signals(session, observation.team_id, outcome.signals)
        if attempt is not None:
            attempt.insert_into(session)
    if attempt is not None:
        attempt.committed()
    return True


def _add_signals(session, team_id: int, rows: list[dict]) -> None:
    """Insert the signals whose source_id the team does not have yet (emitting twice is a no-op)."""
    if not rows:
        return
    ids = [row["source_id"] for row in rows]
    existing = set(
        session.exec(
            select(Signal.source_id).where(Signal.team_id == team_id, col(Signal.source_id).in_(ids))
        )
    )
    session.add_all(Signal(team_id=team_id, **row) for row in rows if row["source_id"] not in existing)
