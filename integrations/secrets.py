"""Secrets at rest (Slack bot tokens, Slack webhook URLs, webhook URLs and secrets, PostHog API keys):
encrypted with Fernet (AES-128-CBC + HMAC-SHA256).

The keys are `SIGHTLINE_SECRET_KEY` when set (Fernet keys as `Fernet.generate_key()` prints them, or
any other strings, each hashed into one: make them long and random), or else the `secret.key` file
in SIGHTLINE_HOME, created once with mode 0600 (by `sightline init`, or by the first use). Several
keys, newest first (`new,old` in the variable, one a line in the file), make rotation possible: the
first encrypts, any decrypts, and `rotate` re-encrypts with the first (`sightline secrets rotate`).
Losing or changing the key makes what was stored with it unreadable: `decrypt` then raises
`ConfigurationError` saying so, never the ciphertext or the plaintext.

An action's target keeps its secrets sealed in place (`{type: webhook, url: <ciphertext>, secret:
<ciphertext>, key: webhook:…}`); `key` is the target's secret-free name (`pipeline.actions.target_key`
of the plaintext), so a delivery finds its target without decrypting, across rotations too.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from pipeline.actions import target_key
from pipeline.errors import ConfigurationError
from pipeline.masking import SECRET_KEYS
from settings import Settings

KEY_FILE = "secret.key"
SEALED = "key"  # a stored target holding this has its secrets encrypted


class SecretBox:
    """Encrypts with the first of its keys and decrypts with any; `where` names them in errors."""

    def __init__(self, keys: bytes | Sequence[bytes], where: str):
        keys = [keys] if isinstance(keys, bytes) else list(keys)
        self._fernet = MultiFernet([Fernet(key) for key in keys])
        self.where = where

    def __repr__(self) -> str:
        return f"SecretBox(key from {self.where})"

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode("ascii")

    def decrypt(self, ciphertext: str) -> str:
        """The plaintext; `ConfigurationError` when it was encrypted with none of the keys (or is damaged)."""
        try:
            return self._fernet.decrypt(ciphertext.encode("ascii")).decode()
        except (InvalidToken, UnicodeError, ValueError) as exc:
            raise _unreadable(self.where) from exc

    def rotate(self, ciphertext: str) -> str:
        """The same secret encrypted with the first key; `ConfigurationError` as `decrypt`."""
        try:
            return self._fernet.rotate(ciphertext.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeError, ValueError) as exc:
            raise _unreadable(self.where) from exc


def _unreadable(where: str) -> ConfigurationError:
    return ConfigurationError(
        f"a stored secret cannot be decrypted with the key from {where}: the key changed since it "
        "was stored; restore the old key (or keep it after the new one, SIGHTLINE_SECRET_KEY=new,old, "
        "and run `sightline secrets rotate`), or remove what holds the secret and add it again"
    )


def secret_box(settings: Settings) -> SecretBox:
    """The box for this process's keys (see the module docstring); creates the key file when needed."""
    configured = _configured_keys(settings)
    if configured:
        return SecretBox([_fernet_key(secret) for secret in configured], "SIGHTLINE_SECRET_KEY")
    path = key_file(settings)
    return SecretBox(_key_file(path), str(path))


def key_file(settings: Settings) -> Path:
    return settings.home / KEY_FILE


def ensure_key(settings: Settings) -> Path | None:
    """Create the key file unless SIGHTLINE_SECRET_KEY is set (`sightline init`); its path, mode 0600."""
    if _configured_keys(settings):
        return None
    path = key_file(settings)
    _key_file(path)
    os.chmod(path, 0o600)
    return path


def put_new_key_first(settings: Settings) -> Path:
    """Generate a key and write it first in the key file, the older keys after it (they still decrypt).

    Raises `ConfigurationError` when SIGHTLINE_SECRET_KEY is set: that variable is changed by hand.
    """
    path = _rotatable_key_file(settings)
    _write_keys(path, [Fernet.generate_key(), *_key_file(path)])
    return path


def keep_only_first_key(settings: Settings) -> Path:
    """Drop the older keys from the key file (after every secret was re-encrypted with the first)."""
    path = _rotatable_key_file(settings)
    _write_keys(path, _key_file(path)[:1])
    return path


def seal_targets(box: SecretBox, targets: Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """Targets as stored: each secret encrypted, with the target's `key`; others unchanged."""
    stored = []
    for target in targets or []:
        secrets = SECRET_KEYS.get(str(target.get("type")), ())
        if not secrets or SEALED in target:
            stored.append(dict(target))
            continue
        sealed = {name: box.encrypt(str(v)) if name in secrets else v for name, v in target.items()}
        stored.append({**sealed, SEALED: target_key(target)})
    return stored


def open_targets(box: SecretBox, targets: Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """Stored targets with their secrets decrypted (and without `key`). A target stored before
    secrets were sealed (no `key`) is returned as it is. Raises `ConfigurationError` (see `decrypt`)."""
    opened = []
    for target in targets or []:
        if SEALED not in target:
            opened.append(dict(target))
            continue
        secrets = SECRET_KEYS.get(str(target.get("type")), ())
        opened.append(
            {
                name: box.decrypt(str(value)) if name in secrets else value
                for name, value in target.items()
                if name != SEALED
            }
        )
    return opened


def rotate_targets(box: SecretBox, targets: Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """Stored targets re-encrypted with the first key (an unsealed one is sealed)."""
    rotated = []
    for target in targets or []:
        secrets = SECRET_KEYS.get(str(target.get("type")), ())
        if SEALED not in target:
            rotated.extend(seal_targets(box, [target]))
            continue
        rotated.append({name: box.rotate(str(v)) if name in secrets else v for name, v in target.items()})
    return rotated


def _configured_keys(settings: Settings) -> list[str]:
    """The keys of SIGHTLINE_SECRET_KEY, newest first (comma-separated); [] when unset."""
    if settings.secret_key is None:
        return []
    return [part.strip() for part in settings.secret_key.get_secret_value().split(",") if part.strip()]


def _rotatable_key_file(settings: Settings) -> Path:
    if _configured_keys(settings):
        raise ConfigurationError(
            "SIGHTLINE_SECRET_KEY is set: put the new key first yourself (SIGHTLINE_SECRET_KEY=new,old), "
            "run `sightline secrets rotate`, then remove the old key from the variable"
        )
    return key_file(settings)


def _fernet_key(secret: str) -> bytes:
    """`secret` itself when it is a Fernet key, else a Fernet key derived from it (SHA-256)."""
    raw = secret.strip().encode()
    with contextlib.suppress(ValueError):
        Fernet(raw)
        return raw
    return base64.urlsafe_b64encode(hashlib.sha256(raw).digest())


def _key_file(path: Path) -> list[bytes]:
    """The keys in `path` (one a line, newest first), created with mode 0600 if absent (two processes
    at once agree on one)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = _private_temporary(path, [Fernet.generate_key()])
        try:
            with contextlib.suppress(FileExistsError):  # another process linked its key first: use it
                os.link(temporary, path)
        finally:
            os.unlink(temporary)
    keys = [line.strip() for line in path.read_bytes().splitlines() if line.strip()]
    try:
        if not keys:
            raise ValueError("no key")
        for key in keys:
            Fernet(key)
    except ValueError as exc:
        raise ConfigurationError(
            f"{path} does not hold Fernet keys; restore it from a backup, or set SIGHTLINE_SECRET_KEY"
        ) from exc
    return keys


def _write_keys(path: Path, keys: list[bytes]) -> None:
    """Replace the key file at once: readers see the old keys or the new ones, never half."""
    os.replace(_private_temporary(path, keys), path)


def _private_temporary(path: Path, keys: list[bytes]) -> str:
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secret-")  # mode 0600
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(b"\n".join(keys) + b"\n")
    except BaseException:
        os.unlink(temporary)
        raise
    return temporary
