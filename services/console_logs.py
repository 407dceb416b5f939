"""Console logs as logs: every console entry and failed request of the team's recordings, their
attributes with top values, and an explanation of one line from the moments around it.

An explanation reads the recording's cached timeline (`services.analysis_cache`): the moments in
the `WINDOW_S` seconds before the line (what the person did) and after it (what happened next).
With a Gemini key the model words it (the moments fenced as data); without one, or when the call
fails, it is said plainly from the moments. Either is kept in `log_explanations` until
`force_refresh`.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import structlog
from sqlmodel import col, select

from models import Recording, as_utc
from models.recording_entries import LogExplanation, RecordingEntry
from pipeline.conversation import ModelCall, Turn
from pipeline.errors import NotFoundError, SightlineError
from pipeline.log_explain import (
    EXPLAIN_SCHEMA,
    EXPLAIN_SYSTEM,
    around,
    explain_prompt,
    logged_at,
    plain_explanation,
)
from pipeline.stack_frames import thrown_between
from services.analysis_cache import recording_timeline
from services.context import Deps
from services.recording_entries import current, ensure_indexed, index_recording
from services.symbol_sets import recording_stack_traces

log = structlog.get_logger(__name__)
ATTRIBUTES = (
    "level",
    "message_fingerprint",
    "message",
    "page",
    "session_id",
    "distinct_id",
    "date",
    "source",
)
STACK_NEAR_S = 0.5  # a trace logged this close to a console line is that line's
MAX_SCANNED = 50_000  # log lines counted for attributes at most (the newest)


@dataclass(frozen=True)
class Explained:
    entry: RecordingEntry
    text: str
    source: str
    model: str | None
    moments: dict[str, Any]
    cached: bool


def _value(entry: RecordingEntry, key: str) -> str | None:
    return {
        "level": entry.level,
        "message_fingerprint": entry.fingerprint,
        "message": entry.message[:200],
        "page": entry.url,
        "session_id": entry.session_id,
        "distinct_id": entry.distinct_id,
        "date": as_utc(entry.timestamp).date().isoformat(),
        "source": entry.event,
    }[key]


def attributes(deps: Deps, team_id: int, *, search: str | None, top: int) -> list[dict[str, Any]]:
    """Each attribute key with its distinct count and its `top` most frequent values (of those
    containing `search`, case-insensitive, when given)."""
    ensure_indexed(deps, team_id)
    statement = current("log", team_id).order_by(col(RecordingEntry.timestamp).desc()).limit(MAX_SCANNED)
    with deps.read() as session:
        entries = session.exec(statement).all()
    wanted = search.lower() if search else None
    found = []
    for key in ATTRIBUTES:
        counts = Counter(v for v in (_value(e, key) for e in entries) if v is not None)
        if wanted:
            counts = Counter({v: n for v, n in counts.items() if wanted in v.lower()})
        values = [{"value": value, "count": n} for value, n in counts.most_common(top)]
        found.append({"name": key, "distinct_count": len(counts), "values": values})
    return found


def entry(deps: Deps, team_id: int, entry_id: UUID) -> RecordingEntry:
    """One current log line of the team; `NotFoundError` otherwise."""
    ensure_indexed(deps, team_id)
    with deps.read() as session:
        found = session.exec(current("log", team_id).where(RecordingEntry.id == entry_id)).first()
    if found is None:
        raise NotFoundError(f"no log line {entry_id} in team {team_id}; list them with logs/attributes")
    return found


@dataclass(frozen=True)
class SessionError:
    """A console error or failed request of a session, and its kept explanation if it has one."""

    line: RecordingEntry
    explanation: LogExplanation | None


def session_errors(deps: Deps, recording: Recording, limit: int = 100) -> list[SessionError]:
    """The recording's error lines in order (its current version indexed first), each with the
    explanation kept for it; the session page lists them, each linking to its explanation."""
    index_recording(deps, recording)
    with deps.read() as session:
        lines = session.exec(
            current("log", recording.team_id)
            .where(RecordingEntry.session_id == recording.session_id, RecordingEntry.level == "error")
            .order_by(col(RecordingEntry.offset_s), col(RecordingEntry.seq))
            .limit(limit)
        ).all()
        kept = {
            row.entry_id: row
            for row in session.exec(
                select(LogExplanation).where(
                    LogExplanation.team_id == recording.team_id,
                    col(LogExplanation.entry_id).in_([line.id for line in lines]),
                )
            )
        }
    return [SessionError(line, kept.get(line.id)) for line in lines]


def explain_for(deps: Deps, team_ids: frozenset[int], entry_id: UUID | str) -> Explained:
    """`explain` for whichever of `team_ids` has the line (a person's teams); `NotFoundError` when
    none has it or `entry_id` is not a line id."""
    try:
        key = entry_id if isinstance(entry_id, UUID) else UUID(str(entry_id))
    except ValueError as exc:
        raise NotFoundError(f"no log line {entry_id!r}") from exc
    for team_id in sorted(team_ids):
        try:
            return explain(deps, team_id, key)
        except NotFoundError:
            continue
    raise NotFoundError(f"no log line {key}")


def explain(
    deps: Deps, team_id: int, entry_id: UUID, *, at: datetime | None = None, force_refresh: bool = False
) -> Explained:
    """The explanation of one log line: cached, else made and kept. `at`, when given, is the time the
    line was logged (to the second), which with its id names it, as the reference's `timestamp`.
    `NotFoundError` when the team has no such line, or not at that time."""
    line = entry(deps, team_id, entry_id)
    if at is not None and not logged_at(as_utc(line.timestamp), at):
        logged = as_utc(line.timestamp).isoformat()
        raise NotFoundError(
            f"log line {entry_id} was not logged at {at.isoformat()} (it was at {logged}); "
            "send the line's own timestamp, or none"
        )
    if not force_refresh:
        with deps.read() as session:
            kept = session.get(LogExplanation, (team_id, line.id))
        if kept is not None:
            return Explained(line, kept.text, kept.source, kept.model, kept.moments, True)
    with deps.read() as session:
        row = session.exec(
            select(Recording).where(Recording.team_id == team_id, Recording.session_id == line.session_id)
        ).one()
    timeline = recording_timeline(deps.blobs, row, budget_tokens=deps.settings.timeline_budget_tokens)
    moments = around(timeline.moments, line.offset_s)
    text, source, model = _words(deps, line, moments)
    thrown = _stack(deps, team_id, line)
    if thrown:  # de-minified with the team's source maps, or each frame saying why it is not
        text = f"{text}\n\nWhere it was thrown:\n{thrown}"
    with deps.transaction() as session:
        kept = session.get(LogExplanation, (team_id, line.id)) or LogExplanation(
            team_id=team_id, entry_id=line.id, text="", source=""
        )
        kept.text, kept.source, kept.model, kept.moments = text, source, model, moments
        kept.created_at = deps.now()
        session.add(kept)
    return Explained(line, text, source, model, moments, False)


def _stack(deps: Deps, team_id: int, line: RecordingEntry) -> str:
    """The stack trace of a console error line (the trace logged at its moment), de-minified."""
    if line.event != "console":
        return ""
    traces = recording_stack_traces(deps, team_id, line.session_id)
    near = thrown_between(traces, line.offset_s, line.offset_s, STACK_NEAR_S)
    return "\n".join(shown.text for shown in near[:1])


def _words(deps: Deps, line: RecordingEntry, moments: dict[str, Any]) -> tuple[str, str, str | None]:
    plain = plain_explanation(line.level, line.message, line.url, line.offset_s, moments)
    if deps.settings.gemini_api_key is None:
        return plain, "moments", None
    model = deps.settings.signals_model
    prompt = explain_prompt(line.level, line.message, line.url, line.offset_s, moments)
    call = ModelCall(model, EXPLAIN_SYSTEM, (Turn("user", prompt),), EXPLAIN_SCHEMA)
    try:
        text = json.loads(deps.gemini().generate(call).text).get("explanation")
    except (SightlineError, ValueError, AttributeError) as exc:
        log.warning("log_explanation_fallback", error=type(exc).__name__)
        return plain, "moments", None
    if not isinstance(text, str) or not text.strip():
        return plain, "moments", None
    return text.strip(), "gemini", model
