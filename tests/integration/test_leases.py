"""Nothing lost when a worker stops or Redis restarts: a claimed observation is leased, a lapsed
lease is taken over by a redelivered message or sent again by the reaper (a bounded number of
times), and only the attempt holding the row may write it; a dead worker's fetched messages and ids
stranded in a live worker's ack set go back on their queue; after Redis comes back empty, what
waited is sent again at once. A real worker, the embedded Redis, simulated time for the reaper."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import dramatiq
import pytest
from sqlmodel import select
from typer.testing import CliRunner

from actors.presence import WorkerPresence
from cli.main import app
from integrations.ack_sets import report_holding
from models import Observation, ObservationStatus, Recording, Scanner, as_utc, session_scope
from models.observation_queries import claim
from pipeline.errors import BlobMissing
from pipeline.names import OBSERVE, WORKER_EXPIRE_S
from services.observation_leases import LeaseKeeper, leased, renew
from services.observations import request_observations
from services.observe import run_observation
from services.reapers import reap
from services.redelivery import redis_kept

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


def test_a_running_attempt_keeps_renewing_its_lease_while_it_runs(world):
    observation_id = pending_row(world)
    held = claimed_by_a_worker_that_stops(world, observation_id, datetime.now(UTC) - timedelta(hours=1))
    # A lease of 0.3 s, renewed every 0.1 s (the settings refuse one this short; the clock is real).
    quick = dataclasses.replace(
        world.deps, settings=world.settings.model_copy(update={"observation_lease_s": 0.3})
    )

    with leased(quick, observation_id, held.attempts):
        until(lambda: as_utc(world.observation(observation_id).lease_until) > as_utc(held.lease_until))

    assert world.observation(observation_id).status == ObservationStatus.RUNNING


def test_one_beat_renews_every_lease_the_process_holds_and_forgets_one_taken_over(world):
    first, second = pending_row(world), pending_row(world, "scenario-smooth-signup")
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    held = [claimed_by_a_worker_that_stops(world, key, an_hour_ago) for key in (first, second)]
    keeper = LeaseKeeper(world.deps)
    for row in held:
        keeper.hold(row.id, row.attempts)
    taken = claimed_by_a_worker_that_stops(world, second, datetime.now(UTC))  # lapsed: taken over

    keeper.beat()

    assert as_utc(world.observation(first).lease_until) > as_utc(held[0].lease_until)
    assert as_utc(world.observation(second).lease_until) == as_utc(taken.lease_until)
    assert not keeper.release(second, held[1].attempts)  # forgotten: the next beat leaves it alone
    assert keeper.release(first, held[0].attempts)


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


def test_an_observation_waiting_for_a_retry_shows_its_last_error_and_when_the_next_attempt_is_due(world, api):
    world.stop_worker()  # the test runs the attempt itself, at a known time
    with world.db.sessions() as session:
        world.deps.blobs.delete(
            session.exec(select(Recording.blob_ref).where(Recording.session_id == CHECKOUT)).one()
        )
    [requested] = world.request(world.scanner(**RAGE), CHECKOUT)
    at = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    with pytest.raises(BlobMissing):
        run_observation(
            dataclasses.replace(world.deps, clock=lambda: at), requested.observation_id, retries=0
        )

    row = world.observation(requested.observation_id)
    assert row.status == ObservationStatus.PENDING and row.error_reason.startswith("blob_missing:the events")
    backoff = timedelta(seconds=world.settings.observe_backoff_min_s)  # the first retry's delay
    assert as_utc(row.next_attempt_at) == at + backoff
    shown = CliRunner().invoke(app, ["observations", "show", str(row.id)], catch_exceptions=False).output
    assert f"reason: {row.error_reason}" in shown and "next attempt: 2026-03-01 09:30:00 UTC" in shown
    body = api.get(f"/api/environments/{world.team_id}/vision/observations/{row.id}").json()
    assert body["error_reason"] == row.error_reason and body["attempts"] == 1
    assert datetime.fromisoformat(body["next_attempt_at"]) == at + backoff


# --- messages fetched and never acknowledged ------------------------------------------------------


def fetched_by(world, worker_id: str, observation_id: UUID) -> str:
    """The observation's message as a worker's fetch leaves it: stored, its id in that worker's ack
    set and no longer on the queue. Its Redis id."""
    namespace, redis_id = world.settings.redis_namespace, str(uuid4())
    message = dramatiq.Message(
        queue_name=OBSERVE.queue,
        actor_name=OBSERVE.actor,
        args=(str(observation_id),),
        kwargs={},
        options={"redis_message_id": redis_id},
    )
    client = world.deps.redis()
    client.hset(f"{namespace}:{OBSERVE.queue}.msgs", redis_id, message.encode())
    client.sadd(f"{namespace}:__acks__.{worker_id}.{OBSERVE.queue}", redis_id)
    return redis_id


def a_report_from_the_worker(world) -> None:
    """What the world's worker reports holding now, as its presence thread does every few seconds."""
    presence = next(m for m in world.broker.middleware if isinstance(m, WorkerPresence))
    held = presence.holding()
    report_holding(
        world.deps.redis(), world.settings.redis_namespace, world.broker.broker_id, held, WORKER_EXPIRE_S
    )


def until(condition: Callable[[], bool]) -> None:
    """Wait for the worker's own threads to get somewhere (like `broker.join`, never a timing check)."""
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, "the worker never got there"
        time.sleep(0.02)


def test_a_dead_workers_fetched_messages_are_requeued_once_its_heartbeat_is_a_minute_old(world):
    now = datetime.now(UTC)
    redis_kept(world.deps, now)
    observation_id = pending_row(world)
    heartbeats = f"{world.settings.redis_namespace}:__heartbeats__"
    world.deps.redis().zadd(heartbeats, {"dead-worker": (now.timestamp() - 30) * 1000})
    fetched_by(world, "dead-worker", observation_id)  # prefetched, then the worker was killed

    assert reap(world.deps, now=now).requeued == 0  # 30 s without a heartbeat: busy, perhaps
    assert reap(world.deps, now=now + timedelta(seconds=31)).requeued == 1
    world.drain()

    row = world.observation(observation_id)
    assert row.status == ObservationStatus.SUCCEEDED and row.attempts == 1
    assert row.send_count == 1  # the one message it was sent, requeued, never another


def test_an_id_stranded_in_a_live_workers_ack_set_is_requeued_after_a_minute_unreported(world):
    now = datetime.now(UTC)
    redis_kept(world.deps, now)
    observation_id = pending_row(world)
    fetched_by(world, world.broker.broker_id, observation_id)  # the fetch ran; its reply was lost
    a_report_from_the_worker(world)

    assert reap(world.deps, now=now).requeued == 0  # a report may lag a fetch: suspected only
    assert reap(world.deps, now=now + timedelta(seconds=59)).requeued == 0
    a_report_from_the_worker(world)
    assert reap(world.deps, now=now + timedelta(seconds=60)).requeued == 1
    world.drain()

    assert world.observation(observation_id).status == ObservationStatus.SUCCEEDED


def test_a_delayed_message_the_worker_holds_is_never_taken_for_stranded(world):
    now = datetime.now(UTC)
    redis_kept(world.deps, now)
    observation_id = pending_row(world)
    world.deps.sender().send(OBSERVE, str(observation_id), delay_ms=3_600_000)  # a retry, an hour away
    delayed = f"{world.settings.redis_namespace}:__acks__.{world.broker.broker_id}.{OBSERVE.queue}.DQ"
    until(lambda: world.deps.redis().scard(delayed) == 1)  # fetched into the worker's delay queue
    a_report_from_the_worker(world)

    assert reap(world.deps, now=now).requeued == 0
    assert reap(world.deps, now=now + timedelta(minutes=5)).requeued == 0
    assert world.deps.redis().scard(delayed) == 1


# --- Redis losing every message -------------------------------------------------------------------


def redis_restarted_empty(world) -> None:
    """Everything of ours is gone from Redis, as after a restart without persistence."""
    client = world.deps.redis()
    for key in list(client.scan_iter(match=f"{world.settings.redis_namespace}:*", count=1000)):
        client.delete(key)


def test_after_redis_comes_back_empty_pending_rows_are_sent_again_on_the_next_tick(world):
    world.stop_worker()  # the messages wait in Redis
    now = datetime.now(UTC)
    assert reap(world.deps, now=now).redis_lost == 1  # the first look: nothing known yet
    [requested] = world.request(world.scanner(**RAGE), CHECKOUT)
    assert reap(world.deps, now=now + timedelta(seconds=10)).resent == 0  # queued: waiting, not lost

    redis_restarted_empty(world)
    outcome = reap(world.deps, now=now + timedelta(seconds=20))

    assert (outcome.redis_lost, outcome.resent) == (1, 1)
    assert reap(world.deps, now=now + timedelta(seconds=30)).redis_lost == 0
    world.start_worker()
    world.drain()
    assert world.observation(requested.observation_id).status == ObservationStatus.SUCCEEDED
