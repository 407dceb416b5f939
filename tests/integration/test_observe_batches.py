"""A heuristic scanner's observations go several to a message (`observe_batch`), a model's one to a
message; a batch writes one job run, a transient failure inside it is the one observation's (sent
again alone, failed as `blob_missing` when its retries run out), a redelivered batch changes
nothing, and the reaper reads a batch's ids as queued."""

from __future__ import annotations

import json
from unittest import mock
from uuid import UUID

import pytest
from sqlmodel import select

from models import JobRun, ObservationStatus, Recording
from pipeline.names import OBSERVE, OBSERVE_BATCH, OBSERVE_BATCH_SIZE
from scenarios import build
from services.observe import dispatch, run_observations
from services.recordings import store_events
from tests.support.world import build_world, close_world

pytestmark = pytest.mark.db
RAGE = {
    "scanner_type": "monitor",
    "provider": "heuristic",
    "scanner_config": {"prompt": "p", "rule": "rage_click"},
}
GEMINI = {"scanner_type": "monitor", "scanner_config": {"prompt": "Did the payment fail?"}}


@pytest.fixture
def world(sightline_home, database_url, monkeypatch):
    built = build_world(monkeypatch, database_url, SIGHTLINE_OBSERVE_RETRIES="1")
    yield built
    close_world(built)


def copies(world, count: int) -> list[str]:
    """`count` copies of the checkout scenario under new session ids."""
    events = build("checkout-js-error").events
    ids = [f"copy-{index:02}" for index in range(count)]
    for session_id in ids:
        store_events(world.deps, world.team_id, session_id, events)
    return ids


def queued_messages(world) -> list[dict]:
    base = f"{world.settings.redis_namespace}:{OBSERVE.queue}"
    return [
        json.loads(world.deps.redis().hget(f"{base}.msgs", key))
        for key in world.deps.redis().lrange(base, 0, -1)
    ]


class Sent:
    """What `dispatch` hands to the sender, without a broker."""

    def __init__(self):
        self.messages: list[tuple[str, object]] = []

    def send(self, route, *args, **options):
        self.messages.append((route.actor, args[0]))

    def send_each(self, route, ids):
        ids = list(ids)
        self.messages.extend((route.actor, each) for each in ids)
        return len(ids)


def test_a_heuristic_scanners_observations_go_several_to_a_message_and_a_models_one_to_a_message(world):
    sent = Sent()
    ids = [f"id-{index}" for index in range(OBSERVE_BATCH_SIZE * 2 + 3)]
    with mock.patch.object(type(world.deps), "sender", lambda deps: sent):
        assert dispatch(world.deps, "heuristic", ids) == len(ids)
        heuristic, sent.messages = sent.messages, []
        assert dispatch(world.deps, "google", ids) == len(ids)
        gemini, sent.messages = sent.messages, []
        dispatch(world.deps, "heuristic", ids[:1])
        alone = sent.messages

    assert [actor for actor, _ in heuristic] == [OBSERVE_BATCH.actor] * 3
    assert [len(batch) for _, batch in heuristic] == [OBSERVE_BATCH_SIZE, OBSERVE_BATCH_SIZE, 3]
    assert [each for _, batch in heuristic for each in batch] == ids  # each once, in order
    assert gemini == [(OBSERVE.actor, each) for each in ids]
    assert alone == [(OBSERVE.actor, ids[0])]


def test_a_batch_observes_every_session_and_writes_one_job_run(world):
    sessions = copies(world, 11)
    world.stop_worker()
    outcomes = world.request(world.scanner(**RAGE), *sessions)
    messages = queued_messages(world)
    assert [message["actor_name"] for message in messages] == [OBSERVE_BATCH.actor] * 2

    world.start_worker()
    world.drain()

    rows = [world.observation(outcome.observation_id) for outcome in outcomes]
    assert {row.status for row in rows} == {ObservationStatus.SUCCEEDED}
    assert len(world.receipts()) == 11
    runs = [run for run in world.rows(JobRun) if run.actor == OBSERVE_BATCH.actor]
    assert sorted(run.status for run in runs) == ["succeeded", "succeeded"]


def test_a_redelivered_batch_changes_nothing(world):
    sessions = copies(world, 3)
    world.stop_worker()
    outcomes = world.request(world.scanner(**RAGE), *sessions)
    ids = [str(outcome.observation_id) for outcome in outcomes]

    first = run_observations(world.deps, ids)
    again = run_observations(world.deps, ids)

    assert [each.status for each in first] == ["succeeded"] * 3
    assert [each.status for each in again] == ["not_claimed"] * 3
    assert len(world.receipts()) == 3


def test_a_transient_failure_in_a_batch_is_that_observations_alone(world):
    sessions = copies(world, 4)
    with world.db.sessions() as session:
        gone = session.exec(select(Recording.blob_ref).where(Recording.session_id == sessions[1])).one()
    world.deps.blobs.delete(gone)  # its blob lost (and no analysis beside it)

    outcomes = world.request(world.scanner(**RAGE), *sessions)
    world.drain()  # the batch, the lone retries it sent, and the give-up

    rows = {outcome.session_id: world.observation(outcome.observation_id) for outcome in outcomes}
    lost = rows.pop(sessions[1])
    assert {row.status for row in rows.values()} == {ObservationStatus.SUCCEEDED}
    assert lost.status == ObservationStatus.FAILED
    assert lost.error_reason.startswith("blob_missing:") and lost.error_reason.endswith("(2 attempts)")
    alone = [run for run in world.rows(JobRun) if run.actor == OBSERVE.actor]
    assert len(alone) == 2  # the lone message and its one retry


def test_the_give_up_of_a_batch_fails_only_its_pending_observations(world):
    from actors.observe import observation_gave_up

    sessions = copies(world, 2)
    world.stop_worker()
    done, waiting = (str(o.observation_id) for o in world.request(world.scanner(**RAGE), *sessions))
    run_observations(world.deps, [done])

    observation_gave_up.fn({"args": [[done, waiting]]}, {"retries": 4})

    assert world.observation(UUID(done)).status == ObservationStatus.SUCCEEDED
    failed = world.observation(UUID(waiting))
    assert failed.status == ObservationStatus.FAILED and failed.error_reason.endswith("(5 attempts)")


def test_the_reaper_counts_a_queued_batchs_observations_as_queued(world):
    from integrations.queues import queued_ids

    sessions = copies(world, 3)
    world.stop_worker()
    ids = {str(o.observation_id) for o in world.request(world.scanner(**RAGE), *sessions)}

    assert queued_ids(world.deps.redis(), world.settings.redis_namespace, OBSERVE.queue) == ids
