"""Stored secrets in use: decrypted for a delivery, and re-encrypted when the key rotates
(the encryption itself is integrations/secrets.py).

`plaintext_target` is the one place a stored target's secrets (and a Slack target's bot token) are
decrypted, for the delivery that posts with them. `rotate_secrets` re-encrypts every stored secret
with the first key — Slack bot tokens, the secrets of action targets, PostHog API keys — in one
transaction: it either all moves to the new key or none does. With `new_key`, a fresh key is first
written at the head of the key file and, once every secret is re-encrypted, the older keys are
dropped from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import structlog
from sqlmodel import Session

from integrations.secrets import (
    SecretBox,
    keep_only_first_key,
    open_targets,
    put_new_key_first,
    rotate_targets,
    secret_box,
)
from models import Integration, VisionAction
from models.integration_queries import rows_with_secrets
from pipeline.errors import ConfigurationError, DeliveryRejected
from services.context import Deps
from settings import Settings

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Rotated:
    integrations: int
    actions: int
    sources: int
    key_file: str | None  # the key file written, with `new_key`


def plaintext_target(session: Session, settings: Settings, target: dict[str, Any]) -> dict[str, Any]:
    """A stored target as a delivery posts it: its secrets decrypted, a `slack` target with its
    integration's `token`. Raises `DeliveryRejected` when that integration no longer exists or the
    key cannot decrypt the secrets (the message says which key and what to do)."""
    try:
        box = secret_box(settings)
        opened = open_targets(box, [target])[0]
        if opened.get("type") == "slack":
            integration = session.get(Integration, UUID(str(opened["integration_id"])))
            if integration is None:
                raise DeliveryRejected("the Slack integration of this target no longer exists")
            opened["token"] = slack_token(box, integration)
    except ConfigurationError as exc:
        raise DeliveryRejected(str(exc)) from exc
    return opened


def slack_token(box: SecretBox, integration: Integration) -> str:
    """The integration's bot token in clear. A token written in clear before migration 0014 (`xox…`)
    is read as it is. Raises `ConfigurationError` when the key cannot decrypt it."""
    stored = integration.bot_token
    return stored if stored.startswith("xox") else box.decrypt(stored)


def rotate_secrets(deps: Deps, *, new_key: bool = False) -> Rotated:
    """Re-encrypt every stored secret with the first key (see the module docstring). Raises
    `ConfigurationError` when a secret cannot be decrypted with any key (nothing is changed then),
    or for `new_key` when SIGHTLINE_SECRET_KEY is set."""
    path = put_new_key_first(deps.settings) if new_key else None
    box, now = secret_box(deps.settings), deps.now()
    with deps.transaction() as session:
        integrations, actions, sources = rows_with_secrets(session)
        for integration in integrations:
            stored = integration.bot_token  # a token still in clear (xox…) is encrypted now
            integration.bot_token = box.encrypt(stored) if stored.startswith("xox") else box.rotate(stored)
            integration.updated_at = now
        sealed = [action for action in actions if _rotate_action(box, action)]
        for source in sources:
            source.api_key_encrypted = box.rotate(source.api_key_encrypted)
        session.add_all([*integrations, *sealed, *sources])
    if path is not None:
        keep_only_first_key(deps.settings)
    done = Rotated(len(integrations), len(sealed), len(sources), str(path) if path else None)
    log.info("secrets_rotated", integrations=done.integrations, actions=done.actions, sources=done.sources)
    return done


def _rotate_action(box: SecretBox, action: VisionAction) -> bool:
    """Re-encrypt an action's target secrets; False when it has none."""
    rotated = rotate_targets(box, action.delivery_config)
    if rotated == list(action.delivery_config or []):
        return False
    action.delivery_config = rotated
    return True
