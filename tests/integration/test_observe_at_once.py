"""An answer at hand (a heuristic scanner, the recording's analysis in this process's memory) is written
with the claim, in one transaction; anything else, a failure included, takes the usual way."""

from __future__ import annotations

from datetime import UTC, datetime
from unittest import mock

import pytest
from sqlalchemy import event

from models import ObservationStatus, Scanner, UsageReceipt, session_scope
from services.analysis_cache import ANALYSES
from services.observations import request_observations
from services.observe import run_observation

pytestmark = pytest.mark.db
CHECKOUT = "scenario-checkout-js-error"


def heuristic(world, rule: str = "rage_click"):
    return world.scanner(
        scanner_type="monitor", provider="heuristic", scanner_config={"prompt": "p", "rule": rule}
    )


def pending(world, scanner):
    """A pending observation whose message was not sent: the test plays the worker."""
    with session_scope(world.db.sessions) as session:
        fresh = session.get(Scanner, scanner.id)
        (outcome,) = request_observations(
            session, fresh, [CHECKOUT], settings=world.settings, now=datetime.now(UTC)
        )
    return outcome.observation_id


def commits_of(world, observation_id) -> tuple[object, int]:
    """Run the attempt; its result and how many transactions it committed."""
    counted = []
    engine = world.db.engine
    listener = lambda connection: counted.append(1)  # noqa: E731
    event.listen(engine, "commit", listener)
    try:
        result = run_observation(world.deps, observation_id)
    finally:
        event.remove(engine, "commit", listener)
    return result, len(counted)


def test_a_heuristic_observation_of_a_remembered_recording_is_claimed_and_written_in_one_commit(world):
    world.stop_worker()
    ANALYSES.clear()
    first = pending(world, heuristic(world))
    assert commits_of(world, first)[1] == 2  # rendered: claim, then the result

    result, commits = commits_of(world, pending(world, heuristic(world, "dead_click")))

    assert (result.status, commits) == ("succeeded", 1)
    [receipt] = [r for r in world.rows(UsageReceipt) if r.observation_id != first]
    row = world.observation(receipt.observation_id)
    assert (row.status, row.attempts, row.lease_until) == (ObservationStatus.SUCCEEDED, 1, None)


def test_a_failure_of_the_answer_at_hand_fails_the_row_the_usual_way(world):
    world.stop_worker()
    ANALYSES.clear()
    run_observation(world.deps, pending(world, heuristic(world)))  # the analysis is now in memory
    observation_id = pending(world, heuristic(world, "dead_click"))

    with mock.patch("services.observe.heuristic_answer", side_effect=RuntimeError("a bug")):
        result = run_observation(world.deps, observation_id)

    row = world.observation(observation_id)
    assert (result.status, result.kind) == ("failed", "internal_error")
    assert row.status == ObservationStatus.FAILED and row.attempts == 1
