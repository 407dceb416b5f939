"""A scout run that fails unexpectedly (the database, Redis, reading recordings) is never left
running: it goes back to queued for the actor's retry, which then runs it, and is failed with the
error's kind on the last attempt."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock
from uuid import UUID

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from models import Recording, ScoutRun, as_utc
from services import scout_runs
from services.scanners import apply_scanners

pytestmark = pytest.mark.db
SCOUT = {
    "name": "signals-scout-errors",
    "metric": "pattern:console_error",
    "group_by": "page",
    "threshold": 1,
}
GLITCH = OperationalError("SELECT", {}, Exception("database is locked"))


def claimed_run(world) -> UUID:
    apply_scanners(world.deps, world.team_id, {"scouts": [SCOUT]}, source="f")
    with world.deps.read() as session:
        now = max(as_utc(row.start_time) for row in session.exec(select(Recording))) + timedelta(hours=1)
    (run_id,) = scout_runs.claim_due_scouts(world.deps, now=now).run_ids
    return UUID(run_id)


def test_a_failed_attempt_puts_the_run_back_to_queued_and_the_retry_runs_it(world):
    run_id = claimed_run(world)

    with mock.patch.object(scout_runs, "_digests", side_effect=GLITCH), pytest.raises(OperationalError):
        scout_runs.run_scout(world.deps, run_id, last_attempt=False)
    (waiting,) = world.rows(ScoutRun)
    ran = scout_runs.run_scout(world.deps, run_id, last_attempt=False)

    assert (waiting.status, waiting.started_at) == ("queued", None)
    assert ran is not None and ran.status == "completed" and ran.findings


def test_the_last_attempt_fails_the_run_with_the_errors_kind(world):
    run_id = claimed_run(world)

    with mock.patch.object(scout_runs, "_digests", side_effect=GLITCH), pytest.raises(OperationalError):
        scout_runs.run_scout(world.deps, run_id, last_attempt=True)

    (run,) = world.rows(ScoutRun)
    assert (run.status, run.failure_reason) == ("failed", "internal_error")
    assert run.error == "internal_error: OperationalError" and run.completed_at is not None
    assert scout_runs.run_scout(world.deps, run_id) is None  # a redelivered message changes nothing
