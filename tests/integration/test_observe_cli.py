"""`sightline observe`, `observations show|retry` and `quota` with a real worker and the fake Gemini."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from cli.main import app
from integrations.fake_gemini import FakeReply

pytestmark = pytest.mark.db
CHECKOUT = "scenario-checkout-js-error"


def run(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_observe_waits_and_show_puts_citations_next_to_timeline_lines(world):
    world.fake.script(
        FakeReply.json({"reasoning": "The Pay click threw (t 25).", "verdict": "yes", "confidence": 0.8})
    )
    world.scanner(
        name="Payment failed", scanner_type="monitor", scanner_config={"prompt": "Did payment fail?"}
    )
    unknown = run("observe", "Payment failed", CHECKOUT, "scenario-nope")
    assert unknown.exit_code == 2 and "no recording of 'scenario-nope'" in unknown.output
    result = run("observe", "Payment failed", CHECKOUT, "--wait", "--timeout", "60")
    assert result.exit_code == 0, result.output
    assert "started          scenario-checkout-js-error" in result.output
    listing = run("observations", "list", "--scanner", "Payment failed")
    assert "succeeded" in listing.output and len(listing.output.splitlines()) == 2
    row_id = next(line.split("\t")[0] for line in listing.output.splitlines() if "succeeded" in line)
    shown = run("observations", "show", row_id)
    assert '(t 25) → [t=25] click button.primary "Pay"' in shown.output
    again = run("observe", "Payment failed", CHECKOUT)
    assert "already_scanned" in again.output


def test_retry_reruns_a_failed_observation_and_quota_reports_credits(world):
    world.fake.script(
        FakeReply.error(400, "refused"),
        FakeReply.json({"reasoning": "Threw (t 25).", "verdict": "yes", "confidence": 0.8}),
    )
    world.scanner(
        name="Payment failed", scanner_type="monitor", scanner_config={"prompt": "Did payment fail?"}
    )
    run("observe", "Payment failed", CHECKOUT, "--wait", "--timeout", "60")
    failed = run("observations", "list", "--status", "failed")
    row_id = next(
        line.split("\t")[0]
        for line in failed.output.splitlines()
        if "failed" in line and "provider_rejected" in line
    )
    assert run("observations", "retry", row_id).exit_code == 0
    world.drain()
    assert "succeeded" in run("observations", "list", "--scanner", "Payment failed").output
    quota = run("quota").output
    assert "limit 15,000 · used 5 · remaining 14,995" in quota
    assert run("observations", "retry", row_id).exit_code == 2  # the old id is gone


def test_observe_wait_that_times_out_exits_1_naming_the_sessions_still_running(world):
    world.stop_worker()
    world.scanner(
        name="Rage",
        scanner_type="monitor",
        provider="heuristic",
        scanner_config={"prompt": "Rage?", "rule": "rage_click"},
    )
    result = run("observe", "Rage", CHECKOUT, "--wait", "--timeout", "0.2")
    assert result.exit_code == 1, result.output
    assert f"still running after 0.2 s: {CHECKOUT} (pending); is `sightline worker` running?" in result.output


def test_observe_all_on_a_team_without_recordings_says_there_are_none(sightline):
    sightline(
        "scanners",
        "create",
        "--name",
        "Rage",
        "--type",
        "monitor",
        "--provider",
        "heuristic",
        "--rule",
        "rage_click",
        "--prompt",
        "Rage?",
    )
    result = sightline("observe", "Rage", "--all")
    assert result.exit_code == 2
    assert "session_ids: the team has no recordings yet; import some first" in result.output
