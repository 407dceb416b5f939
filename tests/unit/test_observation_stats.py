"""The observation stats arithmetic (the reference's `observations/stats` formulas)."""

from __future__ import annotations

from pipeline.observation_stats import (
    classifier_section,
    histogram,
    percentile,
    recent_days,
    scorer_section,
    status_section,
)


def test_a_one_to_five_scale_has_one_bucket_per_score():
    assert histogram([1.0, 2.4, 2.5, 5.0], {"min": 1, "max": 5}) == {
        "labels": ["1", "2", "3", "4", "5"],
        "counts": [1, 1, 1, 0, 1],
    }


def test_a_hundred_point_scale_has_21_buckets_of_five_and_the_last_holds_only_100():
    result = histogram([0.0, 4.4, 4.5, 99.0, 100.0], {"min": 0, "max": 100})
    assert len(result["labels"]) == 21 and result["labels"][:2] == ["0–4", "5–9"]
    assert result["labels"][-1] == "100–100"
    assert result["counts"][0] == 2 and result["counts"][1] == 1 and result["counts"][-2:] == [1, 1]


def test_without_a_scale_the_histogram_spans_the_observed_scores():
    assert histogram([2.0, 3.0], {})["labels"] == ["2", "3"]


def test_percentiles_interpolate_between_neighbours():
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.25) == 1.75
    assert percentile([7.0], 0.75) == 7.0


def test_no_scores_leave_the_summary_and_histogram_empty():
    assert scorer_section([], {"min": 1, "max": 5}) == {"summary": None, "histogram": None}


def test_the_success_rate_ignores_ineligible_and_is_none_without_decided_rows():
    section = status_section({"succeeded": 3, "failed": 1, "ineligible": 5, "pending": 2})
    assert section["success_rate"] == 75 and section["in_flight"] == 2 and section["total"] == 11
    assert status_section({"ineligible": 2})["success_rate"] is None


def test_freeform_tags_are_ranked_apart_from_the_fixed_ones():
    section, seen = classifier_section([(["slow", "odd_font"], ["odd_font"]), (["slow"], []), ([], [])])
    assert section["fixed_ranked"] == [{"tag": "slow", "count": 2}]
    assert section["freeform_ranked"] == [{"tag": "odd_font", "count": 1}]
    assert section["total_with_tags"] == 2 and seen == ["odd_font", "slow"]


def test_recent_days_default_to_14_within_1_to_365():
    assert (recent_days(None), recent_days(0), recent_days(30), recent_days(1000)) == (14, 1, 30, 365)
