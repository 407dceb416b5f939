"""`sightline timeline` and text_repr's `$session_recording` show what a Gemini scanner reads: the
timeline, then the console errors' stacks de-minified with the team's source maps (the one rule,
`services.symbol_sets.prompt_stack_traces`). A frame whose map is not uploaded yet stays minified and
says why; after the upload it shows the original file, line, function and line of source. A team
without source maps, or a recording without console errors, reads the timeline unchanged."""

from __future__ import annotations

import pytest

from integrations.fake_gemini import FakeReply
from services import recordings
from services.recordings import store_events
from tests.integration import test_source_maps as maps

pytestmark = pytest.mark.db
bundle = maps.bundle  # the terser-built bundle, its map and the stack of the error it throws
VENDOR = "https://shop.example/static/vendor.min.js"
SECTION = "\n\nWhere the console errors were thrown (de-minified with the team's source maps):\n"
MINIFIED = f"at r ({maps.URL}:1:45) [minified: no source map uploaded for {maps.URL}]"
THROWN = '    at lineTotal (src/cart.js:3:11): throw new Error("price missing for " + item.sku);'
CALLED = "    at checkoutTotal (src/checkout.js:4:14): total += lineTotal(item);"


def represent(api, session_id: str, **options) -> dict:
    response = api.post(
        f"/api/environments/{api.team_id}/llm_analytics/text_repr",
        json={"event_type": "$session_recording", "data": {"session_id": session_id}, "options": options},
    )
    assert response.status_code == 200, response.text
    return response.json()


def printed(sightline, world, session_id: str) -> str:
    done = sightline("timeline", session_id, "--team", str(world.team_id))
    assert done.exit_code == 0, done.output
    return done.stdout


def plain_timeline(world, session_id: str) -> str:
    return recordings.timeline(world.deps, world.team_id, session_id).text


def checkout_with_the_crash(world, bundle: dict[str, str]) -> list[dict]:
    """The checkout scenario with the bundle's console error 12 s in (long enough for a small budget)."""
    checkout = world.scenarios["checkout-js-error"]
    start = checkout.events[0]["timestamp"]
    crash = {**maps.recording(bundle)[-1], "timestamp": start + 12_000}
    return sorted([*checkout.events, crash], key=lambda event: event["timestamp"])


def test_the_timeline_shows_the_minified_frame_and_why_before_its_map_is_uploaded_and_the_original_after(
    world, api, sightline, bundle
):
    # The team uses source maps (another bundle's), not yet this bundle's.
    maps.upload(api, VENDOR, bundle["map"].encode())
    store_events(world.deps, world.team_id, "checkout-crash", maps.recording(bundle))
    timeline = plain_timeline(world, "checkout-crash")

    before = represent(api, "checkout-crash")
    assert before["text"] + "\n" == printed(sightline, world, "checkout-crash")
    assert before["text"].startswith(timeline + SECTION)
    assert "[t=12] console error: Error: price missing for B" in before["text"]
    assert MINIFIED in before["text"]
    assert "src/cart.js" not in before["text"]

    maps.upload(api, maps.URL, maps.js_data(bundle["code"], bundle["map"]))

    after = represent(api, "checkout-crash")
    assert after["text"] + "\n" == printed(sightline, world, "checkout-crash")
    section = after["text"].removeprefix(timeline + SECTION).splitlines()
    assert section[0] == "[t=12] console error: Error: price missing for B"
    assert section[1:3] == [THROWN, CALLED]
    assert "[minified:" not in after["text"]
    assert after["metadata"]["char_count"] == len(after["text"])
    assert after["metadata"]["truncated"] is False


def test_a_team_without_source_maps_sees_the_timeline_its_scanners_read_unchanged(
    world, api, sightline, bundle
):
    store_events(world.deps, world.team_id, "checkout-crash", maps.recording(bundle))

    text = represent(api, "checkout-crash")["text"]

    assert text == plain_timeline(world, "checkout-crash")
    assert text + "\n" == printed(sightline, world, "checkout-crash")
    assert "Where the console errors were thrown" not in text


def test_a_recording_without_console_errors_is_unchanged_when_the_team_uses_source_maps(
    world, api, sightline, bundle
):
    maps.upload(api, maps.URL, bundle["map"].encode())
    session_id = world.scenarios["smooth-signup"].session_id  # no console errors

    text = represent(api, session_id)["text"]

    assert text == plain_timeline(world, session_id)
    assert text + "\n" == printed(sightline, world, session_id)


def test_the_budget_cuts_the_timeline_and_never_the_stacks_and_char_count_counts_them(world, api, bundle):
    maps.upload(api, maps.URL, maps.js_data(bundle["code"], bundle["map"]))
    store_events(world.deps, world.team_id, "long-crash", checkout_with_the_crash(world, bundle))

    for rendering in ("detailed", "compact"):
        body = represent(api, "long-crash", budget=200, rendering=rendering)
        text, metadata = body["text"], body["metadata"]
        timeline, _, section = text.partition(SECTION)
        assert metadata["truncated"] is True, rendering
        assert "elided to fit the 200-token budget" in timeline
        assert section.splitlines()[1:3] == [THROWN, CALLED], rendering
        assert metadata["char_count"] == len(text)


def test_the_stacks_after_the_timeline_are_exactly_what_a_gemini_scanner_reads(world, api, sightline, bundle):
    maps.upload(api, maps.URL, maps.js_data(bundle["code"], bundle["map"]))
    store_events(world.deps, world.team_id, "long-crash", checkout_with_the_crash(world, bundle))
    world.fake.script(FakeReply.json({"reasoning": "Pay threw (t 12).", "verdict": "yes", "confidence": 0.9}))
    scanner = world.scanner(scanner_type="monitor", scanner_config={"prompt": "Did the payment fail?"})

    [observation] = world.observe(scanner, "long-crash")

    assert observation.status == "succeeded", observation.error_reason
    shown = printed(sightline, world, "long-crash").removesuffix("\n")
    section = shown[shown.index(SECTION) :]
    (asked,) = world.fake.generate_requests()
    assert section in asked.text()
    assert THROWN in section
