"""Secrets at rest (a PostHog API key): encrypted with Fernet (AES-128-CBC + HMAC-SHA256).

The key is `SIGHTLINE_SECRET_KEY` when set (a Fernet key as `Fernet.generate_key()` prints it, or
any other string, which is hashed into one: make it long and random), or else the `secret.key`
file in SIGHTLINE_HOME, created once with mode 0600. Losing or changing the key makes what was
stored with it unreadable: `decrypt` then raises `ConfigurationError` saying so, never the
ciphertext or the plaintext.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from pipeline.errors import ConfigurationError
from settings import Settings

KEY_FILE = "secret.key"


class SecretBox:
    """Encrypts and decrypts short strings with one key; `where` names the key for error messages."""

    def __init__(self, key: bytes, where: str):
        self._fernet = Fernet(key)
        self.where = where

    def __repr__(self) -> str:
        return f"SecretBox(key from {self.where})"

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode("ascii")

    def decrypt(self, ciphertext: str) -> str:
        """The plaintext; `ConfigurationError` when it was encrypted with another key (or is damaged)."""
        try:
            return self._fernet.decrypt(ciphertext.encode("ascii")).decode()
        except (InvalidToken, UnicodeError, ValueError) as exc:
            raise ConfigurationError(
                f"a stored secret cannot be decrypted with the key from {self.where}: the key changed "
                "since it was stored; restore the old key, or remove the source and add it again"
            ) from exc


def secret_box(settings: Settings) -> SecretBox:
    """The box for this process's key (see the module docstring); creates the key file when needed."""
    if settings.secret_key is not None and settings.secret_key.get_secret_value():
        return SecretBox(_fernet_key(settings.secret_key.get_secret_value()), "SIGHTLINE_SECRET_KEY")
    path = settings.home / KEY_FILE
    return SecretBox(_key_file(path), str(path))


def _fernet_key(secret: str) -> bytes:
    """`secret` itself when it is a Fernet key, else a Fernet key derived from it (SHA-256)."""
    raw = secret.strip().encode()
    with contextlib.suppress(ValueError):
        Fernet(raw)
        return raw
    return base64.urlsafe_b64encode(hashlib.sha256(raw).digest())


def _key_file(path: Path) -> bytes:
    """The key in `path`, created with mode 0600 if absent (two processes at once agree on one)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secret-")  # mode 0600
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(Fernet.generate_key())
            with contextlib.suppress(FileExistsError):  # another process linked its key first: use it
                os.link(temporary, path)
        finally:
            os.unlink(temporary)
    key = path.read_bytes().strip()
    try:
        Fernet(key)
    except ValueError as exc:
        raise ConfigurationError(
            f"{path} does not hold a Fernet key; restore it from a backup, or set SIGHTLINE_SECRET_KEY"
        ) from exc
    return key
