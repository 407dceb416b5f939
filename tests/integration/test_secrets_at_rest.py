"""Secrets at rest and in output: Slack tokens and target secrets are stored encrypted, decrypted only
for a delivery, shown masked, never logged; keys rotate; `integrations add-slack|test|remove|rename`
against the fake Slack; `init` keeps the data folder to its user."""

from __future__ import annotations

import json
import logging
import os
import stat
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

import integrations.logs as logs
from actors.broker import process_deps
from cli.context import deps as cli_deps
from integrations.delivery import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from integrations.fake_slack import FakeSlack
from integrations.secrets import open_targets, secret_box
from integrations.slack_auth import check_slack_token
from models import (
    ActionRun,
    Delivery,
    Integration,
    ReportStatus,
    Scanner,
    SignalReport,
    VisionAction,
    session_scope,
)
from pipeline.actions import target_key
from pipeline.errors import ConfigurationError, DeliveryRejected
from services.action_runs import run_action
from services.actions import create_action
from services.integrations import add_slack_integration, check_integration
from services.scanners import create_scanner
from services.secrets import plaintext_target, rotate_secrets
from services.setup import resolve_team
from settings import get_settings
from tests.support.deliveries import T0, action_to, attempt, use_settings
from tests.support.receiver import Receiver
from tests.support.sending import quiet

pytestmark = pytest.mark.db
TOKEN = "xoxb-1111-2222-" + "Zq8sEcReTbOtToKeN"
SLACK_HOOK = "https://hooks.slack.com/services/T0001/B0001/" + "hOoKsEcReT42"
WEBHOOK = "https://example.com/hooks/sightline?token=" + "wEbHoOkUrLsEcReT"
SIGNING = "sIgNiNgSeCrEt-77"
SECRETS = (TOKEN, "Zq8sEcReTbOtToKeN", "hOoKsEcReT42", "wEbHoOkUrLsEcReT", SIGNING)
RAGE = {
    "name": "Rage",
    "scanner_type": "monitor",
    "provider": "heuristic",
    "scanner_config": {"prompt": "Rage?", "rule": "rage_click"},
}


@pytest.fixture
def slack(sightline_home, monkeypatch):
    with FakeSlack(token=TOKEN) as fake:
        monkeypatch.setenv("SIGHTLINE_SLACK_BASE_URL", fake.api_url)
        get_settings.cache_clear()
        yield fake


@pytest.fixture
def cli(slack, sightline):
    """The in-process CLI (after `init`) with Slack pointed at the fake."""
    return sightline


def use(monkeypatch, key: str | None):
    """Make `key` this process's SIGHTLINE_SECRET_KEY (None: the key file); the new deps."""
    if key is None:
        monkeypatch.delenv("SIGHTLINE_SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("SIGHTLINE_SECRET_KEY", key)
    get_settings.cache_clear()
    return cli_deps()


def team(deps) -> int:
    return resolve_team(deps, None)


def targets(integration_id) -> list[dict]:
    return [
        {"type": "slack", "integration_id": str(integration_id), "channel": "C1"},
        {"type": "slack_webhook", "url": SLACK_HOOK},
        {"type": "webhook", "url": WEBHOOK, "secret": SIGNING},
    ]


def stored_with_secrets(deps, name="Alerts") -> VisionAction:
    """A Slack integration and an action with every kind of secret, through the use cases."""
    team_id = team(deps)
    integration_id, _, _ = add_slack_integration(deps, team_id, name="acme", token=TOKEN)
    create_scanner(deps, team_id, dict(RAGE))
    data = {"name": name, "trigger_config": {"rrule": "FREQ=DAILY;BYHOUR=8"}}
    return create_action(deps, team_id, "Rage", {**data, "delivery_config": targets(integration_id)})


def raw_rows(deps) -> str:
    """Every stored integration and action, as the database holds them."""
    with deps.read() as session:
        rows = session.execute(text("SELECT bot_token, config FROM integrations")).all()
        rows += session.execute(text("SELECT delivery_config FROM vision_actions")).all()
    return json.dumps([[str(cell) for cell in row] for row in rows])


def test_tokens_and_target_secrets_are_stored_encrypted_and_printed_only_masked(cli, slack):
    added = cli("integrations", "add-slack", "--token", TOKEN, "--name", "acme", "--report-channel", "CREP")
    assert added.exit_code == 0, added.output
    assert "workspace 'Acme'" in added.output and "bot 'sightline'" in added.output
    deps = cli_deps()
    integration = json.loads(cli("integrations", "list", "--json").output)[0]
    assert integration["token_mask"] == f"{TOKEN[:5]}…{TOKEN[-4:]}"
    assert integration["report_channel"] == "CREP" and integration["workspace"] == "Acme"
    create_scanner(deps, team(deps), dict(RAGE))
    target_options = [
        option for target in targets(integration["id"]) for option in ("--target", json.dumps(target))
    ]
    created = cli("actions", "create", "--name", "Alerts", "--scanner", "Rage", *target_options)
    assert created.exit_code == 0, created.output

    shown = cli("actions", "show", "Alerts").output
    listed = cli("integrations", "list").output + cli("integrations", "list", "--json").output
    raw = raw_rows(deps)

    for output in (added.output, created.output, shown, listed, raw):
        assert not [secret for secret in SECRETS if secret in output], output
    assert (
        "https://hooks.slack.com/…eT42" in shown and "••••••••" in shown and "https://example.com/" in shown
    )
    assert [request.path for request in slack.requests] == ["/api/auth.test"]  # a check, never a post


def test_the_plaintext_a_delivery_posts_with_comes_from_plaintext_target(cli, slack):
    deps = cli_deps()
    action = stored_with_secrets(deps)
    with deps.read() as session:
        stored = session.get_one(VisionAction, action.id).delivery_config
        opened = [plaintext_target(session, deps.settings, target) for target in stored]

    assert opened[0]["token"] == TOKEN and opened[0]["channel"] == "C1"
    assert opened[1] == {"type": "slack_webhook", "url": SLACK_HOOK}
    assert opened[2] == {"type": "webhook", "url": WEBHOOK, "secret": SIGNING}
    # a Delivery row finds its stored target by the key of the target in clear, without decrypting
    assert [target_key(target) for target in stored] == [
        target_key(target) for target in targets(opened[0]["integration_id"])
    ]
    assert check_slack_token(opened[0]["token"], deps.settings).workspace == "Acme"


def test_no_secret_reaches_a_log_line(cli, slack, monkeypatch, capsys, caplog):
    monkeypatch.setattr(logs, "_configured", False)
    logs.configure_logging("DEBUG", "json")
    caplog.set_level(logging.DEBUG)  # slack_sdk narrates its requests (headers too) at DEBUG
    for name in ("slack_sdk", "slack_sdk.web.base_client"):  # whatever an earlier test configured
        monkeypatch.setattr(logging.getLogger(name), "disabled", False)
        caplog.set_level(logging.DEBUG, logger=name)
    deps = cli_deps()
    action = stored_with_secrets(deps)
    check_integration(deps, team(deps), "acme")
    with deps.read() as session:
        for target in session.get_one(VisionAction, action.id).delivery_config:
            plaintext_target(session, deps.settings, target)
    rotate_secrets(deps)
    captured = capsys.readouterr()

    lines = captured.out + captured.err + caplog.text
    assert "integration_added" in lines and "secrets_rotated" in lines and "auth.test" in caplog.text
    assert not [secret for secret in SECRETS if secret in lines]


def test_two_keys_read_old_secrets_and_rotation_moves_them_to_the_first(cli, monkeypatch):
    old, new = f"old passphrase {uuid.uuid4().hex}", f"new passphrase {uuid.uuid4().hex}"
    action = stored_with_secrets(use(monkeypatch, old))
    before = raw_rows(cli_deps())

    both = use(monkeypatch, f"{new},{old}")
    with both.read() as session:
        stored = session.get_one(VisionAction, action.id).delivery_config
    assert open_targets(secret_box(both.settings), stored)[2]["secret"] == SIGNING
    done = rotate_secrets(both)
    assert (done.integrations, done.actions, done.sources) == (1, 1, 0)

    only_new = use(monkeypatch, new)
    assert raw_rows(only_new) != before
    assert check_integration(only_new, team(only_new), "acme").workspace == "Acme"
    with only_new.read() as session:
        stored = session.get_one(VisionAction, action.id).delivery_config
    assert open_targets(secret_box(only_new.settings), stored)[2]["secret"] == SIGNING
    with pytest.raises(
        ConfigurationError, match="cannot be decrypted with the key from SIGHTLINE_SECRET_KEY"
    ):
        open_targets(secret_box(use(monkeypatch, old).settings), stored)


def test_rotate_with_a_new_key_rewrites_the_key_file_and_old_secrets_still_read(cli, sightline_home):
    deps = cli_deps()
    stored_with_secrets(deps)
    key_file = sightline_home / "secret.key"
    old_key = key_file.read_bytes()

    rotated = cli("secrets", "rotate", "--new-key")

    assert rotated.exit_code == 0, rotated.output
    assert "1 integration(s), 1 action(s) and 0 source(s)" in rotated.output
    assert key_file.read_bytes() != old_key and len(key_file.read_bytes().split()) == 1
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "workspace 'Acme'" in cli("integrations", "test", "acme").output
    assert "••••••••" in cli("actions", "show", "Alerts").output


def test_a_wrong_key_is_a_clear_configuration_error_naming_no_secret(cli, monkeypatch):
    action = stored_with_secrets(use(monkeypatch, f"the right key {uuid.uuid4().hex}"))
    wrong = use(monkeypatch, f"another key {uuid.uuid4().hex}")

    tested = cli("integrations", "test", "acme")
    shown = cli("actions", "show", "Alerts")
    with wrong.read() as session, pytest.raises(DeliveryRejected) as refused:
        plaintext_target(session, wrong.settings, session.get_one(VisionAction, action.id).delivery_config[2])

    for output in (tested.output, shown.output, str(refused.value)):
        assert "cannot be decrypted with the key from SIGHTLINE_SECRET_KEY" in output, output
        assert not [secret for secret in SECRETS if secret in output]
    assert tested.exit_code == shown.exit_code == 2
    assert "rotate" in tested.output  # says what to do


def test_a_token_slack_refuses_is_not_stored(cli, slack):
    refused = cli("integrations", "add-slack", "--token", "xoxb-not-the-right-one", "--name", "acme")

    assert refused.exit_code == 2 and "Slack refused it (invalid_auth)" in refused.output
    assert "xoxb-not-the-right-one" not in refused.output
    assert json.loads(cli("integrations", "list", "--json").output) == []
    assert cli("integrations", "add-slack", "--token", "nope", "--name", "x").exit_code == 2
    assert [request.path for request in slack.requests] == ["/api/auth.test"]


def test_names_are_unique_in_a_team(cli):
    assert cli("integrations", "add-slack", "--token", TOKEN, "--name", "acme").exit_code == 0
    again = cli("integrations", "add-slack", "--token", TOKEN, "--name", " acme ")

    assert again.exit_code == 2 and "'acme' is taken in this team" in again.output
    deps = cli_deps()
    with pytest.raises(IntegrityError), session_scope(deps.sessions) as session:
        session.add(Integration(team_id=team(deps), name="acme", bot_token="x"))
    assert len(json.loads(cli("integrations", "list", "--json").output)) == 1


def test_integrations_are_tested_renamed_and_removed_once_no_enabled_action_uses_them(cli, slack):
    deps = cli_deps()
    stored_with_secrets(deps)

    tested = cli("integrations", "test", "acme")
    assert (
        tested.exit_code == 0
        and "ok: workspace 'Acme' (https://acme.slack.com/), bot 'sightline'" in tested.output
    )
    assert not slack.posts()
    assert cli("integrations", "rename", "acme", "ops").exit_code == 0
    assert [row["name"] for row in json.loads(cli("integrations", "list", "--json").output)] == ["ops"]
    assert cli("integrations", "test", "acme").exit_code == 2

    refused = cli("integrations", "remove", "ops")
    assert refused.exit_code == 2 and "enabled actions 'Alerts'" in refused.output
    assert cli("actions", "update", "Alerts", "--set", "enabled=false").exit_code == 0
    assert "removed integration 'ops'" in cli("integrations", "remove", "ops").output
    assert json.loads(cli("integrations", "list", "--json").output) == []


def test_a_report_ready_before_slack_gets_its_card_once_slack_is_added(cli):
    deps, sender = quiet(cli_deps())
    team_id = team(deps)
    with session_scope(deps.sessions) as session:
        report = SignalReport(
            team_id=team_id, title="Pay fails", summary="…", status=ReportStatus.READY, total_weight=1.5
        )
        session.add(report)

    _, _, cards = add_slack_integration(deps, team_id, name="acme", token=TOKEN, report_channel="CREPORTS")
    add_slack_integration(deps, team_id, name="second", token=TOKEN, report_channel="COTHER")

    with deps.read() as session:
        deliveries = session.exec(select(Delivery).where(Delivery.report_id == report.id)).all()
        assert session.get_one(SignalReport, report.id).notified_at is not None
    assert cards == 1 and [row.target.rsplit(":", 1)[1] for row in deliveries] == ["CREPORTS"]
    assert sender.to("deliver") == [str(deliveries[0].id)]  # enqueued once, posted by a worker


def test_init_keeps_the_data_folder_to_its_user_whatever_the_umask(sightline_home, monkeypatch):
    from typer.testing import CliRunner

    from cli.main import app

    monkeypatch.delenv("SIGHTLINE_SECRET_KEY", raising=False)
    get_settings.cache_clear()
    previous = os.umask(0)
    try:
        assert CliRunner().invoke(app, ["init"], catch_exceptions=False).exit_code == 0
        deps = cli_deps()
        ref, _ = deps.blobs.write(1, "s-1", [{"type": 4, "timestamp": 1}])
    finally:
        os.umask(previous)

    def mode(path: Path) -> int:
        return stat.S_IMODE(path.stat().st_mode)

    assert mode(sightline_home) == 0o700
    assert mode(sightline_home / "blobs") == mode(sightline_home / "blobs" / "1") == 0o700
    assert mode(sightline_home / "blobs" / ref) == 0o600
    assert mode(sightline_home / "secret.key") == 0o600
    database = sightline_home / "sightline.db"
    assert [mode(path) for path in database.parent.glob("sightline.db*")] == [0o600] * len(
        list(database.parent.glob("sightline.db*"))
    )
    assert mode(database) == 0o600


def test_a_digest_set_up_through_the_use_cases_posts_to_slack_and_a_webhook_with_the_secrets_in_clear(
    world, monkeypatch
):
    with FakeSlack(token=TOKEN) as slack, Receiver() as receiver:
        env = {"SIGHTLINE_SLACK_BASE_URL": slack.api_url, "SIGHTLINE_WEBHOOK_ALLOW_PRIVATE": "true"}
        use_settings(world, monkeypatch, **env)
        deps = process_deps(world.settings)
        integration_id, _, _ = add_slack_integration(deps, world.team_id, name="acme", token=TOKEN)
        webhook = {"type": "webhook", "url": f"{receiver.url}/in?token=wEbHoOkUrLsEcReT", "secret": SIGNING}
        slack_target = {"type": "slack", "integration_id": str(integration_id), "channel": "C1"}
        template = action_to(world, {"type": "log"})
        data = {"name": "Alerts", "trigger_config": {"rrule": "FREQ=DAILY;BYHOUR=8"}}
        with deps.read() as session:
            scanner = session.get_one(Scanner, template.scanner_id).name
        action = create_action(
            deps, world.team_id, scanner, {**data, "delivery_config": [slack_target, webhook]}
        )
        with session_scope(world.db.sessions) as session:
            run = ActionRun(action_id=action.id, scheduled_at=T0)
            session.add(run)
        quiet_deps, _ = quiet(process_deps(world.settings))

        outcomes = [attempt(world, delivery) for delivery in run_action(quiet_deps, run.id).deliveries]

    assert outcomes == ["delivered", "delivered"]
    assert slack.posts()[0].headers["authorization"] == f"Bearer {TOKEN}"
    (received,) = receiver.received
    stamp = int(received.headers[TIMESTAMP_HEADER])
    assert received.path == "/in?token=wEbHoOkUrLsEcReT"
    assert received.headers[SIGNATURE_HEADER] == sign(SIGNING, stamp, received.body)
