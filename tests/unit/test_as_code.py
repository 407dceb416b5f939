"""The one shape of a scanners-as-code file: what `show` prints is what `apply` reads."""

from __future__ import annotations

import pytest

from pipeline.as_code import document, entries
from pipeline.errors import InvalidField

SCANNER = {"name": "Rage", "scanner_type": "monitor", "scanner_config": {"prompt": "Rage?"}}
ACTION = {"name": "Digest", "scanner": "Rage", "trigger_config": {"rrule": "FREQ=DAILY"}}
PROMPT = {"name": "rage", "prompt": "Did the visitor rage-click?"}


def test_what_show_prints_is_what_apply_reads():
    assert document(scanners=[SCANNER]) == {"scanners": [SCANNER]}
    assert document(actions=[ACTION]) == {"actions": [ACTION]}
    assert document(prompts=[PROMPT]) == {"prompts": [PROMPT]}
    both = document(scanners=[SCANNER], actions=[ACTION])
    assert entries(both, "f.yaml") == ([], [SCANNER], [ACTION])


def test_a_file_of_prompts_alone_is_a_file_to_apply():
    assert entries({"prompts": [PROMPT]}, "f.yaml") == ([PROMPT], [], [])


def test_a_bare_list_is_a_list_of_scanners_and_an_empty_section_is_none():
    assert entries([SCANNER], "f.yaml") == ([], [SCANNER], [])
    assert entries({"scanners": None, "actions": [ACTION]}, "f.yaml") == ([], [], [ACTION])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "f.yaml: is empty; write scanners: [...], actions: [...] and/or prompts: [...]"),
        ("scanners", "f.yaml: is only 'scanners'; write scanners: [...]"),
        ({}, "f.yaml: names no prompt, no scanner and no action"),
        ({"scanners": []}, "f.yaml: names no prompt, no scanner and no action"),
        ({"scaners": [SCANNER]}, "f.yaml: has an unknown key 'scaners'; did you mean 'scanners'?"),
        ({"promts": [PROMPT]}, "f.yaml: has an unknown key 'promts'; did you mean 'prompts'?"),
        (PROMPT, "f.yaml: holds one definition, not a list; put it under `prompts:` as a list item"),
        ({"prompts": PROMPT}, "f.yaml: prompts is one mapping, not a list"),
        (
            {"scanners": [SCANNER], "colour": "red"},
            "f.yaml: has an unknown key 'colour'; the file holds only",
        ),
        (SCANNER, "f.yaml: holds one definition, not a list; put it under `scanners:` as a list item"),
        (ACTION, "f.yaml: holds one definition, not a list; put it under `actions:` as a list item"),
        (
            {"scanners": SCANNER},
            "f.yaml: scanners is one mapping, not a list; start each of its items with `- `",
        ),
        ({"actions": "Digest"}, "f.yaml: actions must be a list of mappings"),
        ({"scanners": [SCANNER, "Rage"]}, "f.yaml: scanners[1] is 'Rage', not a mapping such as `- name: …`"),
    ],
)
def test_a_file_that_would_apply_nothing_is_refused_naming_the_problem(content, message):
    with pytest.raises(InvalidField) as refused:
        entries(content, "f.yaml")
    assert str(refused.value).startswith(message)
    assert refused.value.field == "f.yaml"
