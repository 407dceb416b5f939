"""Live ingest over HTTP: project tokens, batches merged once, gzip, CORS, limits, and late data swept."""

from __future__ import annotations

import dataclasses
import gzip
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from api.app import create_app
from models import IngestBatch, Observation, ObservationStatus, Recording
from pipeline.errors import ConcurrentChange
from scheduler.daemon import Scheduler
from services.ingest import create_token, merge_waiting, revoke_token, set_origins
from services.recordings import timeline
from services.status import status

pytestmark = pytest.mark.db
ORIGIN = "https://shop.example"


@pytest.fixture
def ingest(world, api):
    """A token of the world's team and a function that posts one batch with it."""
    token = create_token(world.deps, world.team_id, "tests").secret
    set_origins(world.deps, world.team_id, add=[ORIGIN])

    def send(body, *, secret=token, headers=None, team=world.team_id, client=api.client, raw=False):
        content = body if raw else orjson.dumps(body)
        sent = {
            "Content-Type": "application/json",
            **({"Authorization": f"Bearer {secret}"} if secret else {}),
        }
        return client.post(
            f"/api/environments/{team}/recordings/ingest",
            content=content,
            headers={**sent, **(headers or {})},
        )

    send.token = token
    return send


def events_of(world, name="checkout-js-error"):
    return world.scenarios[name].events


def batch(session_id, events, batch_id, **extra):
    return {"session_id": session_id, "batch_id": batch_id, "window_id": "w1", "events": events, **extra}


def stored(world, session_id):
    with world.db.sessions() as session:
        statement = select(Recording).where(
            Recording.team_id == world.team_id, Recording.session_id == session_id
        )
        return session.exec(statement).one_or_none()


def test_batches_out_of_order_and_a_repeat_make_one_recording_in_time_order_stored_once(world, ingest):
    events = events_of(world)
    thirds = [
        events[: len(events) // 3],
        events[len(events) // 3 : 2 * len(events) // 3],
        events[2 * len(events) // 3 :],
    ]
    for index in (2, 0, 1):
        answer = ingest(batch("live-1", thirds[index], f"b{index}", distinct_id="person-7"))
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "stored"
    again = ingest(batch("live-1", thirds[0], "b0", distinct_id="person-7"))
    assert again.status_code == 200
    assert again.json() == {"status": "duplicate", "session_id": "live-1", "batch_id": "b0"}
    assert stored(world, "live-1") is None  # durable as batches; merged into the recording next
    merge_waiting(world.deps, world.team_id, "live-1")
    row = stored(world, "live-1")
    assert row.event_count == len(events) and row.distinct_id == "person-7"
    kept = world.deps.blobs.read(row.blob_ref)
    assert [e["timestamp"] for e in kept] == sorted(e["timestamp"] for e in events)
    batches = world.rows(IngestBatch)
    assert len(batches) == 3 and all(b.merged_at and b.blob_ref is None for b in batches)
    assert "live-1" in timeline(world.deps, world.team_id, "live-1").text


def test_a_gzip_batch_and_a_beacon_with_its_token_in_the_body_are_stored(world, ingest):
    events = events_of(world, "u-turn")
    zipped = gzip.compress(orjson.dumps(batch("live-gz", events[:10], "g1")))
    answer = ingest(zipped, raw=True, headers={"Content-Encoding": "gzip"})
    assert answer.status_code == 200, answer.text
    # A beacon can set no header: text/plain, the token inside the (gzip) body.
    beacon = gzip.compress(orjson.dumps(batch("live-gz", events[10:], "g2", token=ingest.token)))
    answer = ingest(beacon, raw=True, secret=None, headers={"Content-Type": "text/plain"})
    assert answer.status_code == 200, answer.text
    merge_waiting(world.deps, world.team_id, "live-gz")
    assert stored(world, "live-gz").event_count == len(events)


def test_a_bad_event_refuses_the_batch_naming_it_and_leaves_the_session_untouched(world, ingest):
    events = events_of(world)
    assert ingest(batch("live-bad", events[:5], "ok")).status_code == 200
    merge_waiting(world.deps, world.team_id, "live-bad")
    before = stored(world, "live-bad")
    broken = [*events[5:8], {"type": 3, "data": {}}]
    answer = ingest(batch("live-bad", broken, "bad"))
    assert answer.status_code == 400
    assert answer.json()["attr"] == "events[3]" and "timestamp" in answer.json()["detail"]
    assert merge_waiting(world.deps, world.team_id, "live-bad") is None  # nothing of it waits
    after = stored(world, "live-bad")
    assert (after.blob_ref, after.event_count) == (before.blob_ref, before.event_count)
    for body, attr in (
        ({"batch_id": "x", "events": events[:1]}, "session_id"),
        (batch("s", [], "x"), "events"),
    ):
        refused = ingest(body)
        assert refused.status_code == 400 and refused.json()["attr"] == attr
    assert ingest(b"{not json", raw=True).status_code == 400
    assert ingest(b"\x1f\x8bnot gzip", raw=True).status_code == 400


def test_oversized_bodies_are_413_before_and_after_decompression(world, ingest):
    limit = world.settings.ingest_max_body_bytes
    huge = {"type": 5, "timestamp": 1, "data": {"tag": "x", "payload": "a" * (limit + 10)}}
    assert ingest(batch("live-big", [huge], "h1")).status_code == 413
    bomb = gzip.compress(b" " * (world.settings.ingest_max_batch_bytes + 10))
    answer = ingest(bomb, raw=True, headers={"Content-Encoding": "gzip"})
    assert answer.status_code == 413 and stored(world, "live-big") is None


def test_personal_keys_bad_revoked_and_other_teams_tokens_are_refused(world, ingest, api):
    body = batch("live-auth", events_of(world)[:3], "a1")
    for secret in (api.key, "sli_not-a-token", "nonsense", None):
        answer = ingest(body, secret=secret)
        assert answer.status_code == 401, (secret and secret[:4], answer.text)
    assert "Personal API keys" in ingest(body, secret=api.key).json()["detail"]
    assert ingest(body, team=world.team_id + 1000).status_code == 404
    spare = create_token(world.deps, world.team_id).secret
    assert ingest(body, secret=spare).status_code == 200
    revoke_token(world.deps, create_token_id(world, spare))
    assert ingest(batch("live-auth", events_of(world)[3:6], "a2"), secret=spare).status_code == 401
    merge_waiting(world.deps, world.team_id, "live-auth")
    assert stored(world, "live-auth").event_count == 3


def create_token_id(world, secret):
    from models import IngestToken
    from services.auth import digest

    with world.db.sessions() as session:
        return str(session.exec(select(IngestToken).where(IngestToken.token_hash == digest(secret))).one().id)


def test_cors_answers_allowed_origins_and_refuses_others(world, ingest, api):
    path = f"/api/environments/{world.team_id}/recordings/ingest"
    asked = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
    ok = api.client.options(path, headers={"Origin": ORIGIN, **asked})
    assert ok.status_code == 204 and ok.headers["access-control-allow-origin"] == ORIGIN
    assert "authorization" in ok.headers["access-control-allow-headers"]
    refused = api.client.options(path, headers={"Origin": "https://evil.example", **asked})
    assert refused.status_code == 403 and "access-control-allow-origin" not in refused.headers
    body = batch("live-cors", events_of(world)[:3], "c1")
    assert ingest(body, headers={"Origin": "https://evil.example"}).status_code == 403
    assert merge_waiting(world.deps, world.team_id, "live-cors") is None
    answer = ingest(body, headers={"Origin": ORIGIN})
    assert answer.status_code == 200 and answer.headers["access-control-allow-origin"] == ORIGIN
    failed = ingest(batch("live-cors", [{"type": 2}], "c2"), headers={"Origin": ORIGIN})
    assert failed.status_code == 400 and failed.headers["access-control-allow-origin"] == ORIGIN


def test_past_the_rate_a_token_is_429_with_retry_after(world, ingest):
    tight = world.settings.model_copy(update={"ingest_rate_limit": "3/minute"})
    client = TestClient(create_app(dataclasses.replace(world.deps, settings=tight, _built={})))
    events = events_of(world)
    answers = [ingest(batch("live-rate", events[i : i + 1], f"r{i}"), client=client) for i in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert int(answers[-1].headers["Retry-After"]) >= 1


def test_a_session_still_receiving_batches_waits_and_late_data_is_swept_and_observed(world, ingest):
    scanner = world.scanner(scanner_type="monitor", provider="heuristic",
                            scanner_config={"prompt": "Did an error follow a click?", "rule": "error_click"})  # fmt: skip
    scheduler, now = Scheduler(world.deps), datetime.now(UTC)
    scheduler.tick(now)  # the scanner's first sweep: its watermark is now − settle
    settle = timedelta(seconds=world.settings.settle_s)
    settled_at = now + settle + timedelta(minutes=1)
    before = unswept(world, scanner, settled_at)
    # The events happened long ago (an old export, a retry after an outage); they arrive now.
    events = events_of(world)
    assert ingest(batch("late-1", events[: len(events) // 2], "l1")).status_code == 200
    merge_waiting(world.deps, world.team_id, "late-1")
    scheduler.tick(now + timedelta(minutes=10))
    assert observed(world, scanner, "late-1") is None  # still receiving: not settled, not swept
    assert ingest(batch("late-1", events[len(events) // 2 :], "l2")).status_code == 200
    merge_waiting(world.deps, world.team_id, "late-1")
    assert unswept(world, scanner, settled_at) == before + 1
    assert scheduler.tick(settled_at + timedelta(minutes=5)).enqueued >= 1
    world.drain()
    assert observed(world, scanner, "late-1").status == ObservationStatus.SUCCEEDED


def unswept(world, scanner, at):
    return next(s for s in status(world.deps, now=at)["scanners"] if s["id"] == str(scanner.id))["unswept"]


def observed(world, scanner, session_id):
    with world.db.sessions() as session:
        statement = select(Observation).where(
            Observation.scanner_id == scanner.id, Observation.session_id == session_id
        )
        return session.exec(statement).one_or_none()


def test_batches_of_one_session_sent_at_once_lose_no_event(world):
    from concurrent.futures import ThreadPoolExecutor

    from pipeline.ingest import Batch
    from services.ingest import ingest as ingest_batch

    events = events_of(world)
    chunks = [events[i::6] for i in range(6)]
    batches = [Batch("live-race", f"x{i}", "w1", None, chunk) for i, chunk in enumerate(chunks)]

    def send_and_merge(each):
        ingest_batch(world.deps, world.team_id, each)
        for _ in range(5):  # a merge that lost a race to another finds the rest next time
            try:
                return merge_waiting(world.deps, world.team_id, "live-race")
            except ConcurrentChange:
                continue

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(send_and_merge, batches))
    merge_waiting(world.deps, world.team_id, "live-race")
    assert stored(world, "live-race").event_count == len(events)
    assert len(world.deps.blobs.read(stored(world, "live-race").blob_ref)) == len(events)


def test_batches_whose_merge_message_was_lost_are_merged_by_the_scheduler(world, ingest):
    from pipeline.names import compact_key
    from services.ingest import merge_stale

    world.stop_worker()
    assert ingest(batch("live-lost", events_of(world)[:20], "z1")).status_code == 200
    world.broker.flush("ingest")  # the merge message is lost (a Redis restarted without its data)
    world.deps.redis().delete(compact_key(world.settings.redis_namespace, world.team_id, "live-lost"))
    now = datetime.now(UTC)
    assert merge_stale(world.deps, now=now) == 0  # not waiting long enough yet
    later = now + timedelta(minutes=2)
    assert merge_stale(world.deps, now=later) == 1
    assert merge_stale(world.deps, now=later) == 0  # asked once a minute, not every tick
    world.start_worker()
    world.broker.join("ingest", timeout=30_000)
    world.worker.join()
    assert stored(world, "live-lost").event_count == 20
