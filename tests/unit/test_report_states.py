"""The report state machine: every (from, to) pair of the nine statuses, restore, snooze, requests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from pipeline.errors import InvalidField
from pipeline.reports import (
    STATUSES,
    InvalidTransition,
    StateRequest,
    dedupe_ids,
    promotion_due,
    request_state,
    restore_target,
    transition,
)

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
EARLIER = datetime(2026, 11, 1, tzinfo=UTC)

# The reference's table (posthog-signals.md §2.1), written out pair by pair.
ALLOWED_PAIRS = {
    ("potential", "candidate"),
    ("ready", "candidate"),
    ("candidate", "in_progress"),
    ("in_progress", "candidate"),
    ("in_progress", "ready"),
    ("in_progress", "pending_input"),
    *{
        (source, "potential")
        for source in ("in_progress", "pending_input", "suppressed", "ready", "resolved", "failed")
    },
    *{("suppressed", target) for target in ("pending_input", "ready", "resolved", "failed")},
    *{
        (source, "failed")
        for source in ("potential", "candidate", "in_progress", "pending_input", "ready", "resolved")
    },
    *{(source, "suppressed") for source in STATUSES if source not in ("deleted", "suppressed")},
    *{(source, "deleted") for source in STATUSES if source != "deleted"},
    ("pending_input", "resolved"),
    ("ready", "resolved"),
}
ARGS = {
    "in_progress": {"increment": 3},
    "ready": {"title": "T", "summary": "S"},
    "pending_input": {"title": "T", "summary": "S", "error": "needs a repository"},
    "failed": {"error": "research failed"},
}


@dataclass
class Report:
    status: str
    status_before_suppression: str | None = None
    total_weight: float = 1.5
    signal_count: int = 4
    signals_at_run: int = 0
    run_count: int = 1
    promoted_at: datetime | None = EARLIER
    first_visible_at: datetime | None = None
    last_run_at: datetime | None = None
    title: str | None = "Old title"
    summary: str | None = "Old summary"
    error: str | None = None


@pytest.mark.parametrize("source", STATUSES)
@pytest.mark.parametrize("target", STATUSES)
def test_every_pair_is_allowed_or_refused_as_the_table_says(source, target):
    report = Report(source, status_before_suppression="ready" if source == "suppressed" else None)
    if (source, target) not in ALLOWED_PAIRS:
        with pytest.raises(InvalidTransition, match=f"a {source} report cannot move to {target}"):
            transition(report, target, now=NOW, **ARGS.get(target, {}))
        return
    changes = transition(report, target, now=NOW, **ARGS.get(target, {}))
    assert changes["status"] == target and changes["updated_at"] == NOW
    restoring = source == "suppressed"
    if target == "candidate":
        assert changes["promoted_at"] == NOW
    if target == "in_progress":
        assert (
            changes["signals_at_run"] == 4 + 3 and changes["run_count"] == 2 and changes["last_run_at"] == NOW
        )
    if target == "ready" and not restoring:
        assert changes["title"] == "T" and changes["summary"] == "S" and changes["error"] is None
    if target == "pending_input" and not restoring:
        assert changes["error"] == "needs a repository"
    if target == "potential":
        assert changes["promoted_at"] is None
    if target == "failed" and not restoring:
        assert changes["error"] == "research failed"
    if target == "suppressed":
        assert changes["status_before_suppression"] == source and changes["promoted_at"] is None
    if restoring and target != "deleted":
        assert changes["status_before_suppression"] is None
        assert "title" not in changes and "error" not in changes  # a restore keeps them
    assert changes.get("first_visible_at") == (NOW if target in ("ready", "pending_input") else None)


def test_first_visible_at_is_set_once():
    report = Report("in_progress", first_visible_at=EARLIER)
    assert "first_visible_at" not in transition(report, "ready", now=NOW, title="T", summary="S")


@pytest.mark.parametrize(
    "target, missing",
    [
        ("in_progress", "increment"),
        ("ready", "title"),
        ("pending_input", "error"),
        ("failed", "error"),
    ],
)
def test_moves_that_need_arguments_name_what_is_missing(target, missing):
    source = {"in_progress": "candidate"}.get(target, "in_progress")
    args = {k: v for k, v in ARGS[target].items() if k != missing}
    with pytest.raises(InvalidField, match=missing):
        transition(Report(source), target, now=NOW, **args)


def test_snooze_re_promotes_on_the_third_new_signal_not_before():
    report = Report("ready", signal_count=5, signals_at_run=8, total_weight=2.5)
    changes = transition(report, "potential", now=NOW, snooze_for=3)
    assert changes["signals_at_run"] == 8
    report.status, report.signals_at_run = "potential", changes["signals_at_run"]
    for count, due in ((6, False), (7, False), (8, True)):
        report.signal_count = count
        assert promotion_due(report) is due


def test_without_snooze_for_a_report_that_ran_still_needs_its_last_run_count():
    # The last run started at 5 signals: signals_at_run = 8. Snoozing without snooze_for keeps it.
    report = Report("ready", signal_count=6, signals_at_run=8, total_weight=3.0)
    changes = transition(report, "potential", now=NOW)
    assert "signals_at_run" not in changes
    report.status = "potential"
    assert not promotion_due(report)
    report.signal_count = 8
    assert promotion_due(report)


def test_promotion_needs_weight_and_count():
    assert not promotion_due(Report("potential", total_weight=0.5, signal_count=1))
    assert promotion_due(Report("potential", total_weight=1.0, signal_count=2))
    assert not promotion_due(Report("candidate", total_weight=5.0, signal_count=9))
    reset = Report("potential", total_weight=0.0, signal_count=9, signals_at_run=7)  # not actionable
    assert not promotion_due(reset)


@pytest.mark.parametrize("before", ["ready", "pending_input", "resolved", "failed"])
def test_restore_returns_to_the_researched_status_held_before(before):
    assert restore_target(Report("suppressed", status_before_suppression=before), None) == before


@pytest.mark.parametrize(
    "actionability, expected",
    [
        ("immediately_actionable", "ready"),
        ("requires_human_input", "pending_input"),
        (None, "pending_input"),
    ],
)
def test_a_born_suppressed_report_with_a_title_restores_by_its_latest_actionability(actionability, expected):
    report = Report("suppressed", status_before_suppression=None, first_visible_at=None)
    assert restore_target(report, actionability) == expected


def test_otherwise_restore_goes_to_potential():
    assert (
        restore_target(Report("suppressed", status_before_suppression="candidate", title=None), None)
        == "potential"
    )
    untitled = Report("suppressed", status_before_suppression=None, title=None)
    assert restore_target(untitled, "immediately_actionable") == "potential"
    seen = Report("suppressed", status_before_suppression="potential", first_visible_at=EARLIER)
    assert restore_target(seen, "immediately_actionable") == "potential"


def test_a_request_to_restore_goes_to_the_restore_target():
    report = Report("suppressed", status_before_suppression="ready")
    decision = request_state(report, StateRequest("potential"), now=NOW)
    assert decision.outcome == "transitioned" and decision.status == "ready"


def test_a_held_verdict_records_feedback_and_counts_as_transitioned():
    decision = request_state(
        Report("suppressed", status_before_suppression="ready"),
        StateRequest("suppressed", reason="report_unclear", note="again"),
        now=NOW,
    )
    assert decision.outcome == "transitioned" and decision.changes == {}
    assert decision.feedback == {"reason": "report_unclear", "note": "again"}


def test_archive_guards():
    archived_early = Report("suppressed", status_before_suppression="potential")
    assert request_state(archived_early, StateRequest("resolved"), now=NOW).outcome == "skipped"
    snooze = StateRequest("potential", snooze_for=3)
    assert (
        request_state(Report("suppressed", status_before_suppression="ready"), snooze, now=NOW).outcome
        == "skipped"
    )
    assert request_state(Report("candidate"), StateRequest("resolved"), now=NOW).outcome == "skipped"


def test_bad_requests_are_refused_by_field():
    with pytest.raises(InvalidField, match="to"):
        StateRequest("ready")
    with pytest.raises(InvalidField, match="reason"):
        StateRequest("suppressed", reason="meh")
    with pytest.raises(InvalidField, match="snooze_for"):
        StateRequest("suppressed", snooze_for=3)
    with pytest.raises(InvalidField, match="note"):
        StateRequest("suppressed", note="x" * 4001)
    assert (
        request_state(Report("ready"), StateRequest("potential", snooze_for=0), now=NOW).outcome == "failed"
    )


def test_bulk_ids_collapse_duplicates_keeping_first_positions():
    assert dedupe_ids(["b", "a", "b", "c", "a"]) == ["b", "a", "c"]
    with pytest.raises(InvalidField):
        dedupe_ids([])
    with pytest.raises(InvalidField):
        dedupe_ids([str(i) for i in range(101)])
