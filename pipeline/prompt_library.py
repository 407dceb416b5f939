"""The prompt library's rules: names, texts, references to a prompt, and what a snapshot freezes. Pure.

A scanner (`scanner_config.prompt_ref`) or an action (`synthesis_config.prompt_ref`) may name a
library prompt instead of writing its own: `{name: checkout-friction, version: latest}`, a pinned
`version: 3`, or just the name (latest). The services resolve the reference in the database; the
snapshot an observation keeps holds the resolved text and version, so its history stays exact
when the prompt changes or is deleted later.

Every rejection is an `InvalidField` naming the field and the fix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pipeline.errors import InvalidField
from pipeline.limits import MAX_INTEGER

MAX_NAME = 255
MAX_TEXT = 20_000
LATEST = "latest"
# A name is part of a URL (`llm_prompts/name/:prompt_name`): letters, digits, `.`, `_` and `-`.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
PROMPT_FIELDS = ("name", "prompt")  # what a version is made of: a change to either makes a new one


@dataclass(frozen=True)
class Resolved:
    """One version of a library prompt, as a reference resolved to it."""

    id: str
    name: str
    version: int
    text: str


def validate_name(value: object, field: str = "name") -> str:
    """A prompt's name; `InvalidField` unless 1 to 255 letters, digits, `.`, `_` or `-`."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidField(field, "is required: name the prompt, e.g. checkout-friction")
    if len(value) > MAX_NAME:
        raise InvalidField(field, f"is {len(value):,} characters; the limit is {MAX_NAME}")
    if not _NAME.fullmatch(value):
        raise InvalidField(
            field, f"{value!r}: use letters, digits, '.', '_' and '-', starting with a letter or digit"
        )
    return value


def validate_text(value: object, field: str = "prompt") -> str:
    """A prompt's text, kept as written; `InvalidField` when blank or over 20,000 characters."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidField(field, "is required text: what the model should be told")
    if len(value) > MAX_TEXT:
        raise InvalidField(field, f"is {len(value):,} characters; keep it under {MAX_TEXT:,}")
    return value


def validate_ref(value: object, field: str) -> dict[str, Any]:
    """A reference to a library prompt, normalised to `{name, version}` (`version` a number or
    "latest"); a bare name means the latest version. `InvalidField` naming `field` otherwise."""
    if isinstance(value, str):
        value = {"name": value}
    if not isinstance(value, Mapping):
        raise InvalidField(field, "is {name, version}: a library prompt's name and a version or latest")
    unknown = sorted(set(map(str, value)) - {"name", "version"})
    if unknown:
        raise InvalidField(field, f"unknown keys {', '.join(unknown)}; a prompt_ref takes name and version")
    name = validate_name(value.get("name"), f"{field}.name")
    version = value.get("version", LATEST)
    if version != LATEST and not _version(version):
        raise InvalidField(f"{field}.version", f"{version!r} is not a version number (1, 2, …) or latest")
    return {"name": name, "version": version}


def _version(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_INTEGER


def frozen_ref(resolved: Resolved, requested: object) -> dict[str, Any]:
    """What a snapshot records of a resolved reference: which prompt, which version, and what was asked."""
    return {"id": resolved.id, "name": resolved.name, "version": resolved.version, "requested": requested}


def resolved_config(config: Mapping[str, Any], resolved: Resolved | None) -> dict[str, Any]:
    """A scanner's config as an observation freezes it: a `prompt_ref` is replaced by the text it
    resolved to (`prompt`), and the reference is kept with the version it resolved to."""
    out = dict(config)
    if resolved is None or "prompt_ref" not in out:
        return out
    out["prompt_ref"] = frozen_ref(resolved, out["prompt_ref"].get("version", LATEST))
    out["prompt"] = resolved.text
    return out


def validate_entry(entry: Mapping[str, Any], where: str) -> dict[str, str]:
    """One `prompts:` item of an `apply` file, `{name, prompt}`, at `where` (`prompts[1]`); unknown
    keys are refused. `InvalidField` names the item's field (`prompts[1].prompt`)."""
    unknown = sorted(set(map(str, entry)) - set(PROMPT_FIELDS))
    if unknown:
        raise InvalidField(where, f"unknown keys {', '.join(unknown)}; a prompt takes name and prompt")
    name = validate_name(entry.get("name"), f"{where}.name")
    return {"name": name, "prompt": validate_text(entry.get("prompt"), f"{where}.prompt")}


def check_entries(entries: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Every `prompts:` item valid and every name once; `InvalidField` naming the first bad one."""
    checked = [validate_entry(entry, f"prompts[{index}]") for index, entry in enumerate(entries)]
    names = [entry["name"] for entry in checked]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise InvalidField("prompts", f"names repeat in the file: {', '.join(repeated)}")
    return checked
