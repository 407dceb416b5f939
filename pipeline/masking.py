"""Secrets in an action's targets (DESIGN §8): shown masked, and a masked value sent back keeps the secret.

A Slack webhook URL or a webhook's URL is a credential (whoever has it can post), and so is a
webhook's signing secret. Reading an action shows them masked (`https://hooks.slack.com/…X9aQ`,
`••••••••`); a change that sends a target back with its masked value unchanged keeps the stored
secret, so a client may round-trip what it read. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

SECRET_KEYS = {"slack_webhook": ("url",), "webhook": ("url", "secret")}
HIDDEN = "••••••••"


def mask(key: str, value: object) -> str:
    """A secret as it may be shown: a URL keeps its scheme, host and last four characters."""
    text = str(value)
    if key != "url":
        return HIDDEN
    try:
        parts = urlsplit(text)
    except ValueError:
        return HIDDEN
    tail = text[-4:] if len(text) > 24 else ""
    return f"{parts.scheme}://{parts.hostname or ''}/…{tail}"


def masked_targets(targets: Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """The targets with every secret masked."""
    shown = []
    for target in targets or []:
        keys = SECRET_KEYS.get(str(target.get("type")), ())
        shown.append({key: mask(key, value) if key in keys else value for key, value in target.items()})
    return shown


def unmasked_targets(new: object, stored: Sequence[Mapping[str, Any]] | None) -> object:
    """`new` targets where a secret equal to the mask of a stored target's secret (same type) is that
    stored secret again; the stored target at the same position is tried first. Anything that is
    not a list is returned as it is, for validation to refuse."""
    if not isinstance(new, list):
        return new
    stored = list(stored or [])
    restored: list[Any] = []
    for index, target in enumerate(new):
        if isinstance(target, Mapping):
            candidates = stored[index : index + 1] + stored
            target = {key: _restore(target, key, value, candidates) for key, value in target.items()}
        restored.append(target)
    return restored


def _restore(
    target: Mapping[str, Any], key: str, value: object, candidates: list[Mapping[str, Any]]
) -> object:
    kind = str(target.get("type"))
    if key not in SECRET_KEYS.get(kind, ()):
        return value
    for old in candidates:
        if str(old.get("type")) == kind and key in old and mask(key, old[key]) == value:
            return old[key]
    return value
