"""Artefact schemas per writable type, and latest-wins derivation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from pipeline.artefacts import derived, validate_artefact
from pipeline.errors import InvalidField

T0 = datetime(2026, 11, 1, tzinfo=UTC)


@dataclass
class Row:
    type: str
    content: dict
    created_at: datetime


@pytest.mark.parametrize(
    "kind, content",
    [
        ("note", {"note": "Checked with support: happens on Safari only."}),
        (
            "code_reference",
            {
                "file_path": "web/pay.ts",
                "start_line": 10,
                "end_line": 12,
                "contents": "a\nb\nc",
                "relevance_note": "throws here",
            },
        ),
        ("actionability_judgment", {"explanation": "clear repro", "actionability": "immediately_actionable"}),
        ("priority_judgment", {"explanation": "checkout", "priority": "P1"}),
        ("safety_judgment", {"choice": True}),
        ("repo_selection", {"repository": "acme/shop", "reason": "the checkout lives there"}),
        ("repo_selection", {"repository": None, "reason": "not connected"}),
        ("suggested_reviewers", [{"github_login": "octo"}]),
        ("signal_finding", {"signal_id": "s1", "verified": True}),
    ],
)
def test_each_writable_type_accepts_its_schema(kind, content):
    assert validate_artefact(kind, content)


@pytest.mark.parametrize(
    "kind, content, field",
    [
        ("note", {"note": ""}, "content.note"),
        ("note", {"note": "x", "colour": "red"}, "content.colour"),
        ("code_reference", {"file_path": "a", "start_line": 5, "end_line": 2, "contents": ""}, "content"),
        (
            "code_reference",
            {"file_path": "a", "start_line": 1, "end_line": 30, "contents": "x\n" * 21},
            "content",
        ),
        ("actionability_judgment", {"explanation": "x", "actionability": "maybe"}, "content.actionability"),
        ("priority_judgment", {"explanation": "x", "priority": "P9"}, "content.priority"),
        ("repo_selection", {"repository": "not a repo"}, "content.repository"),
        ("suggested_reviewers", [{"reason": "nobody"}], "content.reviewers.0"),
        ("suggested_reviewers", [{"github_login": f"u{i}"} for i in range(11)], "content.reviewers"),
        ("dismissal", {"reason": "other"}, "type"),
        ("related_to", {"report_id": "x"}, "type"),
        ("video_segment", {}, "type"),
    ],
)
def test_bad_content_is_refused_naming_the_field(kind, content, field):
    with pytest.raises(InvalidField) as caught:
        validate_artefact(kind, content)
    assert caught.value.field.startswith(field)


def test_status_types_are_latest_wins_and_deleting_the_newest_reverts():
    rows = [
        Row("priority_judgment", {"priority": "P3", "explanation": "x"}, T0),
        Row("priority_judgment", {"priority": "P1", "explanation": "y"}, T0 + timedelta(hours=1)),
        Row(
            "actionability_judgment",
            {"actionability": "requires_human_input", "already_addressed": True, "explanation": "z"},
            T0,
        ),
        Row("dismissal", {"reason": "report_unclear", "note": "why?"}, T0 + timedelta(hours=2)),
    ]
    now = derived(rows)
    assert now == {
        "priority": "P1",
        "actionability": "requires_human_input",
        "already_addressed": True,
        "dismissal_reason": "report_unclear",
        "dismissal_note": "why?",
    }
    assert derived(rows[:1] + rows[2:])["priority"] == "P3"
    assert derived([])["priority"] is None
