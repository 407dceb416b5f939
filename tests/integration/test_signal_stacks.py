"""A signal carries the stacks of the console errors its finding cites: minified, saying why, before the
team's source map is uploaded; the original file, line and function after (read when shown, with the
same de-minifying as log explanations). The report page shows them under the signal."""

from __future__ import annotations

import httpx
import pytest

from api.app import create_app
from models import Signal
from services.auth import create_user
from services.recordings import store_events
from services.reports import report_detail
from services.signals import group_signals, signal_stack_traces
from tests.integration import test_source_maps as maps
from tests.support.browser import served, sign_in

pytestmark = pytest.mark.db
bundle = maps.bundle  # the terser-built bundle, its map and the stack of the error it throws
PASSWORD = "correct horse battery"


def checkout_throwing_from_the_bundle(world, bundle: dict[str, str]) -> list[dict]:
    """The checkout scenario (Pay clicked again and again, each click a console error) with every
    console error's trace replaced by the minified bundle's frames."""
    trace = [
        line.strip().removeprefix("at ") for line in bundle["stack"].splitlines()[1:] if maps.URL in line
    ]
    events = []
    for event in world.scenarios["checkout-js-error"].events:
        data = event.get("data") or {}
        if event.get("type") == 6 and data.get("plugin") == "rrweb/console@1":
            event = {**event, "data": {**data, "payload": {**data["payload"], "trace": trace}}}
        events.append(event)
    return events


def signals_of_checkout(world, bundle: dict[str, str]) -> list[Signal]:
    """The signals of a heuristic observation of that checkout (rage clicks, an error click, …)."""
    events = checkout_throwing_from_the_bundle(world, bundle)
    store_events(world.deps, world.team_id, "minified-checkout", events)
    scanner = world.scanner(
        scanner_type="monitor",
        provider="heuristic",
        emits_signals=True,
        scanner_config={"prompt": "Any frustration?", "rule": "any_frustration"},
    )
    [row] = world.observe(scanner, "minified-checkout")
    assert str(row.status) == "succeeded", row.error_reason
    return [s for s in world.signals() if (s.extra or {}).get("session_id") == "minified-checkout"]


def test_a_signal_shows_the_minified_frame_and_why_before_the_map_and_the_original_after(world, api, bundle):
    signals = signals_of_checkout(world, bundle)
    error_click = next(s for s in signals if s.description.startswith("Error after clicking"))

    before = signal_stack_traces(world.deps, world.team_id, signals)[error_click.id]
    assert "console error: TypeError: Cannot read properties of undefined" in before
    assert f"at r ({maps.URL}:1:45) [minified: no source map uploaded for {maps.URL}]" in before
    assert "src/cart.js" not in before

    maps.upload(api, maps.URL, maps.js_data(bundle["code"], bundle["map"]))

    after = signal_stack_traces(world.deps, world.team_id, signals)[error_click.id]
    lines = after.splitlines()
    assert (
        lines[1] == '    at lineTotal (src/cart.js:3:11): throw new Error("price missing for " + item.sku);'
    )
    assert lines[2] == "    at checkoutTotal (src/checkout.js:4:14): total += lineTotal(item);"
    assert len(lines) == 4  # the error, then the top three frames of its stack
    assert "minified" not in after
    assert after.count("console error:") == 1  # the same error repeated is shown once


def test_a_signal_citing_no_console_error_carries_no_stack(world, bundle):
    signals = signals_of_checkout(world, bundle)
    quiet = Signal(team_id=world.team_id, source_product="p", source_type="t", source_id="x", description="d")
    quiet.extra = {"session_id": "minified-checkout", "start_time": 2, "end_time": 3}
    gone = Signal(team_id=world.team_id, source_product="p", source_type="t", source_id="y", description="d")
    gone.extra = {"session_id": "no-such-recording", "start_time": 24, "end_time": 28}

    shown = signal_stack_traces(world.deps, world.team_id, [*signals, quiet, gone])

    assert quiet.id not in shown and gone.id not in shown
    assert any(signal.id in shown for signal in signals)


def test_the_report_page_shows_a_signal_s_stack_de_minified(world, api, bundle):
    signals_of_checkout(world, bundle)
    maps.upload(api, maps.URL, maps.js_data(bundle["code"], bundle["map"]))
    group_signals(world.deps, world.team_id)
    [error_click] = [s for s in world.signals() if s.description.startswith("Error after clicking")]
    shown = report_detail(world.deps, world.team_id, str(error_click.report_id)).signals
    assert error_click.id in {signal.id for signal in shown}
    create_user(world.deps, "ada@example.com", password=PASSWORD)

    with served(create_app(world.deps)) as base, httpx.Client(base_url=base) as ada:
        sign_in(ada, "ada@example.com", PASSWORD)
        page = ada.get(f"/reports/{error_click.report_id}?team={world.team_id}")

    assert page.status_code == 200
    assert '<pre class="stack">' in page.text
    assert (
        "at lineTotal (src/cart.js:3:11): throw new Error(&#34;price missing for &#34; + item.sku);"
        in page.text
    )
