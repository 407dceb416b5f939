"""Nothing lost when a worker stops: a claimed observation is leased, a lapsed lease is taken over by
a redelivered message or sent again by the reaper (a bounded number of times), and only the attempt
holding the row may write it. A real worker, the embedded Redis, simulated time for the reaper."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from models import Observation, ObservationStatus, Scanner, as_utc, session_scope
from models.observation_queries import claim
from pipeline.names import OBSERVE
from services.observation_leases import renew
from services.observations import request_observations
from services.reapers import reap

pytestmark = pytest.mark.db
CHECKOUT = "scenario-checkout-js-error"
RAGE = {
    "scanner_type": "monitor",
    "provider": "heuristic",
    "scanner_config": {"prompt": "Rage?", "rule": "rage_click"},
}
LEASE = timedelta(seconds=90)


def pending_row(world, session_id: str = CHECKOUT) -> UUID:
    """A pending observation whose message was not sent (the test sends it, or plays a worker)."""
    scanner = world.scanner(**RAGE)
    with session_scope(world.db.sessions) as session:
        fresh = session.get(Scanner, scanner.id)
        (outcome,) = request_observations(
            session, fresh, [session_id], settings=world.settings, now=datetime.now(UTC)
        )
    return outcome.observation_id


def claimed_by_a_worker_that_stops(world, observation_id: UUID, at: datetime) -> Observation:
    """A worker claims the row at `at`, as `run_observation` does, and is never heard of again."""
    with session_scope(world.db.sessions) as session:
        row = claim(session, observation_id, at, at + LEASE, world.settings.observation_max_takeovers)
    assert row is not None
    return row


def test_a_redelivered_message_takes_over_a_row_whose_lease_lapsed_and_succeeds(world):
    observation_id = pending_row(world)
    claimed_by_a_worker_that_stops(world, observation_id, datetime.now(UTC) - timedelta(minutes=2))

    world.deps.sender().send(OBSERVE, str(observation_id))  # Dramatiq requeued the dead worker's message
    world.drain()

    row = world.observation(observation_id)
    assert row.status == ObservationStatus.SUCCEEDED and row.result_verdict == "yes"
    assert (row.attempts, row.takeovers, row.lease_until) == (2, 1, None)


def test_a_message_for_a_row_whose_lease_is_live_is_refused(world):
    observation_id = pending_row(world)
    held = claimed_by_a_worker_that_stops(world, observation_id, datetime.now(UTC))

    world.deps.sender().send(OBSERVE, str(observation_id))  # a duplicate: another worker is on it
    world.drain()

    row = world.observation(observation_id)
    assert (row.status, row.attempts, row.takeovers) == (ObservationStatus.RUNNING, 1, 0)
    assert as_utc(row.lease_until) == as_utc(held.lease_until)


def test_only_the_attempt_holding_the_row_renews_its_lease(world):
    observation_id = pending_row(world)
    claimed_by_a_worker_that_stops(world, observation_id, datetime.now(UTC) - timedelta(minutes=2))
    now = datetime.now(UTC)
    taken = claimed_by_a_worker_that_stops(world, observation_id, now)  # the takeover: attempt 2

    assert not renew(world.deps, observation_id, attempt=1)  # the first worker woke up: not its row now
    assert renew(world.deps, observation_id, attempt=taken.attempts)
    assert as_utc(world.observation(observation_id).lease_until) >= now + LEASE


def test_the_reaper_sends_a_lapsed_row_again_up_to_its_takeovers_then_fails_it(world):
    world.stop_worker()  # the messages the reaper sends stay queued; the test plays the workers
    observation_id = pending_row(world)
    now = datetime.now(UTC)
    for takeover in range(1, world.settings.observation_max_takeovers + 1):
        claimed_by_a_worker_that_stops(world, observation_id, now)
        now += LEASE
        assert reap(world.deps, now=now).taken_over == 0  # the lease lapses at now, not before
        now += timedelta(seconds=10)
        assert reap(world.deps, now=now).taken_over == 1
        row = world.observation(observation_id)
        assert (row.status, row.takeovers) == (ObservationStatus.PENDING, takeover)
        assert row.error_reason == "orphaned:the worker stopped while observing it"
    claimed_by_a_worker_that_stops(world, observation_id, now)

    outcome = reap(world.deps, now=now + LEASE + timedelta(seconds=10))

    assert (outcome.taken_over, outcome.orphaned_running) == (0, 1)
    row = world.observation(observation_id)
    assert row.status == ObservationStatus.FAILED and row.completed_at is not None
    assert row.error_reason == "orphaned:the worker stopped 3 times while observing it"
    queued = world.broker.client.llen(f"{world.settings.redis_namespace}:{OBSERVE.queue}")
    assert queued == world.settings.observation_max_takeovers
