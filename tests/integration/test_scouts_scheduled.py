"""Scouts as the scheduler and the workers run them, against a real database, the embedded Redis and a
real Dramatiq `Worker`: a tick claims the due scouts and the `run_scout` actor runs each once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from actors.scouts import run_scout
from models import ScoutRun, Signal
from pipeline.names import RUN_SCOUT
from scheduler.daemon import Scheduler
from services import scout_runs, scouts
from tests.support.scout_sessions import recent_checkout_errors

pytestmark = pytest.mark.db
SPIKES = "signals-scout-error-spikes"


def drain(world) -> None:
    world.broker.join(RUN_SCOUT.queue, timeout=60_000)
    world.worker.join()


def test_a_tick_claims_each_due_scout_once_and_the_worker_runs_it(world):
    now = datetime.now(UTC)
    recent_checkout_errors(world, now)
    fleet = scouts.sync(world.deps, world.team_id, now=now)
    scheduler = Scheduler(world.deps)

    report = scheduler.tick(now)
    drain(world)
    again = scheduler.tick(now)  # the same slot: nothing is due any more

    assert report.scouts["claimed"] == len(fleet) and report.scouts["refused"] == 0
    assert again.scouts["claimed"] == 0
    runs = {run.skill_name: run for run in world.rows(ScoutRun)}
    assert set(runs) == {each.skill_name for each in fleet}
    assert all(run.status == "completed" and run.completed_at is not None for run in runs.values())
    spike = runs[SPIKES]
    assert spike.emitted_count == 1 and spike.emit
    evidence = spike.findings[0]["evidence"]
    assert (evidence["sessions"], evidence["distinct_users"]) == (3, 3)
    emitted = [s for s in world.rows(Signal) if s.source_product == "scouts"]
    assert spike.emitted_finding_ids[0] in {s.source_id for s in emitted}


def test_the_actor_runs_a_claimed_run_once_and_a_redelivered_message_changes_nothing(world):
    now = datetime.now(UTC)
    recent_checkout_errors(world, now)
    (spikes,) = [
        each for each in scouts.sync(world.deps, world.team_id, now=now) if each.skill_name == SPIKES
    ]
    for each in scouts.configs(world.deps, world.team_id):
        if each.id != spikes.id:
            scouts.update(world.deps, world.team_id, each.id, {"enabled": False})
    scouts.update(world.deps, world.team_id, spikes.id, {"emit": False})

    claimed = scout_runs.claim_due_scouts(world.deps, now=now)  # sends run_scout through Redis
    drain(world)
    (first,) = world.rows(ScoutRun)
    run_scout.send(claimed.run_ids[0])
    drain(world)
    (after,) = world.rows(ScoutRun)

    assert claimed.run_ids == [str(first.id)]
    assert first.status == "completed" and not first.emit and first.summary.startswith("would emit 1 finding")
    assert first.findings[0]["evidence"]["sessions"] == 3 and first.emitted_count == 0
    assert (after.status, after.completed_at, after.findings) == (
        first.status,
        first.completed_at,
        first.findings,
    )
    assert [s for s in world.rows(Signal) if s.source_product == "scouts"] == []  # a dry run emits nothing
