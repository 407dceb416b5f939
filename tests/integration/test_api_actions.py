"""Vision actions over HTTP (`/api/projects/:project_id/vision/actions`) against a real database."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from integrations.secrets import open_targets, secret_box
from models import ActionRun, VisionAction
from services.auth import authenticate_key, create_key
from tests.integration.api_support import check_envelope, check_fields, check_user, other_team_key

pytestmark = pytest.mark.db
ACTIONS = "/api/projects/{team}/vision/actions"
# The seed's action fields (ours add alert_config).
ACTION_FIELDS = (
    "id",
    "name",
    "scanner",
    "enabled",
    "trigger_type",
    "mode",
    "trigger_config",
    "selection",
    "synthesis_config",
    "delivery_config",
    "next_run_at",
    "last_run_at",
    "hog_flow_id",
    "created_at",
    "created_by",
    "updated_at",
)
SCANNER = {
    "scanner_type": "monitor",
    "provider": "heuristic",
    "scanner_config": {"prompt": "Rage?", "rule": "rage_click"},
}
SLACK_HOOK = "https://hooks.slack.com/services/T0001/B0001/sEcReTtOkEn42"
WEBHOOK = "https://example.com/hooks/sightline?token=very-secret-token"


def new_action(api, scanner_id, **fields):
    body = {
        "name": "Rage digest",
        "scanner": str(scanner_id),
        "trigger_config": {"rrule": "FREQ=DAILY;BYHOUR=9;BYMINUTE=0", "timezone": "Europe/Prague"},
        "selection": {"verdict": ["yes"]},
        "synthesis_config": {"prompt_guide": "Lead with checkout problems."},
        "delivery_config": [{"type": "log"}],
        **fields,
    }
    return api.post(ACTIONS.format(team=api.team_id), json=body)


def stored(world, action_id) -> VisionAction:
    with world.db.sessions() as session:
        return session.get(VisionAction, uuid.UUID(action_id))


def opened(world, action_id) -> list[dict]:
    """An action's targets as stored (their secrets encrypted), decrypted."""
    return open_targets(secret_box(world.settings), stored(world, action_id).delivery_config)


def test_an_action_is_created_listed_read_changed_and_deleted_with_the_seeds_fields(world, api):
    rage = world.scanner(name="Rage", **SCANNER)
    other = world.scanner(name="Other", **SCANNER)
    created = new_action(api, rage.id)
    assert created.status_code == 201, created.text
    body = created.json()
    check_fields(body, ACTION_FIELDS)
    check_user(body["created_by"])
    assert body["scanner"] == str(rage.id) and body["trigger_type"] == "schedule"
    assert body["mode"] == "group_summary" and body["hog_flow_id"] is None and body["next_run_at"]
    assert body["trigger_config"] == {"rrule": "FREQ=DAILY;BYHOUR=9;BYMINUTE=0", "timezone": "Europe/Prague"}
    path = ACTIONS.format(team=api.team_id)
    listed = check_envelope(api.get(path).json())
    # Every scanner comes with its featured digest; the list is by name.
    assert [row["name"] for row in listed] == [
        "Featured digest: Other",
        "Featured digest: Rage",
        "Rage digest",
    ]
    over_rage = check_envelope(api.get(path, params={"scanner": str(rage.id)}).json())
    assert [row["name"] for row in over_rage] == ["Featured digest: Rage", "Rage digest"]
    one = api.get(f"{path}/{body['id']}/")
    assert one.status_code == 200 and one.json()["name"] == "Rage digest"
    changed = api.patch(
        f"{path}/{body['id']}", json={"name": "Quiet", "enabled": False, "scanner": str(other.id)}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["enabled"] is False and changed.json()["next_run_at"] is None
    assert changed.json()["scanner"] == str(other.id) and changed.json()["name"] == "Quiet"
    assert api.delete(f"{path}/{body['id']}").status_code == 204
    assert api.get(f"{path}/{body['id']}").status_code == 404


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"trigger_config": {"rrule": "DTSTART:20260101T000000Z\nRRULE:FREQ=DAILY"}}, "trigger_config.rrule"),
        ({"trigger_config": {"rrule": "FREQ=DAILY", "timezone": "Mars/Olympus"}}, "trigger_config.timezone"),
        ({"trigger_config": {"rrule": "FREQ=SOMETIMES"}}, "trigger_config.rrule"),
        ({"trigger_type": "threshold"}, "trigger_type"),
        ({"scanner": "no such scanner"}, "scanner"),
        ({"selection": {"colour": "red"}}, "selection"),
        ({"delivery_config": [{"type": "pigeon"}]}, "delivery_config[0].type"),
        ({"name": ""}, "name"),
    ],
)
def test_a_bad_action_is_a_400_naming_the_field(world, api, changes, field):
    rage = world.scanner(name="Rage", **SCANNER)
    refused = new_action(api, rage.id, **changes)
    assert refused.status_code == 400, refused.text
    assert refused.json()["attr"] == field and refused.json()["type"] == "validation_error"
    created = new_action(api, rage.id).json()
    path = f"{ACTIONS.format(team=api.team_id)}/{created['id']}"
    if field != "scanner":
        assert api.patch(path, json=changes).json()["attr"] == field


def test_secrets_in_targets_are_masked_and_sending_the_mask_back_keeps_them(world, api):
    rage = world.scanner(name="Rage", **SCANNER)
    targets = [
        {"type": "slack_webhook", "url": SLACK_HOOK},
        {"type": "webhook", "url": WEBHOOK, "secret": "s3cr3t"},
    ]
    created = new_action(api, rage.id, delivery_config=targets)
    assert created.status_code == 201, created.text
    path = f"{ACTIONS.format(team=api.team_id)}/{created.json()['id']}"
    for response in (created, api.get(path), api.get(ACTIONS.format(team=api.team_id))):
        assert "sEcReTtOkEn" not in response.text and "very-secret" not in response.text
        assert "s3cr3t" not in response.text
    shown = api.get(path).json()["delivery_config"]
    assert shown[0]["url"].startswith("https://hooks.slack.com/") and shown[1]["secret"] == "••••••••"
    renamed = api.patch(path, json={"name": "Renamed", "delivery_config": shown})
    assert renamed.status_code == 200, renamed.text
    assert opened(world, created.json()["id"]) == [
        {"type": "slack_webhook", "url": SLACK_HOOK},
        {"secret": "s3cr3t", "type": "webhook", "url": WEBHOOK},
    ]
    replaced = [shown[0], {**shown[1], "secret": "n3w"}]
    assert api.patch(path, json={"delivery_config": replaced}).status_code == 200
    assert opened(world, created.json()["id"])[1]["secret"] == "n3w"
    raw = json.dumps(stored(world, created.json()["id"]).delivery_config)
    assert not [secret for secret in ("sEcReTtOkEn", "very-secret", "s3cr3t", "n3w") if secret in raw]


def test_deleting_an_action_that_ran_disables_it_and_keeps_its_runs(world, api):
    rage = world.scanner(name="Rage", **SCANNER)
    action_id = new_action(api, rage.id).json()["id"]
    moment = datetime(2026, 1, 5, 9, tzinfo=UTC)
    with world.deps.transaction() as session:
        session.add(ActionRun(action_id=uuid.UUID(action_id), scheduled_at=moment, status="completed"))
    path = f"{ACTIONS.format(team=api.team_id)}/{action_id}"
    assert api.delete(path).status_code == 204
    kept = api.get(path)
    assert kept.status_code == 200 and kept.json()["enabled"] is False and kept.json()["next_run_at"] is None
    assert len(world.rows(ActionRun)) == 1
    assert api.delete(path).status_code == 204  # still there, still disabled


def test_the_cli_disables_an_action_that_ran_as_the_api_does(sightline):
    created = sightline(
        "scanners",
        "create",
        "--name",
        "Rage",
        "--type",
        "monitor",
        "--provider",
        "heuristic",
        "--prompt",
        "Rage?",
        "--config",
        '{"prompt": "Rage?", "rule": "rage_click"}',
    )
    assert created.exit_code == 0, created.output
    assert sightline("actions", "run-now", "Featured digest: Rage").exit_code == 0
    deleted = sightline("actions", "delete", "Featured digest: Rage")
    assert deleted.exit_code == 0 and "disabled action" in deleted.output
    assert "Featured digest: Rage\tgroup_summary\tno\t" in sightline("actions", "list").output


def test_another_teams_actions_are_not_found(world, api):
    rage = world.scanner(name="Rage", **SCANNER)
    action_id = new_action(api, rage.id).json()["id"]
    stranger = other_team_key(world)
    their_team = next(iter(authenticate_key(world.deps, stranger).team_ids))
    headers = {"Authorization": f"Bearer {stranger}"}
    assert api.client.get(ACTIONS.format(team=api.team_id), headers=headers).status_code == 404
    elsewhere = ACTIONS.format(team=their_team)
    assert api.client.get(elsewhere, headers=headers).json()["count"] == 0
    for method in ("get", "patch", "delete"):
        call = getattr(api.client, method)
        kwargs = {"json": {"name": "mine"}} if method == "patch" else {}
        assert call(f"{elsewhere}/{action_id}", headers=headers, **kwargs).status_code == 404
    made = api.client.post(
        elsewhere,
        headers=headers,
        json={"name": "x", "scanner": str(rage.id), "trigger_config": {"rrule": "FREQ=DAILY"}},
    )
    assert made.status_code == 400 and made.json()["attr"] == "scanner"
    assert stored(world, action_id).name == "Rage digest"


def test_writing_needs_the_write_scope_and_session_recording_read(world, api):
    rage = world.scanner(name="Rage", **SCANNER)
    path = ACTIONS.format(team=api.team_id)

    def key(*scopes: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {create_key(world.deps, 'k', list(scopes)).secret}"}

    body = {"name": "x", "scanner": str(rage.id), "trigger_config": {"rrule": "FREQ=DAILY"}}
    assert api.client.get(path, headers=key("vision_action:read")).status_code == 200
    refused = api.client.post(path, json=body, headers=key("vision_action:write"))
    assert refused.status_code == 403 and "session_recording:read" in refused.json()["detail"]
    reader = api.client.post(path, json=body, headers=key("vision_action:read", "session_recording:read"))
    assert reader.status_code == 403 and "vision_action:write" in reader.json()["detail"]
    made = api.client.post(path, json=body, headers=key("vision_action:write", "session_recording:read"))
    assert made.status_code == 201
    assert (
        api.client.delete(f"{path}/{made.json()['id']}", headers=key("vision_action:write")).status_code
        == 204
    )
