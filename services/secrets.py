"""Rotating the key that encrypts stored secrets (integrations/secrets.py).

`rotate_secrets` re-encrypts every stored secret with the first key — Slack bot tokens, the secrets
of action targets, PostHog API keys — in one transaction: it either all moves to the new key or
none does. With `new_key`, a fresh key is first written at the head of the key file and, once every
secret is re-encrypted, the older keys are dropped from it.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from integrations.secrets import (
    SecretBox,
    keep_only_first_key,
    put_new_key_first,
    rotate_targets,
    secret_box,
)
from models import VisionAction
from models.integration_queries import rows_with_secrets
from services.context import Deps

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Rotated:
    integrations: int
    actions: int
    sources: int
    key_file: str | None  # the key file written, with `new_key`


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
