"""`sightline actions …` and actions in `sightline apply` (`integrations …`: test_secrets_at_rest.py)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from cli.main import app

pytestmark = pytest.mark.db
RAGE = [
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
]


def test_a_new_scanner_gets_a_daily_digest_and_actions_can_be_managed(sightline):
    created = sightline(*RAGE, "--config", '{"prompt": "Rage?", "rule": "rage_click"}')
    assert created.exit_code == 0, created.output
    listing = sightline("actions", "list")
    assert "Featured digest: Rage\tgroup_summary\tyes\tFREQ=DAILY;BYHOUR=8;BYMINUTE=0\tUTC" in listing.output
    made = sightline(
        "actions",
        "create",
        "--name",
        "Rage alert",
        "--scanner",
        "Rage",
        "--mode",
        "alert",
        "--alert",
        "{metric: count, threshold: 5, window_days: 1}",
        "--rrule",
        "FREQ=HOURLY",
    )
    assert made.exit_code == 0 and "next run" in made.output, made.output
    bad = sightline("actions", "create", "--name", "Bad", "--scanner", "Rage", "--rrule", "FREQ=SECONDLY")
    assert bad.exit_code == 2 and "trigger_config.rrule" in bad.output
    unknown = sightline(
        "actions", "create", "--name", "Bad", "--scanner", "Rage", "--selection", "{colour: red}"
    )
    assert unknown.exit_code == 2 and "unknown keys colour" in unknown.output
    slack = sightline(
        "actions",
        "create",
        "--name",
        "S",
        "--scanner",
        "Rage",
        "--target",
        "{type: slack, integration_id: 00000000-0000-0000-0000-000000000000, channel: C1}",
    )
    assert slack.exit_code == 2 and "integration_id" in slack.output
    assert "changed enabled" in sightline("actions", "update", "Rage alert", "--set", "enabled=false").output
    assert "\tno\t" in sightline("actions", "list").output
    assert "window_days: 1" in sightline("actions", "show", "Rage alert").output
    assert sightline("actions", "delete", "Rage alert").exit_code == 0
    assert "Rage alert" not in sightline("actions", "list").output


def test_apply_creates_scanners_and_actions_and_a_second_run_changes_nothing(sightline, tmp_path):
    file = tmp_path / "sightline.yaml"
    file.write_text("""
scanners:
  - name: Rage
    scanner_type: monitor
    provider: heuristic
    scanner_config: {prompt: "Rage?", rule: rage_click}
actions:
  - name: Morning rage digest
    scanner: Rage
    trigger_config: {rrule: "FREQ=DAILY;BYHOUR=9", timezone: Europe/Prague}
    selection: {verdict: [yes]}
    delivery_config: [{type: log}]
""")
    first = sightline("apply", str(file))
    assert "Rage: created" in first.output and "Morning rage digest: created" in first.output, first.output
    second = sightline("apply", str(file))
    assert "Rage: unchanged" in second.output and "Morning rage digest: unchanged" in second.output
    file.write_text(file.read_text().replace("BYHOUR=9", "BYHOUR=10"))
    dry = sightline("apply", str(file), "--dry-run")
    assert "Morning rage digest: would be updated (trigger_config)" in dry.output
    assert "BYHOUR=9" in sightline("actions", "show", "Morning rage digest").output


def test_run_now_waits_for_the_worker_and_prints_the_digest(world):
    world.scanner(
        name="Rage",
        scanner_type="monitor",
        provider="heuristic",
        scanner_config={"prompt": "Rage?", "rule": "rage_click"},
    )
    world.observe(_scanner(world), world.scenarios["checkout-js-error"].session_id)
    result = CliRunner().invoke(
        app,
        ["actions", "run-now", "Featured digest: Rage", "--wait", "--timeout", "60"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "run completed" in result.output and "log: delivered" in result.output
    assert "**Summary for Rage**" in result.output
    logged = (world.settings.home / "deliveries.jsonl").read_text()
    assert "Summary for Rage" in logged


def _scanner(world):
    from sqlmodel import select

    from models import Scanner

    with world.db.sessions() as session:
        return session.exec(select(Scanner).where(Scanner.name == "Rage")).one()
