"""Symbol sets listed (paginated, newest first), retrieved and deleted through the API, team-scoped:
another team's set is a 404 whatever the call; a deleted set's file leaves the blob store and its
frames show minified again."""

from __future__ import annotations

import pytest
from sqlmodel import select

from models import TeamMembership, User
from services import symbol_sets
from services.recordings import store_events
from tests.integration import test_source_maps as maps
from tests.integration.api_support import api_for, other_team_key

pytestmark = pytest.mark.db
bundle = maps.bundle  # the terser-built bundle, its map and the stack of the error it throws


def test_sets_are_listed_newest_first_page_by_page_and_retrieved(world, api, bundle):
    base = f"/api/environments/{api.team_id}/error_tracking/symbol_sets"
    finished = maps.upload(api, maps.URL, bundle["map"].encode(), content_hash="h-map")
    started = [
        symbol_sets.start_upload(world.deps, world.team_id, symbol_sets.Upload(f"chunk-{n}", "v2"))
        for n in range(2)
    ]

    first = api.get(base, params={"limit": 2})
    second = api.get(first.json()["next"])

    assert first.status_code == 200 and first.json()["count"] == 3
    assert first.json()["previous"] is None and second.json()["next"] is None
    listed = [item["id"] for item in first.json()["results"] + second.json()["results"]]
    assert listed == [str(started[1].symbol_set_id), str(started[0].symbol_set_id), finished]
    one = api.get(f"{base}/{finished}").json()
    assert one["ref"] == maps.URL and one["content_hash"] == "h-map" and one["failure_reason"] is None
    assert one["storage_ptr"] and world.deps.blobs.exists(one["storage_ptr"])
    pending = api.get(f"{base}/{started[0].symbol_set_id}").json()
    assert (pending["release_id"], pending["storage_ptr"], pending["content_hash"]) == ("v2", None, None)


def test_deleting_a_set_removes_its_file_and_its_frames_show_minified_again(world, api, bundle):
    base = f"/api/environments/{api.team_id}/error_tracking/symbol_sets"
    store_events(world.deps, world.team_id, "checkout-crash", maps.recording(bundle))
    set_id = maps.upload(api, maps.URL, maps.js_data(bundle["code"], bundle["map"]))
    stored = api.get(f"{base}/{set_id}").json()["storage_ptr"]
    assert "src/cart.js" in symbol_sets.stack_trace_text(world.deps, world.team_id, "checkout-crash")

    deleted = api.delete(f"{base}/{set_id}")

    assert deleted.status_code == 204
    assert not world.deps.blobs.exists(stored)
    assert api.get(f"{base}/{set_id}").status_code == 404
    assert api.delete(f"{base}/{set_id}").status_code == 404
    assert api.get(base).json()["count"] == 0
    again = symbol_sets.stack_trace_text(world.deps, world.team_id, "checkout-crash")
    assert f"[minified: no source map uploaded for {maps.URL}]" in again and "src/cart.js" not in again


def test_another_team_s_set_is_not_found_listed_or_deleted(world, api, bundle):
    set_id = maps.upload(api, maps.URL, bundle["map"].encode())
    stranger = api_for(world).client
    key = other_team_key(world)
    with world.deps.read() as session:
        team = (
            session.exec(select(TeamMembership).join(User).where(User.email.like("stranger-%")))
            .first()
            .team_id
        )
    headers = {"Authorization": f"Bearer {key}"}
    theirs = f"/api/environments/{team}/error_tracking/symbol_sets"

    assert stranger.get(theirs, headers=headers).json()["count"] == 0
    assert stranger.get(f"{theirs}/{set_id}", headers=headers).status_code == 404
    assert stranger.delete(f"{theirs}/{set_id}", headers=headers).status_code == 404
    assert api.get(f"/api/environments/{api.team_id}/error_tracking/symbol_sets/{set_id}").status_code == 200
