"""Observations on demand: ask a scanner to look at sessions now, retry one, list and show them.

A request checks the budget and the in-flight caps (`services.budget`), inserts `pending` rows,
commits, and only then sends each started id to the `observe_session` actor; the attempt itself is
`services.observe`. Sessions the scanner already observed are reported, never observed twice: the
unique (scanner, session) key decides, even against another process inserting at the same time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlmodel import Session

from models import Observation, ObservationStatus, Scanner, TriggeredBy
from models.base import utcnow
from models.observation_queries import (
    list_observations,
    observation_ids_starting,
    observations_by_id,
    observed_sessions,
)
from models.queries import get_recording, list_recordings
from models.scheduler_queries import insert_pending
from models.vision_queries import observation_ids, recorded_sessions
from models.web_queries import drop_labels
from pipeline.errors import InvalidField, NotFoundError
from pipeline.evidence import CITATION, LINE_SECOND, TOLERANCE_S
from pipeline.limits import plan_batch
from pipeline.names import OBSERVE
from services.budget import affordable, require_provider, room
from services.context import Deps
from services.observe import dispatch
from services.prompts import frozen_snapshot
from services.recordings import stored_timeline
from services.scanners import load_scanner
from settings import Settings

MAX_SESSIONS_PER_REQUEST = 200
RETRYABLE = (ObservationStatus.FAILED, ObservationStatus.INELIGIBLE)
MAX_CITED_LINES = 4


@dataclass(frozen=True)
class Requested:
    session_id: str
    outcome: str  # started | already_scanned | skipped_limit | skipped_quota
    observation_id: UUID | None = None  # the started one
    workflow_id: str | None = None  # the started one's
    existing_id: UUID | None = None  # the observation an already scanned session has


@dataclass(frozen=True)
class Citation:
    second: str
    lines: list[str]  # the timeline lines near that second


@dataclass(frozen=True)
class ShownField:
    name: str
    value: Any
    citations: list[Citation]


@dataclass(frozen=True)
class Shown:
    """An observation with each cited moment next to the timeline lines it points at."""

    observation: Observation
    fields: list[ShownField]
    downgraded: bool  # a "yes" became inconclusive or "no": no cited moment was in the timeline


def observe_sessions(
    deps: Deps,
    team_id: int,
    scanner_ref: str,
    session_ids: list[str],
    *,
    newest: bool = False,
    user_id: int | None = None,
    now: datetime | None = None,
) -> list[Requested]:
    """Observe sessions now (or the team's newest 200 with `newest`), within the limits.

    One outcome per distinct session id; the started ones are sent to the workers after the commit.
    Raises `NotFoundError` for an unknown scanner, `InvalidField` when no session is named (or the
    team has none, with `newest`), more than 200 are, or one has no recording in the team: then
    nothing starts and no row is made (a row would leave the session `already_scanned` once its
    recording arrives); the field is `session_id` when one session was named, `session_ids`
    otherwise. `ConfigurationError` when the scanner needs a Gemini key that is not set.
    """
    with deps.transaction() as session:
        found = load_scanner(session, team_id, scanner_ref)
        if newest:
            rows = list_recordings(session, team_id, limit=MAX_SESSIONS_PER_REQUEST)
            session_ids = [row.session_id for row in rows]
            if not session_ids:
                raise InvalidField("session_ids", "the team has no recordings yet; import some first")
        if not session_ids:
            raise InvalidField("session_ids", "name at least one session, or pass --all")
        _require_recordings(session, team_id, _wanted(session_ids))
        outcomes = request_observations(
            session, found, session_ids, settings=deps.settings, now=now or deps.now(), user_id=user_id
        )
    dispatch(deps, found.provider, started(outcomes))
    return outcomes


def retry_observation(deps: Deps, team_id: int, ref: str, *, now: datetime | None = None) -> UUID:
    """Observe a failed or ineligible observation's session again (within the limits); the new id.

    The old row is replaced only when the new one starts. Raises `NotFoundError` when `ref` (an id
    or its first 6+ characters) matches no single observation, `InvalidField` when it is not failed
    or ineligible or cannot start now.
    """
    with deps.transaction() as session:
        row = find_observation(session, team_id, ref)
        if row.status not in RETRYABLE:
            raise InvalidField(
                "observation", f"is {row.status}; only failed or ineligible ones can be retried"
            )
        found = session.get_one(Scanner, row.scanner_id)
        drop_labels(session, row.id)  # people's labels judged the failed attempt, not the new one
        session.delete(row)
        session.flush()
        [outcome] = request_observations(
            session,
            found,
            [row.session_id],
            settings=deps.settings,
            now=now or deps.now(),
            triggered_by=TriggeredBy.RETRY,
        )
        if outcome.observation_id is None:
            raise InvalidField("observation", f"cannot start now ({outcome.outcome}); the old one is kept")
    deps.sender().send(OBSERVE, str(outcome.observation_id))
    return outcome.observation_id


def observations(
    deps: Deps,
    team_id: int,
    *,
    scanner_ref: str | None = None,
    status: str | None = None,
    verdict: str | None = None,
    limit: int = 50,
) -> list[Observation]:
    """A team's observations, newest first; `NotFoundError` for an unknown scanner."""
    with deps.read() as session:
        scanner_id = load_scanner(session, team_id, scanner_ref).id if scanner_ref else None
        found = list_observations(
            session, team_id, scanner_id=scanner_id, status=status, verdict=verdict, limit=limit
        )
        return list(found)


def observations_by_ids(deps: Deps, ids: Iterable[UUID]) -> list[Observation]:
    """The observations with these ids, as they are now (to follow their progress)."""
    with deps.read() as session:
        return list(observations_by_id(session, ids))


def show_observation(deps: Deps, team_id: int, ref: str) -> Shown:
    """An observation's answer, each cited second with the timeline lines around it.

    Raises `NotFoundError` when `ref` matches no single observation of the team.
    """
    with deps.read() as session:
        row = find_observation(session, team_id, ref)
        recording = get_recording(session, team_id, row.session_id)
    output = (row.scanner_result or {}).get("model_output") or {}
    lines = []
    if output and recording is not None:
        budget = deps.settings.timeline_budget_tokens
        lines = stored_timeline(deps.blobs, recording, budget_tokens=budget).text.splitlines()
    fields = [
        ShownField(name, value, _citations(value, lines))
        for name, value in output.items()
        if name != "evidence"
    ]
    return Shown(row, fields, bool(output.get("evidence", {}).get("downgraded_from")))


def find_observation(session: Session, team_id: int, ref: str) -> Observation:
    """The team's one observation whose id starts with `ref` (6+ characters); `NotFoundError` otherwise."""
    ids = observation_ids_starting(session, team_id, ref.lower()) if len(ref) >= 6 else []
    row = session.get(Observation, ids[0]) if len(ids) == 1 else None
    if row is None:  # none or several match, or the one found was deleted since
        raise NotFoundError(f"no single observation matches {ref!r}; give more of its id")
    return row


def started(outcomes: Iterable[Requested]) -> list[UUID]:
    return [outcome.observation_id for outcome in outcomes if outcome.observation_id is not None]


def request_observations(
    session: Session,
    scanner: Scanner,
    session_ids: list[str],
    *,
    settings: Settings,
    now: datetime,
    triggered_by: TriggeredBy = TriggeredBy.ON_DEMAND,
    user_id: int | None = None,
) -> list[Requested]:
    """Insert pending observations for the sessions that fit (the caller commits, then sends them).

    One outcome per distinct session id. Raises `InvalidField` for no or over 200 session ids,
    `ConfigurationError` when the scanner needs a Gemini key that is not set.
    """
    wanted = _wanted(session_ids)
    require_provider(scanner, settings)
    budget = affordable(session, scanner, settings, now)
    plan = plan_batch(
        wanted, observed_sessions(session, scanner.id, wanted), room(session, scanner, settings), budget
    )
    frozen = frozen_snapshot(session, scanner)  # a prompt_ref resolved now: the observation keeps its text
    rows = {
        sid: _row(scanner, frozen, sid, triggered_by, user_id)
        for sid, outcome in plan
        if outcome == "started"
    }
    # One multi-row INSERT skipping a session another process started since `observed_sessions`.
    landed = set(insert_pending(session, list(rows.values())))
    rows = {sid: row for sid, row in rows.items() if row["id"] in landed}
    scanned = [sid for sid, outcome in plan if sid not in rows and _lost(outcome) == "already_scanned"]
    existing = observation_ids(session, scanner.id, scanned) if scanned else {}
    return [
        Requested(sid, "started", rows[sid]["id"], rows[sid]["workflow_id"])
        if sid in rows
        else Requested(sid, _lost(outcome), existing_id=existing.get(sid))
        for sid, outcome in plan
    ]


def _wanted(session_ids: list[str]) -> list[str]:
    """The distinct session ids, in order; `InvalidField` for none or over 200."""
    wanted = list(dict.fromkeys(session_ids))
    if not wanted or len(wanted) > MAX_SESSIONS_PER_REQUEST:
        raise InvalidField("session_ids", f"give 1 to {MAX_SESSIONS_PER_REQUEST} session ids")
    return wanted


def _require_recordings(session: Session, team_id: int, wanted: list[str]) -> None:
    """Raises `InvalidField` when a session has no recording in the team: it cannot be observed."""
    recorded = recorded_sessions(session, team_id, wanted)
    unknown = [sid for sid in wanted if sid not in recorded]
    if unknown:
        more = f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""
        raise InvalidField(
            "session_id" if len(wanted) == 1 else "session_ids",
            f"the team has no recording of {unknown[0]!r}{more}; import it first (`sightline import`)",
        )


def _citations(value: Any, lines: list[str]) -> list[Citation]:
    seconds = CITATION.findall(value) if isinstance(value, str) else []
    return [Citation(second, _near(lines, float(second))) for second in seconds]


def _near(lines: list[str], second: float) -> list[str]:
    """The timeline lines within the evidence tolerance of a cited second (at most four)."""
    found = [
        line for line in lines if (m := LINE_SECOND.match(line)) and abs(int(m[1]) - second) <= TOLERANCE_S
    ]
    return found[:MAX_CITED_LINES] or ["(no timeline line at this moment)"]


def _lost(outcome: str) -> str:
    # A planned start whose row another process inserted first is already scanned.
    return "already_scanned" if outcome == "started" else outcome


def _row(
    scanner: Scanner,
    frozen: dict,
    session_id: str,
    triggered_by: TriggeredBy,
    user_id: int | None,
) -> dict[str, Any]:
    """A pending observation's column values (building model objects costs more than the insert)."""
    return {
        "id": uuid4(),
        "team_id": scanner.team_id,
        "scanner_id": scanner.id,
        "session_id": session_id,
        "status": ObservationStatus.PENDING,
        "scanner_snapshot": frozen,
        "workflow_id": f"observe-{scanner.id}-{session_id}",
        "triggered_by": triggered_by,
        "triggered_by_user": user_id,
        "send_count": 1,  # the caller sends it right after the commit
        "created_at": utcnow(),
    }
