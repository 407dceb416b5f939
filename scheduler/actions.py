"""Due actions (DESIGN §6): claim each occurrence once, then send its run.

A claim is one transaction: move `next_run_at` from the occurrence being claimed to the next one
strictly after now (conditional on it still being the claimed one) and insert
`ActionRun(action, scheduled_at)` (unique). Occurrences missed while nothing ran are not replayed:
one claim, one run, and the next occurrence is after now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy.exc import IntegrityError

from models import ActionRun, as_utc, session_scope
from models.scheduler_queries import due_actions, set_next_run, unscheduled_actions
from pipeline.errors import InvalidField
from pipeline.schedule import next_occurrence
from scheduler.dispatch import RUN_ACTION, Dispatcher

log = structlog.get_logger(__name__)


@dataclass
class ActionOutcome:
    scheduled: int = 0  # actions given their first next_run_at
    claimed: int = 0
    invalid: int = 0


def _next(action, after: datetime) -> datetime | None:
    config = action.trigger_config or {}
    return next_occurrence(
        config.get("rrule", ""),
        config.get("timezone") or "UTC",
        created_at=as_utc(action.created_at),
        after=after,
    )


def run_due_actions(sessions, dispatcher: Dispatcher, now: datetime) -> ActionOutcome:
    outcome = ActionOutcome()
    with session_scope(sessions) as session:
        for action in unscheduled_actions(session):
            try:
                upcoming = _next(action, now)
            except InvalidField as exc:
                outcome.invalid += 1
                log.warning("action_schedule_invalid", action=action.name, error=str(exc))
                continue
            if upcoming is not None and set_next_run(session, action.id, None, upcoming):
                outcome.scheduled += 1
    with session_scope(sessions) as session:
        due = [
            (action.id, action.name, as_utc(action.next_run_at), action)
            for action in due_actions(session, now)
        ]
    for action_id, name, scheduled_at, action in due:
        try:
            upcoming = _next(action, now)
        except InvalidField as exc:
            outcome.invalid += 1
            log.warning("action_schedule_invalid", action=name, error=str(exc))
            continue
        run_id = _claim(sessions, action_id, scheduled_at, upcoming, now)
        if run_id is None:
            continue
        dispatcher.send(RUN_ACTION, str(run_id))
        outcome.claimed += 1
        log.info("action_claimed", action=name, scheduled_at=scheduled_at.isoformat(),
                 next_run_at=upcoming.isoformat() if upcoming else None)  # fmt: skip
    return outcome


def _claim(sessions, action_id, scheduled_at: datetime, upcoming: datetime | None, now: datetime):
    """Advance the schedule and insert the run together; None when another scheduler claimed it."""
    try:
        with session_scope(sessions) as session:
            if not set_next_run(session, action_id, scheduled_at, upcoming, last_run_at=scheduled_at):
                return None
            run = ActionRun(action_id=action_id, scheduled_at=scheduled_at, started_at=now, created_at=now,
                            updated_at=now)  # fmt: skip
            session.add(run)
            session.flush()
            return run.id
    except IntegrityError:
        return None
