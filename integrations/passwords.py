"""Password hashing (argon2id through argon2-cffi): a hash to store, and a check that takes its time."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

# Checked against when the email is unknown, so a wrong email takes as long as a wrong password.
_DECOY = _hasher.hash("sightline-decoy-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(stored: str | None, password: str) -> bool:
    """Whether `password` is the one `stored` was made from; False for no hash (without a shortcut)."""
    try:
        return _hasher.verify(stored or _DECOY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False
