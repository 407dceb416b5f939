"""`sightline scanners` and `sightline apply` against a real database."""

from __future__ import annotations

import json

import pytest
import yaml

pytestmark = pytest.mark.db


SCANNERS = {
    "scanners": [
        {
            "name": "Payment failed",
            "scanner_type": "monitor",
            "scanner_config": {"prompt": "Did payment fail?"},
            "query": {"url_contains": "/checkout"},
        },
        {
            "name": "Friction",
            "scanner_type": "classifier",
            "provider": "heuristic",
            "scanner_config": {"prompt": "Which friction?", "tags": ["rage_click", "no_friction"]},
        },
    ]
}


def write(tmp_path, document) -> str:
    path = tmp_path / "scanners.yaml"
    path.write_text(yaml.safe_dump(document))
    return str(path)


def test_apply_twice_changes_nothing_the_second_time(sightline, tmp_path):
    path = write(tmp_path, SCANNERS)
    first = sightline("apply", path)
    assert first.exit_code == 0, first.output
    assert first.output.splitlines() == ["Payment failed: created", "Friction: created"]
    second = sightline("apply", path)
    assert second.output.splitlines() == ["Payment failed: unchanged", "Friction: unchanged"]


def test_a_changed_prompt_bumps_the_version_and_dry_run_changes_nothing(sightline, tmp_path):
    sightline("apply", write(tmp_path, SCANNERS))
    changed = yaml.safe_load(yaml.safe_dump(SCANNERS))
    changed["scanners"][0]["scanner_config"]["prompt"] = "Did the payment fail twice?"
    path = write(tmp_path, changed)
    dry = sightline("apply", path, "--dry-run")
    assert "Payment failed: would be updated (scanner_config)" in dry.output
    assert "scanner_version: 1" in sightline("scanners", "show", "Payment failed").output
    sightline("apply", path)
    shown = sightline("scanners", "show", "Payment failed").output
    assert "scanner_version: 2" in shown and "Did the payment fail twice?" in shown


def test_changing_only_the_description_keeps_the_version(sightline, tmp_path):
    sightline("apply", write(tmp_path, SCANNERS))
    result = sightline("scanners", "update", "Payment failed", "--set", "description=Money matters")
    assert result.output.strip() == "changed description; version 1"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--type", "monitor", "--config", '{"prompt": "x", "threshold": 3}'],
            "scanner_config: unknown keys threshold",
        ),
        (
            ["--type", "monitor", "--prompt", "x", "--sampling-rate", "0.00005"],
            "below the 0.0001 minimum; use 0 to pause",
        ),
        (["--type", "monitor"], "scanner_config.prompt: is required"),
        (
            ["--type", "scorer", "--prompt", "x", "--scale-min", "5", "--scale-max", "1"],
            "scanner_config.scale: min 5.0 must be a number below max 1.0",
        ),
        (
            ["--type", "classifier", "--prompt", "x", "--tag", "Slow page", "--tag", "slow_page"],
            "repeats 'slow_page' once slugified",
        ),
        (
            ["--type", "monitor", "--prompt", "x", "--query", '{"country": "FR"}'],
            "query: unknown keys country",
        ),
        (["--type", "monitor", "--prompt", "x", "--model", "gpt-9"], "model: 'gpt-9' has no price"),
        (["--type", "poll", "--prompt", "x"], "scanner_type: 'poll' is not one of"),
    ],
)
def test_bad_scanner_definitions_name_the_field_and_the_fix(sightline, args, message):
    result = sightline("scanners", "create", "--name", "bad", *args)
    assert result.exit_code == 2
    assert message in result.output


def test_an_unknown_scanner_is_a_clear_error(sightline):
    result = sightline("scanners", "show", "nope")
    assert result.exit_code == 2 and "no scanner 'nope'" in result.output


def test_a_scanner_is_deleted_with_its_digest_until_something_ran(sightline, tmp_path):
    assert sightline("apply", write(tmp_path, SCANNERS)).exit_code == 0
    deleted = sightline("scanners", "delete", "Friction")
    assert deleted.exit_code == 0, deleted.output
    assert "Friction" not in sightline("scanners", "list").output
    assert "Featured digest: Friction" not in sightline("actions", "list").output
    started = sightline("actions", "run-now", "Featured digest: Payment failed")
    assert started.exit_code == 0, started.output
    refused = sightline("scanners", "delete", "Payment failed")
    assert refused.exit_code == 2
    assert (
        "its action 'Featured digest: Payment failed' has runs; disable the scanner instead" in refused.output
    )


def test_a_gemini_scanner_without_a_key_is_kept_with_a_warning_and_status_shows_it_waiting(
    sightline, monkeypatch, tmp_path
):
    from settings import get_settings

    monkeypatch.delenv("GEMINI_API_KEY")
    get_settings.cache_clear()
    created = sightline(
        "scanners", "create", "--name", "Payment failed", "--type", "monitor", "--prompt", "Did it fail?"
    )
    assert created.exit_code == 0, created.output
    warning = "warning: scanner 'Payment failed' uses Gemini but GEMINI_API_KEY is not set"
    assert warning in created.output and "observes nothing until it is set" in created.output
    applied = sightline("apply", write(tmp_path, SCANNERS))
    assert applied.exit_code == 0 and "Payment failed: updated (scanner_config, query)" in applied.output
    assert applied.output.count("warning:") == 1  # the heuristic scanner needs no key
    status = sightline("status")
    assert "Payment failed\tyes\t1\t-\twaiting for GEMINI_API_KEY" in status.output, status.output
    rows = {row["name"]: row for row in json.loads(sightline("status", "--json").output)["scanners"]}
    assert rows["Payment failed"]["waiting_for"] == "GEMINI_API_KEY"
    assert rows["Payment failed"]["next_sweep_at"] is None
    assert rows["Friction"]["waiting_for"] is None and rows["Friction"]["next_sweep_at"]
