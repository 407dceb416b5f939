"""The timeline on the synthetic scenarios: detectors at the right second, privacy, budget, collapse."""

from __future__ import annotations

import pytest

from pipeline.timeline import render_timeline
from pipeline.timeline.detect import detect_patterns
from pipeline.timeline.model import Click, Facts
from scenarios import build, names

SCENARIOS = names()


def patterns_of(name: str) -> dict[str, list[float]]:
    timeline = render_timeline(build(name).events)
    found: dict[str, list[float]] = {}
    for pattern in timeline.patterns:
        found.setdefault(pattern.kind, []).append(pattern.t)
    return found


def test_rage_clicks_fire_at_the_first_click_of_the_burst_on_pay():
    scenario = build("checkout-js-error")
    timeline = render_timeline(scenario.events)
    rage = [p for p in timeline.patterns if p.kind == "rage_click"]
    assert len(rage) == 1
    assert rage[0].t == pytest.approx(scenario.marks["rage_click"], abs=0.05)
    assert rage[0].target == 'button.primary "Pay"'
    assert f"[t={round(scenario.marks['rage_click'])}] ⚠ rage click: 5 clicks" in timeline.text


def test_error_click_fires_on_the_pay_click_that_threw():
    scenario = build("checkout-js-error")
    error_clicks = patterns_of("checkout-js-error")["error_click"]
    assert error_clicks[0] == pytest.approx(scenario.marks["pay_click"], abs=0.05)
    assert scenario.marks["js_error"] - scenario.marks["pay_click"] <= 1.0


def test_dead_clicks_fire_on_both_clicks_of_the_disabled_button():
    scenario = build("dead-click-disabled")
    dead = patterns_of("dead-click-disabled")["dead_click"]
    assert dead == [
        pytest.approx(scenario.marks["dead_click"], abs=0.05),
        pytest.approx(scenario.marks["dead_click_2"], abs=0.05),
    ]
    assert "(disabled)" in render_timeline(scenario.events).text


def test_u_turn_fires_when_the_visitor_goes_straight_back():
    scenario = build("u-turn")
    found = patterns_of("u-turn")
    assert found["u_turn"] == [pytest.approx(scenario.marks["u_turn"], abs=0.05)]
    assert set(found) == {"u_turn"}


@pytest.mark.parametrize("name", ["smooth-signup", "mobile-scroll"])
def test_calm_sessions_raise_no_frustration(name):
    assert patterns_of(name) == {}


def test_triple_click_that_selects_text_is_not_rage():
    scenario = build("smooth-signup")
    timeline = render_timeline(scenario.events)
    near = [m for m in timeline.moments if abs(m.t - scenario.marks["text_selection"]) < 2]
    assert any(m.kind == "select" for m in near)
    assert not timeline.patterns


def test_three_quick_clicks_on_a_button_without_selection_are_rage():
    """The same shape as a triple-click, on a button and with no selection: rage."""
    clicks = [Click(t, 100, 100, None, 'button "Go"', True, False) for t in (1.0, 1.2, 1.4)]
    kinds = [p.kind for p in detect_patterns(Facts(clicks=clicks, double_clicks=[1.2]))]
    assert "rage_click" in kinds


@pytest.mark.parametrize(
    "clicks",
    [
        [(1.0, 100), (1.6, 100), (2.2, 100)],  # three clicks, but never three within 1 s
        [(1.0, 100), (1.2, 140), (1.4, 180)],  # fast, but 40 px apart each
    ],
)
def test_clicks_that_are_slow_or_spread_are_not_rage(clicks):
    facts = Facts(clicks=[Click(t, x, 100, None, 'a "Next"', True, False) for t, x in clicks])
    facts.mutations[None] = [t + 0.1 for t, _ in clicks]
    assert detect_patterns(facts) == []


@pytest.mark.parametrize("name", SCENARIOS)
def test_no_personal_data_from_a_scenario_reaches_its_timeline(name):
    scenario = build(name)
    text = render_timeline(scenario.events).text
    for secret in scenario.pii:
        assert secret not in text
        assert secret.replace(" ", "") not in text.replace(" ", "")


def test_personal_data_shown_on_the_page_is_replaced_and_counted():
    timeline = render_timeline(build("form-email").events)
    assert "page shows 'Thanks! We will reply to [email] within a day.'" in timeline.text
    assert timeline.manifest == {"email": 1}


def test_typed_fields_are_named_and_masked():
    text = render_timeline(build("checkout-js-error").events).text
    assert 'type into input[type=email]#email "Email" [masked]' in text
    assert 'type into input[type=text]#card "Card number" [masked]' in text


def test_mobile_scroll_is_mobile_with_scrolls_and_no_clicks():
    timeline = render_timeline(build("mobile-scroll").events)
    assert "mobile 390×844" in timeline.text
    assert sum(m.kind == "scroll" for m in timeline.moments) >= 5
    assert not any(m.kind == "click" for m in timeline.moments)


def test_a_small_budget_elides_low_value_lines_out_loud_and_keeps_the_essentials():
    events = build("checkout-js-error").events
    full = render_timeline(events)
    small = render_timeline(events, budget_tokens=200)
    assert small.token_estimate <= 200
    assert small.elided > 0
    assert "[elided to fit the 200-token budget:" in small.text
    assert "navigate to /checkout" in small.text
    assert full.elided == 0 and "elided" not in full.text


def test_a_budget_too_small_for_the_essentials_truncates_and_says_so():
    small = render_timeline(build("checkout-js-error").events, budget_tokens=60)
    assert "the last" in small.text and "lines" in small.text
    assert small.token_estimate <= 80


def test_repeated_identical_moments_collapse_with_a_count():
    text = render_timeline(build("dead-click-disabled").events).text
    assert 'click button.primary "Save changes" (disabled) ×2 (until t=12)' in text


def test_malformed_events_are_skipped_and_reported():
    events = build("u-turn").events[:40]
    bad_mutation = {"type": 3, "timestamp": events[-1]["timestamp"] + 5, "data": {"source": 0, "adds": 7}}
    broken = [*events, bad_mutation]
    timeline = render_timeline(broken)
    assert "1 malformed events were skipped" in timeline.text


def test_rendering_is_deterministic():
    events = build("checkout-js-error").events
    assert render_timeline(events).text == render_timeline(events).text


def test_a_click_that_throws_each_time_collapses_as_a_pair():
    text = render_timeline(build("checkout-js-error").events).text
    assert 'click button.primary "Pay"; then console error: TypeError: Cannot read properties' in text
