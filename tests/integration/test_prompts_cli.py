"""`sightline prompts …` and prompts in `sightline apply` against a real database."""

from __future__ import annotations

import pytest
import yaml

pytestmark = pytest.mark.db


def test_create_edit_show_history_delete_and_restore(sightline, tmp_path):
    created = sightline("prompts", "create", "pay-failed", "--text", "Did a payment fail?")
    assert created.exit_code == 0, created.output
    assert "created prompt pay-failed" in created.output and "version 1" in created.output
    text = tmp_path / "prompt.txt"
    text.write_text("Did the visitor give up paying?\nLook after the Pay button.")

    edited = sightline("prompts", "edit", "pay-failed", "--file", str(text))
    same = sightline("prompts", "edit", "pay-failed", "--file", str(text))
    shown = sightline("prompts", "show", "pay-failed", "--version", "1")
    history = sightline("prompts", "history", "pay-failed")

    assert "version 2" in edited.output and "nothing changed" in same.output
    assert "# id: " in shown.output and "version 1 of 2" in shown.output
    document = yaml.safe_load(shown.output.split("\n", 1)[1])
    assert document == {"prompts": [{"name": "pay-failed", "prompt": "Did a payment fail?"}]}
    assert "Did the visitor give up paying?" in history.output and "Did a payment fail?" in history.output

    prompt_id = shown.output.split("# id: ")[1].split(",")[0]
    deleted = sightline("prompts", "delete", "pay-failed")
    assert deleted.exit_code == 0 and "deleted" in deleted.output
    assert "pay-failed" not in sightline("prompts", "list").output
    assert "pay-failed" in sightline("prompts", "list", "--deleted").output
    assert sightline("prompts", "show", "pay-failed").exit_code != 0
    assert "deleted" in sightline("prompts", "show", prompt_id).output
    restored = sightline("prompts", "restore", prompt_id)
    assert "restored" in restored.output and "pay-failed" in sightline("prompts", "list").output


def test_a_missing_text_or_a_bad_name_is_refused_naming_the_option(sightline):
    no_text = sightline("prompts", "create", "pay-failed")
    bad_name = sightline("prompts", "create", "pay failed", "--text", "x")

    assert no_text.exit_code == 2 and "--text" in no_text.output
    assert bad_name.exit_code == 2 and "name" in bad_name.output and "letters, digits" in bad_name.output


def test_apply_writes_prompts_a_scanner_of_the_same_file_names(sightline, tmp_path):
    path = tmp_path / "library.yaml"
    document = {
        "prompts": [{"name": "pay-failed", "prompt": "Did a payment fail?"}],
        "scanners": [
            {
                "name": "Pay",
                "scanner_type": "monitor",
                "scanner_config": {"prompt_ref": {"name": "pay-failed", "version": "latest"}},
            }
        ],
    }
    path.write_text(yaml.safe_dump(document))

    first = sightline("apply", str(path))
    document["prompts"][0]["prompt"] = "Did the visitor give up paying?"
    path.write_text(yaml.safe_dump(document))
    second = sightline("apply", str(path))

    assert first.exit_code == 0, first.output
    assert "prompt pay-failed: created (version 1)" in first.output and "Pay: created" in first.output
    assert (
        "prompt pay-failed: updated (prompt, version 2)" in second.output
        and "Pay: unchanged" in second.output
    )
    path.write_text(yaml.safe_dump({"prompts": [{"name": "pay-failed", "text": "x"}]}))
    refused = sightline("apply", str(path))
    assert refused.exit_code == 2 and "prompts[0]: unknown keys text" in refused.output


def test_prompts_help_names_every_command(sightline):
    shown = sightline("prompts", "--help")
    for command in ("create", "list", "show", "edit", "history", "delete", "restore"):
        assert command in shown.output
