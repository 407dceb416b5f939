"""Retention's pure rules: the cut-off, the one selector of a deletion, and how losing signals
changes a report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from pipeline.errors import InvalidField
from pipeline.reports import STATUSES
from pipeline.retention import one_selector, retention_cutoff, shrink, signal_prefix

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@dataclass
class Report:
    status: str = "ready"
    total_weight: float = 1.5
    signal_count: int = 3
    title: str | None = "Rage clicks on Pay"
    summary: str | None = "3 findings in 3 sessions"
    status_before_suppression: str | None = None
    first_visible_at: datetime | None = None


def test_the_cutoff_is_the_retention_period_before_now():
    assert retention_cutoff(NOW, 90) == NOW - timedelta(days=90)


def test_an_observations_signals_share_its_prefix():
    assert signal_prefix("abc") == "observation:abc:"


@pytest.mark.parametrize(
    ("session_id", "distinct_id", "expected"),
    [("s1", None, ("session", "s1")), (None, "alice", ("distinct_id", "alice"))],
)
def test_a_deletion_names_exactly_one_selector(session_id, distinct_id, expected):
    assert one_selector(session_id, distinct_id) == expected


@pytest.mark.parametrize(
    ("session_id", "distinct_id"), [(None, None), ("s1", "alice"), ("  ", None), ("", "x")]
)
def test_no_selector_both_or_a_blank_one_is_refused(session_id, distinct_id):
    with pytest.raises(InvalidField, match="exactly one"):
        one_selector(session_id, distinct_id)


def test_a_report_that_keeps_signals_loses_their_weight_and_count_but_keeps_its_status():
    changes = shrink(Report(), 0.5, 1, 2, NOW)
    assert changes == {"total_weight": 1.0, "signal_count": 2, "updated_at": NOW}


def test_counts_never_go_below_zero():
    changes = shrink(Report(total_weight=0.0, signal_count=1), 1.0, 2, 1, NOW)
    assert (changes["total_weight"], changes["signal_count"]) == (0.0, 0)


@pytest.mark.parametrize("status", [status for status in STATUSES if status != "deleted"])
def test_a_report_left_empty_is_deleted_and_forgets_the_text_written_from_its_signals(status):
    changes = shrink(Report(status=status), 1.5, 3, 0, NOW)
    assert changes["status"] == "deleted" and (changes["title"], changes["summary"]) == (None, None)
    assert (changes["total_weight"], changes["signal_count"]) == (0.0, 0)


def test_a_deleted_report_left_empty_only_loses_its_counts():
    changes = shrink(Report(status="deleted"), 0.5, 1, 0, NOW)
    assert changes == {"total_weight": 0.0, "signal_count": 0, "updated_at": NOW}
