"""An answer at hand (a heuristic scanner, the recording's analysis in this process's memory or stored in
the local blob store) is written with the claim, in one transaction; anything else, a failure included,
takes the usual way."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from unittest import mock

import pytest
from sqlalchemy import event

from models import ObservationStatus, Scanner, UsageReceipt, session_scope
from models.queries import get_recording
from scenarios import build
from services.analysis_cache import ANALYSES, analysis_ref
from services.observations import request_observations
from services.observe import run_observation
from services.recordings import import_file

pytestmark = pytest.mark.db
CHECKOUT = "scenario-checkout-js-error"


def heuristic(world, rule: str = "rage_click"):
    return world.scanner(
        scanner_type="monitor", provider="heuristic", scanner_config={"prompt": "p", "rule": rule}
    )


def pending(world, scanner, session_id: str = CHECKOUT):
    """A pending observation whose message was not sent: the test plays the worker."""
    with session_scope(world.db.sessions) as session:
        fresh = session.get(Scanner, scanner.id)
        (outcome,) = request_observations(
            session, fresh, [session_id], settings=world.settings, now=datetime.now(UTC)
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


def forget_analysis(world) -> None:
    """Neither in this process's memory nor stored beside the blob (as an import leaves it)."""
    with session_scope(world.db.sessions) as session:
        blob_ref = get_recording(session, world.team_id, CHECKOUT).blob_ref
    world.deps.blobs.delete(analysis_ref(blob_ref))
    ANALYSES.clear()


def test_a_heuristic_observation_with_its_analysis_at_hand_is_claimed_and_written_in_one_commit(world):
    world.stop_worker()
    forget_analysis(world)
    first = pending(world, heuristic(world))
    assert commits_of(world, first)[1] == 2  # rendered: claim, then the result

    result, commits = commits_of(world, pending(world, heuristic(world, "dead_click")))
    ANALYSES.clear()  # another worker process: the analysis the first one stored is read from the store
    stored, commits_stored = commits_of(world, pending(world, heuristic(world, "u_turn")))

    assert (result.status, commits) == ("succeeded", 1)
    assert (stored.status, commits_stored) == ("succeeded", 1)
    assert ANALYSES.counts["stored"] == 1
    [receipt, *_] = [r for r in world.rows(UsageReceipt) if r.observation_id != first]
    row = world.observation(receipt.observation_id)
    assert (row.status, row.attempts, row.lease_until) == (ObservationStatus.SUCCEEDED, 1, None)


def test_an_import_stores_the_analysis_its_first_observation_reads(world, tmp_path):
    world.stop_worker()
    path = tmp_path / "imported.json"
    path.write_text(json.dumps(build("checkout-js-error").events))
    assert import_file(world.deps, world.team_id, path, "imported").status == "imported"
    ANALYSES.clear()  # the worker is another process

    result, commits = commits_of(world, pending(world, heuristic(world), "imported"))

    assert (result.status, commits) == ("succeeded", 1)
    assert ANALYSES.counts == {"stored": 1}


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
