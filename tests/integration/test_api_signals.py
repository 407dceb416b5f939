"""Signals over HTTP (`/api/projects/:project_id/signals/…`): the pause, reports and their states."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from models import ProcessingState, ReportStatus, Signal, SignalReport, Team
from services import artefacts
from services.auth import authenticate_key, create_key
from tests.integration.api_support import check_envelope, check_fields, other_team_key

pytestmark = pytest.mark.db
SIGNALS = "/api/projects/{team}/signals"
# The seed's report fields.
REPORT_FIELDS = (
    "id",
    "title",
    "summary",
    "status",
    "total_weight",
    "signal_count",
    "signals_at_run",
    "created_at",
    "updated_at",
    "artefact_count",
    "priority",
    "actionability",
    "already_addressed",
    "dismissal_reason",
    "dismissal_note",
    "is_suggested_reviewer",
    "source_products",
    "implementation_pr_url",
)
BULK_FIELDS = ("results", "transitioned_count", "skipped_count", "failed_count", "not_found_count")


def add_report(world, team_id: int | None = None, **fields) -> str:
    values = {
        "title": "Pay throws",
        "summary": "Seen in several sessions.",
        "status": ReportStatus.READY,
        "total_weight": 1.5,
        "signal_count": 3,
        **fields,
    }
    with world.deps.transaction() as session:
        report = SignalReport(team_id=team_id or world.team_id, **values)
        session.add(report)
        session.flush()
        return str(report.id)


def add_artefact(world, report_id: str, kind: str, content: dict, minutes: int = 0) -> None:
    """Through the use case, which keeps the columns the inbox sorts and filters by."""
    moment = datetime(2026, 1, 5, 9, tzinfo=UTC) + timedelta(minutes=minutes)
    artefacts.add_artefact(world.deps, world.team_id, report_id, kind, content, now=moment)


def add_signal(world, report_id: str, product: str) -> None:
    with world.deps.transaction() as session:
        session.add(
            Signal(
                team_id=world.team_id,
                source_product=product,
                source_type="scanner_finding",
                source_id=uuid.uuid4().hex,
                description="Pay throws",
                report_id=uuid.UUID(report_id),
            )
        )


def second_team(world) -> int:
    with world.deps.transaction() as session:
        team = Team(organization_id=session.get(Team, world.team_id).organization_id, name="Other")
        session.add(team)
        session.flush()
        return team.id


def status_of(world, report_id: str) -> str:
    with world.db.sessions() as session:
        return str(session.get(SignalReport, uuid.UUID(report_id)).status)


def test_processing_reads_pauses_and_resumes(world, api):
    path = f"{SIGNALS.format(team=api.team_id)}/processing"
    assert check_envelope(api.get(path).json()) == [{"paused_until": None}]
    paused = api.post(f"{path}/pause", json={"for_seconds": 3600})
    assert paused.status_code == 200 and paused.json()["status"] == "paused", paused.text
    assert check_envelope(api.get(path + "/").json())[0]["paused_until"] is not None
    until = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    assert (
        api.post(f"{path}/pause/", json={"until": until.isoformat()})
        .json()["paused_until"]
        .startswith(until.strftime("%Y-%m-%dT%H:%M:%S"))
    )
    resumed = api.delete(f"{path}/pause")
    assert resumed.status_code == 200 and resumed.json() == {
        "status": "unpaused",
        "was_paused": True,
        "paused_until": None,
    }
    assert api.delete(f"{path}/pause").json()["was_paused"] is False
    with world.deps.transaction() as session:  # an expired pause reads as none
        state = session.get(ProcessingState, world.team_id)
        state.paused_until = datetime.now(UTC) - timedelta(minutes=1)
        session.add(state)
    assert check_envelope(api.get(path).json()) == [{"paused_until": None}]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"until": "2001-01-01T00:00:00Z"}, "until"),
        ({"until": "soon"}, "until"),
        ({"for_seconds": 0}, "for_seconds"),
        ({"for_seconds": -5}, "for_seconds"),
        ({"for_seconds": "a while"}, "for_seconds"),
        ({"for_seconds": 1e300}, "for_seconds"),
        ({}, "until"),
        ({"until": "2099-01-01T00:00:00Z", "for_seconds": 60}, "until"),
    ],
)
def test_a_bad_pause_is_a_400_naming_the_field(api, body, field):
    refused = api.post(f"{SIGNALS.format(team=api.team_id)}/processing/pause", json=body)
    assert refused.status_code == 400 and refused.json()["attr"] == field, refused.text


def test_the_report_list_has_the_seeds_fields_filters_and_orderings(world, api):
    p3 = add_report(world, title="Checkout slow", updated_at=datetime(2026, 1, 1, tzinfo=UTC))
    p1 = add_report(world, summary="At checkout, Pay throws.", updated_at=datetime(2026, 1, 2, tzinfo=UTC))
    candidate = add_report(world, title="Search empty", status=ReportStatus.CANDIDATE, signal_count=9)
    archived = add_report(world, status=ReportStatus.SUPPRESSED, status_before_suppression=ReportStatus.READY)
    add_report(world, status=ReportStatus.DELETED)
    add_artefact(world, p3, "priority_judgment", {"priority": "P3", "explanation": "rare"})
    add_artefact(world, p1, "priority_judgment", {"priority": "P1", "explanation": "money"})
    add_artefact(world, p1, "suggested_reviewers", {"reviewers": [{"github_login": "ada"}]})
    add_signal(world, p1, "replay_vision")
    add_signal(world, p1, "error_tracking")
    path = f"{SIGNALS.format(team=api.team_id)}/reports"

    def ids(**params) -> list[str]:
        response = api.get(path, params=params)
        assert response.status_code == 200, response.text
        return [row["id"] for row in check_envelope(response.json())]

    listed = check_envelope(api.get(path).json())
    for row in listed:
        check_fields(row, REPORT_FIELDS)
    # Ready reports first (newest updated first), then the candidate; suppressed and deleted hidden.
    assert [row["id"] for row in listed] == [p1, p3, candidate]
    first = listed[0]
    assert (first["priority"], first["artefact_count"]) == ("P1", 2)
    assert first["source_products"] == ["error_tracking", "replay_vision"]
    assert first["is_suggested_reviewer"] is False and first["implementation_pr_url"] is None
    assert ids(status="suppressed") == [archived]
    assert ids(status="ready,candidate", ordering="-signal_count,created_at") == [candidate, p3, p1]
    assert ids(include_all_statuses="true")[-1] == archived
    assert ids(ordering="priority") == [p1, p3, candidate]
    assert ids(ordering="-updated_at")[-2:] == [p1, p3]
    assert ids(priority="P3") == [p3]
    assert ids(search="CHECKOUT") == [p1, p3]  # the title of one, the summary of the other
    assert ids(source_product="replay_vision") == [p1]
    assert ids(suggested_reviewers="ada") == [p1]
    assert ids(has_implementation_pr="true") == [] and ids(task_id=str(uuid.uuid4())) == []
    assert ids(has_implementation_pr="false") == [p1, p3, candidate]
    page = api.get(path, params={"limit": 2}).json()
    assert page["count"] == 3 and "offset=2" in page["next"]
    for params, field in (
        ({"status": "open"}, "status"),
        ({"ordering": "colour"}, "ordering"),
        ({"priority": "P9"}, "priority"),
    ):
        refused = api.get(path, params=params)
        assert refused.status_code == 400 and refused.json()["attr"] == field


def test_a_report_is_read_by_id_and_deleted_or_other_teams_reports_are_404(world, api):
    report = add_report(world)
    add_artefact(
        world,
        report,
        "actionability_judgment",
        {"explanation": "x", "actionability": "immediately_actionable", "already_addressed": True},
    )
    path = f"{SIGNALS.format(team=api.team_id)}/reports"
    found = api.get(f"{path}/{report}/")
    assert found.status_code == 200
    check_fields(found.json(), REPORT_FIELDS)
    assert (
        found.json()["actionability"] == "immediately_actionable"
        and found.json()["already_addressed"] is True
    )
    assert api.get(f"{path}/{add_report(world, status=ReportStatus.DELETED)}").status_code == 404
    assert api.get(f"{path}/{add_report(world, team_id=second_team(world))}").status_code == 404
    assert api.get(f"{path}/{uuid.uuid4()}").status_code == 404


def test_state_changes_answer_the_report_409_for_a_move_not_allowed_and_400_naming_the_field(world, api):
    report = add_report(world)
    path = f"{SIGNALS.format(team=api.team_id)}/reports/{report}/state"
    dismissed = api.post(
        path,
        json={
            "state": "suppressed",
            "dismissal_reason": "report_unclear",
            "dismissal_note": "cannot reproduce",
            "reset_weight": True,  # not a request field: ignored
        },
    )
    assert dismissed.status_code == 200, dismissed.text
    body = dismissed.json()
    check_fields(body, REPORT_FIELDS)
    assert (body["status"], body["dismissal_reason"], body["dismissal_note"]) == (
        "suppressed",
        "report_unclear",
        "cannot reproduce",
    )
    assert body["total_weight"] == 1.5 and body["artefact_count"] == 1
    restored = api.post(path, json={"state": "potential"})
    assert restored.json()["status"] == "ready"  # back to the researched status it held
    snoozed = api.post(path, json={"state": "potential", "snooze_for": 4})
    assert snoozed.json()["status"] == "potential" and snoozed.json()["signals_at_run"] == 3 + 4
    candidate = add_report(world, status=ReportStatus.CANDIDATE)
    conflict = api.post(
        f"{SIGNALS.format(team=api.team_id)}/reports/{candidate}/state", json={"state": "resolved"}
    )
    assert conflict.status_code == 409 and conflict.json()["code"] == "conflict"
    assert status_of(world, candidate) == "candidate"
    for body, field in (
        ({"state": "ready"}, "state"),
        ({}, "state"),
        ({"state": "suppressed", "dismissal_reason": "meh"}, "dismissal_reason"),
        ({"state": "suppressed", "dismissal_note": "x" * 4001}, "dismissal_note"),
        ({"state": "suppressed", "snooze_for": 3}, "snooze_for"),
    ):
        refused = api.post(path, json=body)
        assert refused.status_code == 400 and refused.json()["attr"] == field, (body, refused.text)
    ready = f"{SIGNALS.format(team=api.team_id)}/reports/{add_report(world)}/state"
    too_short = api.post(ready, json={"state": "potential", "snooze_for": 0})
    assert too_short.status_code == 400 and too_short.json()["attr"] == "snooze_for", too_short.text
    missing = api.post(
        f"{SIGNALS.format(team=api.team_id)}/reports/{uuid.uuid4()}/state", json={"state": "suppressed"}
    )
    assert missing.status_code == 404


def test_bulk_state_dedupes_keeps_order_counts_and_another_teams_id_is_not_found(world, api):
    ready, candidate = add_report(world), add_report(world, status=ReportStatus.CANDIDATE)
    foreign = add_report(world, team_id=second_team(world))
    path = f"{SIGNALS.format(team=api.team_id)}/reports/bulk-state"
    ids = [candidate, ready, candidate, foreign, ready]
    done = api.post(path, json={"state": "resolved", "ids": ids, "dismissal_reason": "pr_merged"})
    assert done.status_code == 200, done.text
    body = done.json()
    check_fields(body, BULK_FIELDS)
    assert [(row["id"], row["outcome"]) for row in body["results"]] == [
        (candidate, "skipped"),
        (ready, "transitioned"),
        (foreign, "not_found"),
    ]
    assert body["results"][1]["status"] == "resolved" and body["results"][0]["detail"]
    counts = [body[name] for name in BULK_FIELDS[1:]]
    assert counts == [1, 1, 0, 1]
    assert status_of(world, foreign) == "ready" and status_of(world, ready) == "resolved"
    snoozed = api.post(path, json={"state": "potential", "snooze_for": 0, "ids": [ready]}).json()
    assert snoozed["failed_count"] == 1 and snoozed["results"][0]["outcome"] == "failed"
    for body, field in (
        ({"state": "resolved", "ids": []}, "ids"),
        ({"state": "resolved", "ids": [str(uuid.uuid4()) for _ in range(101)]}, "ids"),
        ({"state": "resolved", "ids": ["not-a-uuid"]}, "ids.0"),
        ({"state": "ready", "ids": [ready]}, "state"),
        ({"state": "resolved"}, "ids"),
    ):
        refused = api.post(path, json=body)
        assert refused.status_code == 400 and refused.json()["attr"] == field, (body, refused.text)
    hundred = [ready] * 100 + [str(uuid.uuid4()) for _ in range(99)]
    assert api.post(path, json={"state": "suppressed", "ids": hundred}).json()["not_found_count"] == 99


def test_artefacts_are_listed_appended_read_edited_deleted_and_have_no_diff(world, api):
    report = add_report(world)
    path = f"{SIGNALS.format(team=api.team_id)}/reports/{report}/artefacts"
    made = api.post(
        path, json={"artefact_type": "priority_judgment", "content": {"priority": "P2", "explanation": "x"}}
    )
    assert made.status_code == 201, made.text
    check_fields(made.json(), ("id", "report_id", "type", "content", "created_at", "updated_at", "task_id"))
    assert made.json()["report_id"] == report and made.json()["created_by"]["email"]
    listed = check_envelope(api.get(path).json())
    check_fields(listed[0], ("id", "type", "content", "created_at", "updated_at", "created_by", "task_id"))
    one = f"{path}/{made.json()['id']}"
    assert api.get(one).json()["content"] == {"priority": "P2", "explanation": "x"}
    edited = api.patch(one, json={"content": {"priority": "P0", "explanation": "worse"}})
    assert edited.status_code == 200 and edited.json()["updated_at"]
    assert api.get(f"{SIGNALS.format(team=api.team_id)}/reports/{report}").json()["priority"] == "P0"
    for body, field in (
        ({"artefact_type": "horoscope", "content": {}}, "artefact_type"),
        ({"artefact_type": "dismissal", "content": {"reason": "other"}}, "artefact_type"),
        (
            {"artefact_type": "priority_judgment", "content": {"priority": "P9", "explanation": "x"}},
            "content.priority",
        ),
        ({"content": {"note": "x"}}, "artefact_type"),
    ):
        refused = api.post(path, json=body)
        assert refused.status_code == 400 and refused.json()["attr"] == field, (body, refused.text)
    assert api.patch(one, json={"content": {"priority": "P7"}}).status_code == 400
    other = add_report(world)
    assert (
        api.get(
            f"{SIGNALS.format(team=api.team_id)}/reports/{other}/artefacts/{made.json()['id']}"
        ).status_code
        == 404
    )
    note = api.post(path, json={"artefact_type": "note", "content": {"note": "Safari only"}}).json()
    assert api.get(f"{path}/{note['id']}/diff").status_code == 400
    commit = api.post(
        path,
        json={
            "artefact_type": "commit",
            "content": {
                "repository": "acme/shop",
                "branch": "fix-pay",
                "commit_sha": "abc1234",
                "message": "Fix",
            },
        },
    )
    assert commit.status_code == 201, commit.text
    no_diff = api.get(f"{path}/{commit.json()['id']}/diff/")
    assert no_diff.status_code == 404 and "GitHub" in no_diff.json()["detail"]
    assert api.delete(one).status_code == 204
    assert api.get(one).status_code == 404 and api.delete(one).status_code == 404
    assert api.get(f"{SIGNALS.format(team=api.team_id)}/reports/{report}").json()["artefact_count"] == 2


def test_another_team_sees_none_of_this_teams_signals(world, api):
    report = add_report(world)
    add_artefact(world, report, "note", {"note": "ours"})
    stranger = other_team_key(world)
    their = SIGNALS.format(team=next(iter(authenticate_key(world.deps, stranger).team_ids)))
    headers = {"Authorization": f"Bearer {stranger}"}
    ours = SIGNALS.format(team=api.team_id)
    assert api.client.get(f"{ours}/reports", headers=headers).status_code == 404
    assert api.client.get(f"{ours}/processing", headers=headers).status_code == 404
    assert api.client.get(f"{their}/reports", headers=headers).json()["count"] == 0
    assert api.client.get(f"{their}/reports/{report}", headers=headers).status_code == 404
    assert (
        api.client.post(
            f"{their}/reports/{report}/state", headers=headers, json={"state": "suppressed"}
        ).status_code
        == 404
    )
    assert api.client.get(f"{their}/reports/{report}/artefacts", headers=headers).status_code == 404
    bulk = api.client.post(
        f"{their}/reports/bulk-state", headers=headers, json={"state": "suppressed", "ids": [report]}
    )
    assert bulk.json()["not_found_count"] == 1 and status_of(world, report) == "ready"


def test_reading_needs_task_read_and_changing_task_write(world, api):
    report = add_report(world)
    reader = {"Authorization": f"Bearer {create_key(world.deps, 'r', ['task:read']).secret}"}
    path = SIGNALS.format(team=api.team_id)
    assert api.client.get(f"{path}/reports/{report}", headers=reader).status_code == 200
    refused = api.client.post(f"{path}/reports/{report}/state", headers=reader, json={"state": "suppressed"})
    assert refused.status_code == 403 and "task:write" in refused.json()["detail"]
    assert api.client.delete(f"{path}/processing/pause", headers=reader).status_code == 403
