"""Prompts, scanners and actions as code: the one shape of the file `sightline apply` reads and
`show` prints.

    prompts:                   # a list: each item is one library prompt (a new text is a new version)
      - name: payment-failed
        prompt: Did a payment fail? Look for error messages after the pay button.
    scanners:                  # a list: each item is one scanner
      - name: Payment failed
        scanner_type: monitor
        scanner_config: {prompt_ref: {name: payment-failed, version: latest}}   # or {prompt: ...}
    actions:                   # a list: each item names the scanner it summarises
      - name: Morning digest
        scanner: Payment failed
        trigger_config: {rrule: FREQ=DAILY;BYHOUR=9, timezone: Europe/Prague}
    scouts:                    # a list: each item is one custom scout (`pipeline.scouts`)
      - name: signals-scout-pricing-rage
        metric: pattern:rage_click
        group_by: element
        threshold: 3
        baseline: none

A bare list is a list of scanners. Anything else is refused with what is wrong and how to fix it
(a file naming nothing, a misspelt section, one definition written where a list belongs), never
applied as "nothing to do".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from difflib import get_close_matches
from typing import Any

from pipeline.errors import InvalidField

SECTIONS = ("prompts", "scanners", "actions", "scouts")
SHAPE = "scanners: [...], actions: [...] and/or prompts: [...]"


def document(
    *, scanners: Sequence[Mapping] = (), actions: Sequence[Mapping] = (), prompts: Sequence[Mapping] = ()
) -> dict[str, list[dict]]:
    """The file `apply` reads for these definitions (an empty section is left out)."""
    found = {
        "prompts": [dict(each) for each in prompts],
        "scanners": [dict(each) for each in scanners],
        "actions": [dict(each) for each in actions],
    }
    return {section: entries for section, entries in found.items() if entries}


def entries(document: Any, source: str) -> tuple[list[dict], list[dict], list[dict]]:
    """The prompt, scanner and action definitions of an `apply` file, in order.

    Raises `InvalidField` naming `source` when the file is empty, is not a mapping of the three
    sections (or a bare list of scanners), has another key, holds a section that is not a list of
    mappings, or names no prompt, no scanner and no action.
    """
    if isinstance(document, list):
        document = {"scanners": document}
    if not isinstance(document, Mapping):
        what = "empty" if document is None else f"only {_shown(document)}"
        raise InvalidField(source, f"is {what}; write {SHAPE}")
    _check_keys(document, source)
    prompts, scanners, actions = (
        _section(document.get(section), section, source) for section in SECTIONS[:3]
    )
    if not prompts and not scanners and not actions and not scout_entries(document, source):
        raise InvalidField(source, f"names no prompt, no scanner and no action (nor a scout); write {SHAPE}")
    return prompts, scanners, actions


def scout_entries(document: Any, source: str) -> list[dict]:
    """The custom scouts of an `apply` file (its `scouts:` section); `entries` checks the rest."""
    if not isinstance(document, Mapping):
        return []
    return _section(document.get("scouts"), "scouts", source)


def _check_keys(document: Mapping, source: str) -> None:
    unknown = [str(key) for key in document if key not in SECTIONS]
    if not unknown:
        return
    if "name" in document:  # one definition, pasted without its section and its `- `
        section = _section_of(document)
        hint = f"put it under `{section}:` as a list item (`- name: …`)"
        raise InvalidField(source, f"holds one definition, not a list; {hint}")
    close = get_close_matches(unknown[0], SECTIONS, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"the file holds only {SHAPE}"
    raise InvalidField(source, f"has an unknown key {unknown[0]!r}; {hint}")


def _section_of(definition: Mapping) -> str:
    """The section one pasted definition belongs to, from the keys only it has."""
    if "scanner" in definition or "trigger_config" in definition:
        return "actions"
    return "prompts" if "prompt" in definition and "scanner_type" not in definition else "scanners"


def _section(value: Any, section: str, source: str) -> list[dict]:
    """One section's entries (an empty `scanners:` is none); `InvalidField` unless a list of mappings."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        raise InvalidField(
            source, f"{section} is one mapping, not a list; start each of its items with `- ` (`- name: …`)"
        )
    if not isinstance(value, list):
        raise InvalidField(source, f"{section} must be a list of mappings ({SHAPE})")
    for index, entry in enumerate(value):
        if not isinstance(entry, Mapping):
            found = _shown(entry)
            raise InvalidField(source, f"{section}[{index}] is {found}, not a mapping such as `- name: …`")
    return [dict(entry) for entry in value]


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"
