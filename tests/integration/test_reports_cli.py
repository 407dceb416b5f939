"""`sightline reports …` and `sightline signals pause|resume|status` against a real database."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from integrations.storage import database
from models import ReportArtefact, ReportStatus, SignalReport, Team, session_scope
from settings import get_settings

pytestmark = pytest.mark.db


def add_report(team_id: int = 1, **fields) -> str:
    values = {
        "title": "Pay throws",
        "summary": "s",
        "status": ReportStatus.READY,
        "total_weight": 1.5,
        "signal_count": 3,
        **fields,
    }
    with session_scope(database(get_settings()).sessions) as session:
        report = SignalReport(team_id=team_id, **values)
        session.add(report)
        return str(report.id)


def fetch(report_id: str) -> SignalReport:
    with database(get_settings()).sessions() as session:
        return session.get(SignalReport, uuid.UUID(report_id))


def test_bulk_state_dedupes_keeps_order_and_reports_each_outcome(sightline):
    ready, candidate, suppressed = (
        add_report(),
        add_report(status=ReportStatus.CANDIDATE),
        add_report(status=ReportStatus.SUPPRESSED, status_before_suppression=ReportStatus.READY),
    )
    with session_scope(database(get_settings()).sessions) as session:
        other_team = Team(organization_id=session.get(Team, 1).organization_id, name="Other")
        session.add(other_team)
        session.flush()
        other_id = other_team.id
    foreign = add_report(team_id=other_id)
    ids = [ready, candidate, ready, foreign, suppressed, "not-a-uuid", candidate]
    result = sightline(
        "reports",
        "bulk-state",
        "--to",
        "suppressed",
        "--reason",
        "report_unclear",
        "--note",
        "cannot reproduce",
        "--json",
        *ids,
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert [r["id"] for r in body["results"]] == [ready, candidate, foreign, suppressed, "not-a-uuid"]
    outcomes = {r["id"]: r["outcome"] for r in body["results"]}
    assert outcomes == {
        ready: "transitioned",
        candidate: "transitioned",
        foreign: "not_found",
        suppressed: "transitioned",
        "not-a-uuid": "not_found",
    }
    assert (body["transitioned_count"], body["not_found_count"]) == (3, 2)
    assert (
        fetch(ready).status == ReportStatus.SUPPRESSED and fetch(ready).status_before_suppression == "ready"
    )
    assert fetch(foreign).status == ReportStatus.READY  # another team's report is untouched
    with database(get_settings()).sessions() as session:
        dismissals = list(session.exec(select(ReportArtefact).where(ReportArtefact.type == "dismissal")))
    # The already-suppressed one held the verdict: its feedback is recorded all the same.
    assert sorted(str(a.report_id) for a in dismissals) == sorted([ready, candidate, suppressed])
    resolved = json.loads(sightline("reports", "bulk-state", "--to", "resolved", "--json", candidate).output)
    assert resolved["results"][0]["outcome"] == "skipped"  # archived from candidate: restore it first


def test_state_restore_snooze_and_resolve(sightline):
    report = add_report()
    assert "transitioned: suppressed" in sightline("reports", "state", report, "--to", "suppressed").output
    restored = sightline("reports", "state", report, "--to", "potential")
    assert "transitioned: ready" in restored.output  # back to the researched status held before
    snoozed = sightline("reports", "state", report, "--to", "potential", "--snooze-for", "3")
    assert "transitioned: potential" in snoozed.output and fetch(report).signals_at_run == 3 + 3
    refused = sightline("reports", "state", report, "--to", "resolved")
    assert refused.exit_code == 1 and "skipped" in refused.output
    bad = sightline("reports", "state", report, "--to", "ready")
    assert bad.exit_code == 2 and "to" in bad.output
    missing = sightline("reports", "state", str(uuid.uuid4()), "--to", "suppressed")
    assert missing.exit_code == 2 and "not_found" in missing.output


def test_artefacts_are_latest_wins_and_deleting_the_newest_reverts(sightline):
    report = add_report()
    first = sightline(
        "reports",
        "artefacts",
        "add",
        report,
        "--type",
        "priority_judgment",
        "--content",
        '{"priority": "P3", "explanation": "rare"}',
    )
    assert first.exit_code == 0, first.output
    second = sightline(
        "reports",
        "artefacts",
        "add",
        report,
        "--type",
        "priority_judgment",
        "--content",
        '{"priority": "P1", "explanation": "checkout"}',
    )
    newest = second.output.split()[-1]
    listing = sightline("reports", "list", "--ordering", "priority")
    assert f"{report}\tready\tP1" in listing.output
    assert sightline("reports", "artefacts", "delete", newest).exit_code == 0
    assert f"{report}\tready\tP3" in sightline("reports", "list").output
    bad = sightline(
        "reports",
        "artefacts",
        "add",
        report,
        "--type",
        "priority_judgment",
        "--content",
        '{"priority": "P9"}',
    )
    assert bad.exit_code == 2 and "content." in bad.output
    refused = sightline("reports", "artefacts", "add", report, "--type", "dismissal", "--content", "{}")
    assert refused.exit_code == 2 and "cannot be written" in refused.output
    assert (
        sightline(
            "reports",
            "artefacts",
            "edit",
            first.output.split()[-1],
            "--content",
            '{"priority": "P2", "explanation": "edited"}',
        ).exit_code
        == 0
    )
    shown = sightline("reports", "show", report)
    assert "priority P2" in shown.output and "Pay throws" in shown.output


def test_suppressed_reports_are_hidden_unless_asked_for(sightline):
    hidden = add_report(status=ReportStatus.SUPPRESSED, status_before_suppression=ReportStatus.READY)
    add_report(status=ReportStatus.DELETED, title="gone")
    assert hidden not in sightline("reports", "list").output
    assert hidden in sightline("reports", "list", "--all").output
    assert "gone" not in sightline("reports", "list", "--all").output


def test_pause_resume_and_status(sightline):
    assert "not paused" in sightline("signals", "status").output
    until = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    assert "paused until" in sightline("signals", "pause", "--until", until).output
    assert "paused until" in sightline("signals", "status").output
    assert "resumed" in sightline("signals", "resume").output
    assert "not paused" in sightline("signals", "status").output
    assert sightline("signals", "pause", "--for", "30m").exit_code == 0
    assert sightline("signals", "pause", "--until", "2001-01-01").exit_code == 2
    assert sightline("signals", "pause", "--for", "soon").exit_code == 2
    assert sightline("signals", "pause").exit_code == 2
