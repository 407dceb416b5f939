"""The scouts' detectors on synthetic sessions built for each, and quiet on sessions without the pattern."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline import scout_detectors as d
from pipeline import scouts as rules
from pipeline.errors import InvalidField

NOW = datetime(2025, 3, 10, 12, tzinfo=UTC)


def session(n: int, *events: d.Event, user: str | None = None, days_ago: float = 0.1, duration: float = 60.0):
    start = NOW - timedelta(days=days_ago)
    return d.SessionDigest(f"s{n}", user or f"u{n}", start, duration, tuple(events))


def error(t: float = 5.0, page: str = "/checkout", text: str = "TypeError: pay is undefined") -> d.Event:
    return d.Event(t, "console_error", page, text)


def test_an_error_on_many_sessions_today_is_a_spike_with_its_evidence():
    sessions = [session(n, error()) for n in range(4)]

    (found,) = d.error_spikes(sessions, NOW)

    assert (found.count, found.sessions, found.distinct_users, found.baseline_daily) == (4, 4, 4, 0.0)
    assert found.page == "/checkout" and found.extra["message"] == "TypeError: pay is undefined"
    assert [e["session_id"] for e in found.examples] == ["s0", "s1", "s2"] and found.examples[0]["t"] == 5.0
    assert "4 times in 4 sessions by 4 distinct users" in d.wording("signals-scout-error-spikes", found)


def test_an_error_as_common_as_every_day_of_the_last_week_is_no_spike():
    today = [session(n, error()) for n in range(4)]
    week = [session(100 + n, error(), days_ago=1 + n / 4) for n in range(28)]  # 4 a day for 7 days

    assert d.error_spikes(today + week, NOW) == []
    assert d.error_spikes([session(n) for n in range(5)], NOW) == []


def test_an_element_frustrating_three_distinct_users_is_a_hotspot_but_one_user_thrice_is_not():
    rage = d.Event(3.0, "rage_click", "/pricing", "rage click on button 'Buy'", "button 'Buy'")
    many = [session(n, rage) for n in range(3)]
    one_user = [session(n, rage, user="same") for n in range(3)]

    (found,) = d.frustration_hotspots(many, NOW)
    assert found.extra["element"] == "button 'Buy'" and found.distinct_users == 3
    assert d.frustration_hotspots(one_user, NOW) == []


def test_sessions_ending_seconds_after_friction_are_drop_offs_by_page():
    dead = d.Event(55.0, "dead_click", "/signup", "dead click on 'Next'", "'Next'")
    ended = [session(n, dead, duration=58.0) for n in range(3)]
    stayed = [session(10 + n, dead, duration=300.0) for n in range(5)]

    (found,) = d.friction_drop_offs(ended + stayed, NOW)
    assert (found.key, found.sessions) == ("/signup", 3)
    assert d.friction_drop_offs(stayed, NOW) == []


def test_typing_into_a_form_then_leaving_without_a_click_is_abandonment():
    typed = d.Event(10.0, "input", "/contact", "type into 'Message'")
    left = d.Event(20.0, "navigate", "/home", "navigate to /home")
    submitted = [typed, d.Event(15.0, "click", "/contact", "click 'Send'"), left]
    abandoned = [session(n, typed, left) for n in range(3)]

    (found,) = d.form_abandonment(abandoned, NOW)
    assert found.key == "/contact" and found.examples[0]["moment"] == "type into 'Message'"
    assert d.form_abandonment([session(n, *submitted) for n in range(3)], NOW) == []


def test_a_custom_scout_counts_its_metric_by_its_key_over_its_threshold():
    definition = rules.check_custom(
        {"name": "signals-scout-u-turns", "metric": "pattern:u_turn", "group_by": "page", "threshold": 2},
        "scouts[0]",
    )["definition"]
    turn = d.Event(4.0, "u_turn", "/docs", "u-turn", "link 'API'")

    (found,) = d.detect("signals-scout-u-turns", definition, [session(1, turn), session(2, turn)], NOW)
    assert found.key == "/docs" and found.sessions == 2
    assert d.detect("signals-scout-u-turns", definition, [session(1, turn)], NOW) == []


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        (
            {"name": "pricing-rage", "metric": "pattern:rage_click", "group_by": "page", "threshold": 3},
            "name",
        ),
        ({"name": "signals-scout-x", "metric": "pattern:nope", "group_by": "page", "threshold": 3}, "metric"),
        (
            {"name": "signals-scout-x", "metric": "pattern:rage_click", "group_by": "user", "threshold": 3},
            "group_by",
        ),
        (
            {"name": "signals-scout-x", "metric": "pattern:rage_click", "group_by": "page", "threshold": 0},
            "threshold",
        ),
        (
            {
                "name": "signals-scout-x",
                "metric": "pattern:rage_click",
                "group_by": "page",
                "threshold": 3,
                "baseline": "monthly",
            },
            "baseline",
        ),
    ],
)
def test_an_invalid_custom_scout_is_refused_naming_its_field(entry, field):
    with pytest.raises(InvalidField) as raised:
        rules.check_custom(entry, "scouts[0]")
    assert raised.value.field == f"scouts[0].{field}"


def test_runs_past_the_tick_or_the_day_cap_are_refused():
    assert rules.runs_allowed(rules.Limits(5, 200, 0), 8) == 5
    assert rules.runs_allowed(rules.Limits(5, 200, 198), 8) == 2
    assert rules.runs_allowed(rules.Limits(5, 200, 200), 8) == 0


def test_a_scout_is_due_once_per_slot_of_its_interval():
    slot = rules.due_at(None, 60, NOW + timedelta(minutes=7))
    assert slot == NOW
    assert rules.due_at(NOW + timedelta(minutes=7), 60, NOW + timedelta(minutes=30)) is None
    assert rules.due_at(NOW + timedelta(minutes=7), 60, NOW + timedelta(minutes=61)) == NOW + timedelta(
        hours=1
    )


def test_a_findings_signal_dedupes_per_period_and_groups_by_its_key():
    found = d.error_spikes([session(n, error()) for n in range(3)], NOW)[0]
    row = d.signal_row("signals-scout-error-spikes", found, "2025-03-10", "text", "scouts")
    again = d.signal_row("signals-scout-error-spikes", found, "2025-03-11", "text", "scouts")
    assert row["source_id"].startswith("scout:signals-scout-error-spikes:2025-03-10:")
    assert row["source_id"] != again["source_id"] and row["fingerprint"] == again["fingerprint"]
