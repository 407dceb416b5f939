"""People, their teams and their personal API keys; who a key or a password is, and what they may see.

A key is `sl_` and 43 random characters, shown once; only its SHA-256 is stored (256 random bits
need no slow hash), with a recognisable mask (`sl_AbCd…wXyZ`). A password is stored as an argon2
hash. A key belongs to a person and may be limited to one team; it reaches a team only while its
owner is a member of that team.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from sqlmodel import Session

from integrations.passwords import hash_password, password_matches
from models import ApiKey, Role, Team, TeamMembership, User, as_utc
from models.queries import (
    all_keys,
    all_memberships,
    all_users,
    first_team_id,
    is_member,
    key_and_owner,
    keys_with_owners,
    team_ids_of,
    touch_key,
    user_by_email,
    users_by_id,
)
from pipeline.errors import InvalidField, NotFoundError
from pipeline.scopes import validate_scopes
from services.context import Deps

KEY_PREFIX = "sl_"
# `last_used_at` is written at most this often per key, not on every request.
LAST_USED_EVERY = timedelta(minutes=1)
MIN_PASSWORD = 10


@dataclass(frozen=True)
class Principal:
    """Who is asking: the person, the key they used (None for a signed-in page), and what it allows."""

    user_id: int
    email: str
    role: str
    scopes: tuple[str, ...]
    key_id: UUID | None = None
    key_team_id: int | None = None  # the one team a key is limited to
    team_ids: frozenset[int] = field(default_factory=frozenset)

    def can_see(self, team_id: int) -> bool:
        return team_id in self.team_ids and (self.key_team_id is None or self.key_team_id == team_id)


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    secret: str  # shown once, never stored


def create_user(
    deps: Deps, email: str, *, password: str | None = None, operator: bool = False, team_id: int | None = None
) -> User:
    """A new person, a member of `team_id` (default: the first team). `InvalidField` for a bad email,
    a taken one, or a password shorter than 10 characters."""
    email = _email(email)
    if password is not None and len(password) < MIN_PASSWORD:
        raise InvalidField("password", f"use at least {MIN_PASSWORD} characters")
    with deps.transaction() as session:
        if user_by_email(session, email) is not None:
            raise InvalidField("email", f"{email} already has an account")
        team = _team(session, team_id)
        role = Role.OPERATOR if operator else Role.MEMBER
        user = User(email=email, role=role, password_hash=hash_password(password) if password else None)
        session.add(user)
        session.flush()
        assert user.id is not None
        session.add(TeamMembership(team_id=team, user_id=user.id))
        return user


def add_member(deps: Deps, email: str, team_id: int) -> bool:
    """Make a person a member of a team; False when they already were."""
    with deps.transaction() as session:
        user = _user(session, email)
        _team(session, team_id)
        assert user.id is not None
        if is_member(session, user.id, team_id):
            return False
        session.add(TeamMembership(team_id=team_id, user_id=user.id))
        return True


def set_password(deps: Deps, email: str, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidField("password", f"use at least {MIN_PASSWORD} characters")
    with deps.transaction() as session:
        user = _user(session, email)
        user.password_hash = hash_password(password)
        session.add(user)


def users(deps: Deps) -> list[tuple[User, list[int]]]:
    """Every person with the teams they belong to."""
    with deps.read() as session:
        people = list(all_users(session))
        memberships = all_memberships(session)
    teams: dict[int, list[int]] = {}
    for user_id, team_id in memberships:
        teams.setdefault(user_id, []).append(team_id)
    return [(user, sorted(teams.get(user.id or 0, []))) for user in people]


def create_key(
    deps: Deps, label: str, scopes: list[str], *, email: str | None = None, team_id: int | None = None
) -> NewKey:
    """A new personal API key for `email` (default: the first user), limited to `team_id` if given.

    Raises `InvalidField` for an unknown scope or a team the person is not a member of, and
    `NotFoundError` for an unknown person.
    """
    chosen = validate_scopes(scopes)
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    with deps.transaction() as session:
        user = _user(session, email) if email else next(iter(all_users(session)), None)
        if user is None or user.id is None:
            raise NotFoundError("there is no user yet; run `sightline init` first")
        if team_id is not None and not is_member(session, user.id, team_id):
            raise InvalidField("team", f"{user.email} is not a member of team {team_id}")
        mask = f"{secret[:7]}…{secret[-4:]}"
        key = ApiKey(team_id=team_id, user_id=user.id, label=label.strip()[:255], key_hash=digest(secret),
                     mask_value=mask, scopes=chosen)  # fmt: skip
        session.add(key)
        return NewKey(key, secret)


def keys(deps: Deps) -> list[tuple[ApiKey, str]]:
    """Every key with its owner's email, newest first."""
    with deps.read() as session:
        return keys_with_owners(session)


def revoke_key(deps: Deps, ref: str, *, now: datetime | None = None) -> ApiKey:
    """Revoke a key by id (or an id prefix of 8+ characters) or by its mask; `NotFoundError` otherwise."""
    with deps.transaction() as session:
        key = _find_key(session, ref)
        if key.revoked_at is None:
            key.revoked_at = now or deps.now()
            session.add(key)
        return key


def authenticate_key(deps: Deps, secret: str, *, now: datetime | None = None) -> Principal | None:
    """Who holds this key, or None when it is unknown, revoked, or its owner is inactive."""
    if not secret.startswith(KEY_PREFIX):
        return None
    now = now or deps.now()
    with deps.read() as session:
        row = key_and_owner(session, digest(secret))
        if row is None or row[0].revoked_at is not None or not row[1].is_active:
            return None
        key, user, teams = row
    if key.last_used_at is None or as_utc(key.last_used_at) < now - LAST_USED_EVERY:
        with deps.transaction() as session:
            touch_key(session, key.id, now)
    return Principal(user.id or 0, user.email, str(user.role), tuple(key.scopes), key.id, key.team_id, teams)


def authenticate_password(deps: Deps, email: str, password: str) -> Principal | None:
    """Who signs in with this email and password (every scope of their teams), or None."""
    with deps.read() as session:
        user = user_by_email(session, email.strip().lower())
        matches = password_matches(user.password_hash if user else None, password)
        if user is None or not matches or not user.is_active:
            return None
        return Principal(user.id or 0, user.email, str(user.role), ("*",), team_ids=_teams_of(session, user))


def _teams_of(session: Session, user: User) -> frozenset[int]:
    return frozenset(team_ids_of(session, user.id or 0))


def _find_key(session: Session, ref: str) -> ApiKey:
    ref = ref.strip()
    for key in all_keys(session):
        if ref in (str(key.id), key.mask_value) or (len(ref) >= 8 and str(key.id).startswith(ref)):
            return key
    raise NotFoundError(f"no API key {ref!r}; see `sightline keys list`")


def _user(session: Session, email: str) -> User:
    user = user_by_email(session, email.strip().lower())
    if user is None:
        raise NotFoundError(f"no user {email!r}; see `sightline users list`")
    return user


def _team(session: Session, team_id: int | None) -> int:
    if team_id is None:
        first = first_team_id(session)
        if first is None:
            raise NotFoundError("there is no team yet; run `sightline init` first")
        return first
    if session.get(Team, team_id) is None:
        raise NotFoundError(f"team {team_id} does not exist")
    return team_id


def _email(email: str) -> str:
    email = email.strip().lower()
    if "@" not in email or len(email) > 254 or any(char.isspace() for char in email):
        raise InvalidField("email", f"{email!r} is not an email address")
    return email


def digest(secret: str) -> str:
    """What is stored of a random secret (a key, a session token): its SHA-256, in hex."""
    return hashlib.sha256(secret.encode()).hexdigest()


def people(deps: Deps, ids: Iterable[int | None]) -> dict[int, User]:
    """The people with these ids (for `created_by` and the like), by id."""
    wanted = {user_id for user_id in ids if user_id is not None}
    if not wanted:
        return {}
    with deps.read() as session:
        return {user.id: user for user in users_by_id(session, wanted) if user.id is not None}
