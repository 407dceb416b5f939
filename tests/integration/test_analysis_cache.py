"""A recording's analysis is rendered once per version and budget and shared by its scanners: kept in
memory and beside its blob, replaced when more events arrive, ignored when stale or unreadable,
and deleted with the recording (folder and S3)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest

from models.queries import get_recording
from pipeline.errors import BlobStoreUnavailable
from pipeline.timeline import Timeline, render_timeline
from pipeline.timeline.codec import decode_timeline, encode_timeline
from scenarios import build
from services.analysis_cache import ANALYSES, AnalysisCache, analysis_key, analysis_ref, recording_timeline
from services.recordings import store_events, stored_timeline
from services.retention import apply_retention, delete_recordings

pytestmark = pytest.mark.db
CHECKOUT = "scenario-checkout-js-error"
RULES = ("rage_click", "dead_click", "u_turn", "any_frustration")


@pytest.fixture(params=["folder", "s3"])
def world(request, sightline_home, database_url, monkeypatch):
    from tests.support.world import build_world, close_world

    env = request.getfixturevalue("s3_env") if request.param == "s3" else {}
    built = build_world(monkeypatch, database_url, **env)
    ANALYSES.clear()
    yield built
    close_world(built)


def four_scanners(world):
    return [
        world.scanner(
            scanner_type="monitor", provider="heuristic", scanner_config={"prompt": "p", "rule": rule}
        )
        for rule in RULES
    ]


def row(world, session_id: str = CHECKOUT):
    with world.deps.read() as session:
        return get_recording(session, world.team_id, session_id)


def stored(world, session_id: str = CHECKOUT) -> Timeline | None:
    recording = row(world, session_id)
    data = world.deps.blobs.get(analysis_ref(recording.blob_ref))
    return decode_timeline(data, analysis_key(recording, world.settings.timeline_budget_tokens))


def test_four_scanners_of_one_recording_share_one_render_kept_beside_its_blob(world):
    for scanner in four_scanners(world):
        [observation] = world.observe(scanner, CHECKOUT)
        assert observation.status == "succeeded", observation.error_reason
    assert (ANALYSES.counts["rendered"], ANALYSES.counts["memory"]) == (1, 3)
    budget = world.settings.timeline_budget_tokens
    assert stored(world) == stored_timeline(world.deps.blobs, row(world), budget_tokens=budget)


def test_another_process_reads_the_stored_analysis_instead_of_rendering(world):
    first, second = four_scanners(world)[:2]
    world.observe(first, CHECKOUT)
    ANALYSES.clear()  # as a second worker process would start: nothing in memory
    [observation] = world.observe(second, CHECKOUT)
    assert observation.status == "succeeded"
    assert (ANALYSES.counts["stored"], ANALYSES.counts["rendered"]) == (1, 0)


def test_more_events_are_a_new_version_rendered_again_and_the_old_analysis_goes_as_an_orphan(world):
    scanners = four_scanners(world)
    world.observe(scanners[0], CHECKOUT)
    old = row(world).blob_ref
    later = build("u-turn", start_ms=int(datetime(2026, 1, 5, 1, tzinfo=UTC).timestamp() * 1000)).events
    store_events(world.deps, world.team_id, CHECKOUT, later)
    assert row(world).blob_ref != old
    world.observe(scanners[1], CHECKOUT)
    assert ANALYSES.counts["rendered"] == 2
    assert stored(world).moments[-1].t > 3000  # the hour-later events are in it
    now = datetime.now(UTC)
    apply_retention(world.deps, now=now)
    apply_retention(world.deps, now=now + timedelta(minutes=61))
    assert not world.deps.blobs.exists(analysis_ref(old))
    assert world.deps.blobs.exists(analysis_ref(row(world).blob_ref))


@pytest.mark.parametrize("replacement", ["garbage", "another-key"])
def test_an_unreadable_or_stale_stored_analysis_is_ignored_and_replaced(world, replacement):
    first, second = four_scanners(world)[:2]
    world.observe(first, CHECKOUT)
    ref = analysis_ref(row(world).blob_ref)
    timeline = stored(world)
    stale = encode_timeline(timeline, "an-older-renderer:6000:header:" + ref)
    bad = b"\x1f\x8b garbage" if replacement == "garbage" else stale
    world.deps.blobs.put(ref, bad)
    ANALYSES.clear()
    [observation] = world.observe(second, CHECKOUT)
    assert observation.status == "succeeded"
    assert (ANALYSES.counts["ignored"], ANALYSES.counts["rendered"]) == (1, 1)
    assert stored(world) == timeline


def test_another_budget_is_another_key_and_another_render(world):
    recording, cache = row(world), AnalysisCache()
    assert analysis_key(recording, 6000) != analysis_key(recording, 300)
    wide = recording_timeline(world.deps.blobs, recording, budget_tokens=6000, analyses=cache)
    narrow = recording_timeline(world.deps.blobs, recording, budget_tokens=300, analyses=cache)
    assert cache.counts["rendered"] == 2 and narrow.elided > wide.elided == 0
    assert recording_timeline(world.deps.blobs, recording, budget_tokens=300, analyses=cache) is narrow


def test_a_recording_deleted_leaves_no_analysis_behind(world):
    world.observe(four_scanners(world)[0], CHECKOUT)
    ref = row(world).blob_ref
    assert world.deps.blobs.exists(analysis_ref(ref))
    deleted = delete_recordings(world.deps, world.team_id, session_id=CHECKOUT)
    assert (deleted.recordings, deleted.blobs) == (1, 1)
    assert not world.deps.blobs.exists(ref) and not world.deps.blobs.exists(analysis_ref(ref))
    assert not [each for each in world.deps.blobs.refs(f"{world.team_id}/") if each.startswith(ref)]


def test_an_analysis_that_cannot_be_stored_does_not_fail_the_observation(world):
    failure = BlobStoreUnavailable("the store is full", world.deps.blobs.location)
    with mock.patch.object(type(world.deps.blobs), "put", side_effect=failure):
        [observation] = world.observe(four_scanners(world)[0], CHECKOUT)
    assert observation.status == "succeeded", observation.error_reason
    assert (ANALYSES.counts["rendered"], ANALYSES.counts["store_failed"]) == (1, 1)
    assert not world.deps.blobs.exists(analysis_ref(row(world).blob_ref))


def test_threads_asking_for_one_recording_at_once_render_it_once(world):
    recording, cache, renders = row(world), AnalysisCache(), []
    started = threading.Barrier(8)

    def render() -> Timeline:
        renders.append(1)
        return render_timeline(build("checkout-js-error").events)

    def ask() -> None:
        started.wait()
        cache.timeline(analysis_key(recording, 6000), world.deps.blobs, recording.blob_ref, render)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(renders) == 1 and cache.counts["memory"] == 7
