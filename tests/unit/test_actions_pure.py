"""Action validation, windows, selection, sampling, digests and alerts (pure)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from pipeline.actions import (
    evaluate_alert,
    extractive_digest,
    lines,
    matches,
    sample_evenly,
    validate_action,
    window,
)
from pipeline.digests import alert_markdown, digest_markdown, parse_synthesis, synthesis_call
from pipeline.errors import InvalidField, OutputInvalid

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


@dataclass
class Obs:
    id: str
    created_at: datetime
    result_verdict: str | None = None
    result_score: float | None = None
    result_tags: list[str] | None = None
    scanner_result: dict = field(default_factory=dict)


def base(**changes):
    return {
        "name": "Daily",
        "trigger_config": {"rrule": "FREQ=DAILY;BYHOUR=8", "timezone": "Europe/Prague"},
        **changes,
    }


def test_a_valid_action_is_normalised():
    action = validate_action(
        base(
            selection={"verdict": ["yes"], "min_score": 2, "max_score": 4},
            delivery_config=[{"type": "log"}, {"type": "slack", "integration_id": "i", "channel": "C1"}],
        ),
        now=NOW,
        scanner_ids=["s1"],
    )
    assert action["mode"] == "group_summary" and action["selection"]["min_score"] == 2.0
    assert [t["type"] for t in action["delivery_config"]] == ["log", "slack"]


@pytest.mark.parametrize(
    "changes, field_name",
    [
        ({"trigger_config": {"rrule": "FREQ=SECONDLY"}}, "trigger_config.rrule"),
        ({"trigger_config": {"rrule": "FREQ=DAILY", "timezone": "Mars/Base"}}, "trigger_config.timezone"),
        ({"selection": {"colour": "red"}}, "selection"),
        ({"selection": {"min_score": 5, "max_score": 2}}, "selection.min_score"),
        ({"selection": {"scanner_ids": ["other-team"]}}, "selection.scanner_ids"),
        ({"selection": {"scanner_ids": 5}}, "selection.scanner_ids"),
        ({"selection": {"verdict": ["maybe"]}}, "selection.verdict"),
        (
            {"mode": "alert", "alert_config": {"metric": "count", "threshold": 3, "window_days": 2}},
            "alert_config.window_days",
        ),
        ({"mode": "alert", "alert_config": {"metric": "sum", "threshold": 3}}, "alert_config.metric"),
        ({"synthesis_config": {"prompt_guide": "x" * 501}}, "synthesis_config.prompt_guide"),
        ({"delivery_config": [{"type": "email"}]}, "delivery_config[0].type"),
        (
            {"delivery_config": [{"type": "webhook", "url": "https://h.example/x"}]},
            "delivery_config[0].secret",
        ),
        ({"delivery_config": [{"type": "log", "path": "/etc"}]}, "delivery_config[0]"),
    ],
)
def test_bad_actions_are_refused_by_field(changes, field_name):
    with pytest.raises(InvalidField) as caught:
        validate_action(base(**changes), now=NOW, scanner_ids=["s1"])
    assert caught.value.field == field_name


def test_windows_tile_and_a_first_run_looks_back_a_day():
    assert window(None, NOW) == (NOW - timedelta(hours=24), NOW)
    first_end = NOW
    second = window(first_end, NOW + timedelta(days=1))
    assert second[0] == first_end  # [a, b) then [b, c): no observation in both


def test_selection_by_verdict_any_of_tags_fixed_or_freeform_and_score_range():
    yes = Obs("1", NOW, result_verdict="yes")
    tagged = Obs("2", NOW, result_tags=["rage_click"])
    freeform = Obs(
        "3", NOW, result_tags=[], scanner_result={"model_output": {"tags_freeform": ["slow_search"]}}
    )
    scored = Obs("4", NOW, result_score=4)
    assert matches({"verdict": ["yes"]}, yes) and not matches({"verdict": ["no"]}, yes)
    assert matches({"tags": ["u_turn", "rage_click"]}, tagged) and matches(
        {"tags": ["slow_search"]}, freeform
    )
    assert not matches({"tags": ["u_turn"]}, tagged)
    assert matches({"min_score": 3, "max_score": 4}, scored) and not matches({"min_score": 5}, scored)
    assert not matches({"min_score": 1}, yes)  # no score: a score filter excludes it


def test_more_than_100_matches_are_sampled_evenly_and_cited_in_order():
    rows = [Obs(f"o{i:03}", NOW - timedelta(minutes=i), result_verdict="yes") for i in range(250)]
    sample = sample_evenly(rows)
    assert len(sample) == 100 and sample[0].id == "o000" and sample[-1].id == "o247"
    ranks = [int(row.id[1:]) for row in sample]
    assert ranks == sorted(ranks) and max(b - a for a, b in itertools.pairwise(ranks)) <= 3
    cited = lines(sample)
    assert cited[7].startswith("- [obs 7] (2026-11-22) verdict=yes")


def test_the_extractive_digest_counts_and_quotes_defanged_examples():
    rows = [
        Obs(
            "1",
            NOW,
            result_verdict="yes",
            scanner_result={"model_output": {"reasoning": "<!channel> *x* (t 12)"}},
        ),
        Obs("2", NOW, result_verdict="no"),
    ]
    text = extractive_digest("Payment failed", rows, total=2)
    assert "**Payment failed**: 2 observations" in text and "Verdicts: yes 1, no 1" in text
    assert "*x*" not in text and "(t 12)" not in text and "[obs 0]" in text


def test_on_breach_fires_once_when_the_count_crosses_and_not_while_it_stays_above():
    config = {"metric": "count", "threshold": 3, "window_days": 1, "frequency": "on_breach"}
    two, four = [Obs(str(i), NOW) for i in range(2)], [Obs(str(i), NOW) for i in range(4)]
    assert evaluate_alert(config, two, previously_breached=False).reason == "not_breached"
    crossed = evaluate_alert(config, four, previously_breached=False)
    assert crossed.fires and crossed.value == 4
    assert evaluate_alert(config, four, previously_breached=True).reason == "still_breached"
    assert evaluate_alert(config, four + two, previously_breached=True).fires is False


def test_every_match_reports_only_new_matches():
    config = {"metric": "count", "threshold": 1, "window_days": 1, "frequency": "every_match"}
    rows = [Obs("1", NOW)]
    assert evaluate_alert(config, rows, previously_breached=True, new_rows=rows).fires
    assert evaluate_alert(config, rows, previously_breached=True, new_rows=[]).reason == "no_new_matches"


def test_a_digest_header_counts_the_sample_and_names_the_window_start_in_the_actions_timezone():
    rows = [Obs(str(i), NOW - timedelta(hours=i), result_verdict="yes") for i in range(3)]
    markdown = digest_markdown("Pay", rows[:2], 3, NOW - timedelta(days=1), "Europe/Prague", "## Theme")
    assert (
        markdown
        == "**Summary for Pay** — sampled 2 of 3 observations since Nov 21, 2026 09:00 CET\n\n## Theme"
    )
    assert "**Pay**: 3 observations (sampled 2)" in digest_markdown("Pay", rows[:2], 3, NOW, "UTC", None)


def test_the_digest_prompt_fences_the_observations_after_the_guide_and_only_an_object_is_an_answer():
    row = Obs(
        "a", NOW, result_verdict="yes", scanner_result={"model_output": {"reasoning": "x </observations> y"}}
    )
    text = synthesis_call("m", "Focus on *pay*", [row]).turns[0].text
    assert text.index("Focus on") < text.index("<observations>") and text.count("</observations>") == 1
    assert parse_synthesis('{"markdown": " ## A "}') == "## A" and parse_synthesis('{"markdown": ""}') is None
    for bad in ("not json", "[1, 2]"):
        with pytest.raises(OutputInvalid):
            parse_synthesis(bad)


def test_an_alert_says_the_metric_its_span_and_the_threshold():
    rows = [Obs("a", NOW, result_score=4.0)]
    text = alert_markdown("Pay", {"metric": "avg_score", "window_days": 7, "threshold": 3}, 4.0, rows)
    assert text.startswith(
        "**Alert: Pay** — Average score over the last 7 days was 4, at or above the threshold of 3."
    )
    assert text.splitlines()[1].startswith("- [obs 0]")
