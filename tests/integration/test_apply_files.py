"""`sightline apply` reads what `scanners show` and `actions show` print, and refuses a file it would
apply as nothing (no section, a misspelt one, one definition where a list belongs, deep nesting)."""

from __future__ import annotations

import pytest
import yaml

pytestmark = pytest.mark.db

RAGE = ["--type", "monitor", "--provider", "heuristic", "--rule", "rage_click", "--prompt", "Rage?"]


def saved(tmp_path, output: str):
    path = tmp_path / "shown.yaml"
    path.write_text(output)
    return str(path)


def test_what_scanners_show_prints_applies_back_and_an_edit_of_it_updates_the_scanner(sightline, tmp_path):
    assert sightline("scanners", "create", "--name", "Rage", *RAGE).exit_code == 0
    shown = sightline("scanners", "show", "Rage").output
    assert yaml.safe_load(shown)["scanners"][0]["name"] == "Rage"
    path = saved(tmp_path, shown)
    again = sightline("apply", path)
    assert again.exit_code == 0 and again.output.splitlines() == ["Rage: unchanged"], again.output
    saved(tmp_path, shown.replace("sampling_rate: 1.0", "sampling_rate: 0.5"))
    assert sightline("apply", path).output.splitlines() == ["Rage: updated (sampling_rate)"]
    assert sightline("scanners", "delete", "Rage").exit_code == 0
    assert sightline("apply", path).output.splitlines() == ["Rage: created"]


def test_what_actions_show_prints_applies_back_and_moving_it_to_another_scanner_updates_it(
    sightline, tmp_path
):
    for name in ("Rage", "Calm"):
        assert sightline("scanners", "create", "--name", name, *RAGE).exit_code == 0
    shown = sightline("actions", "show", "Featured digest: Rage").output
    assert "scanner: Rage" in shown and "# recent runs: none" in shown
    path = saved(tmp_path, shown)
    again = sightline("apply", path)
    assert again.exit_code == 0 and again.output.splitlines() == ["Featured digest: Rage: unchanged"]
    saved(tmp_path, shown.replace("scanner: Rage", "scanner: Calm").replace("BYHOUR=8", "BYHOUR=9"))
    moved = sightline("apply", path)
    assert moved.output.splitlines() == ["Featured digest: Rage: updated (scanner, trigger_config)"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "is empty; write scanners: [...], actions: [...] and/or prompts: [...]"),
        ("# only a comment\n", "is empty"),
        ("scaners:\n  - name: Rage\n", "has an unknown key 'scaners'; did you mean 'scanners'?"),
        ("name: Rage\nscanner_type: monitor\n", "holds one definition, not a list; put it under `scanners:`"),
        (
            "scanners:\n  name: Rage\n",
            "scanners is one mapping, not a list; start each of its items with `- `",
        ),
        ("scanners: []\nactions: []\n", "names no prompt, no scanner and no action"),
        ("[" * 5_000 + "]" * 5_000, "nests lists or mappings too deeply to read; flatten it"),
    ],
)
def test_a_file_apply_would_read_as_nothing_is_refused_in_one_line(sightline, tmp_path, content, message):
    path = saved(tmp_path, content)
    refused = sightline("apply", path)
    assert refused.exit_code == 2
    assert refused.output.startswith(f"error: {path}: {message}")
    assert len(refused.output.strip().splitlines()) == 1, refused.output


def test_a_deeply_nested_option_value_is_one_line_too(sightline):
    assert sightline("scanners", "create", "--name", "Rage", *RAGE).exit_code == 0
    deep = "[" * 5_000 + "]" * 5_000
    refused = sightline("actions", "create", "--name", "Deep", "--scanner", "Rage", "--selection", deep)
    assert refused.exit_code == 2
    assert (
        refused.output.strip() == "error: selection: nests lists or mappings too deeply to read; flatten it"
    )
