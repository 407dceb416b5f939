"""Small reads and get-or-creates. None of them commits: the caller owns the transaction."""

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from sqlmodel import Session, col, select, update

from models.recordings import Recording
from models.tenancy import ApiKey, Organization, Role, Team, TeamMembership, User

T = TypeVar("T")

DEFAULT_ORGANIZATION_NAME = "Default organization"
DEFAULT_TEAM_NAME = "Default team"
DEFAULT_USER_EMAIL = "admin@localhost"


def ensure_defaults(session: Session, timezone: str = "UTC") -> tuple[Organization, Team, User]:
    """The default organisation, team and user, created (and flushed) when missing.

    `timezone` applies only to a team created now; an existing team keeps its own.
    """
    organization = session.exec(
        select(Organization)
        .where(Organization.name == DEFAULT_ORGANIZATION_NAME)
        .order_by(col(Organization.created_at))
    ).first()
    if organization is None:
        organization = Organization(name=DEFAULT_ORGANIZATION_NAME)
        session.add(organization)
        session.flush()

    team = session.exec(
        select(Team)
        .where(Team.organization_id == organization.id, Team.name == DEFAULT_TEAM_NAME)
        .order_by(col(Team.id))
    ).first()
    if team is None:
        team = Team(organization_id=organization.id, name=DEFAULT_TEAM_NAME, timezone=timezone)
        session.add(team)

    user = session.exec(select(User).where(User.email == DEFAULT_USER_EMAIL)).first()
    if user is None:
        user = User(email=DEFAULT_USER_EMAIL, first_name="Admin", role=Role.OPERATOR)
        session.add(user)
    session.flush()
    assert team.id is not None and user.id is not None  # flushed above
    if not is_member(session, user.id, team.id):
        session.add(TeamMembership(team_id=team.id, user_id=user.id))
        session.flush()
    return organization, team, user


def is_member(session: Session, user_id: int, team_id: int) -> bool:
    statement = select(TeamMembership.id).where(
        TeamMembership.user_id == user_id, TeamMembership.team_id == team_id
    )
    return session.exec(statement).first() is not None


def get_recording(session: Session, team_id: int, session_id: str) -> Recording | None:
    """The team's recording of `session_id`, or None."""
    return session.exec(
        select(Recording).where(Recording.team_id == team_id, Recording.session_id == session_id)
    ).first()


def update_recording_if_unchanged(
    session: Session, recording_id: UUID, blob_ref: str, values: dict[str, Any]
) -> bool:
    """Update a recording only if its blob is still `blob_ref`; False when another writer changed it."""
    statement = (
        update(Recording)
        .where(col(Recording.id) == recording_id, col(Recording.blob_ref) == blob_ref)
        .values(**values)
    )
    return session.exec(statement).rowcount == 1


def list_recordings(session: Session, team_id: int, limit: int = 100, offset: int = 0) -> Sequence[Recording]:
    """The team's recordings, newest start first."""
    statement = (
        select(Recording)
        .where(Recording.team_id == team_id)
        .order_by(col(Recording.start_time).desc(), col(Recording.session_id).desc())
        .offset(offset)
        .limit(limit)
    )
    return session.exec(statement).all()


def first_team_id(session: Session) -> int | None:
    """The oldest team's id (the CLI's default team), or None before `init`."""
    return session.exec(select(Team.id).order_by(col(Team.id))).first()


def touch_key(session: Session, key_id: UUID, now: datetime) -> None:
    """Note that an API key was used just now."""
    session.exec(update(ApiKey).where(col(ApiKey.id) == key_id).values(last_used_at=now))


def keys_with_owners(session: Session) -> list[tuple[ApiKey, str]]:
    """Every API key with its owner's email, newest first."""
    statement = (
        select(ApiKey, User.email)
        .join(User, col(User.id) == ApiKey.user_id)
        .order_by(col(ApiKey.created_at).desc())
    )
    return [(key, email) for key, email in session.exec(statement).all()]


def key_and_owner(session: Session, key_hash: str) -> tuple[ApiKey, User, frozenset[int]] | None:
    """The key with this hash, its owner and the owner's team ids, in one query (every API call asks)."""
    return holder_and_teams(session, ApiKey, col(ApiKey.user_id), ApiKey.key_hash == key_hash)


def holder_and_teams(
    session: Session, holder: type[T], user_id: Any, where: Any
) -> tuple[T, User, frozenset[int]] | None:
    """The one `holder` row matching `where` (a key, a signed-in session), the person its `user_id`
    names, and that person's team ids, in one query; None when no row matches."""
    statement = (
        select(holder, User, TeamMembership.team_id)
        .join(User, col(User.id) == user_id)
        .outerjoin(TeamMembership, col(TeamMembership.user_id) == User.id)
        .where(where)
    )
    rows = session.exec(statement).all()
    if not rows:
        return None
    return rows[0][0], rows[0][1], frozenset(team for _, _, team in rows if team is not None)


def users_by_id(session: Session, ids: Iterable[int]) -> Sequence[User]:
    return session.exec(select(User).where(col(User.id).in_(list(ids)))).all()


def user_by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email)).first()


def all_users(session: Session) -> Sequence[User]:
    return session.exec(select(User).order_by(col(User.id))).all()


def all_memberships(session: Session) -> list[tuple[int, int]]:
    """(user id, team id) of every membership."""
    return [
        (user_id, team_id)
        for user_id, team_id in session.exec(select(TeamMembership.user_id, TeamMembership.team_id))
    ]


def team_ids_of(session: Session, user_id: int) -> list[int]:
    return list(session.exec(select(TeamMembership.team_id).where(TeamMembership.user_id == user_id)).all())


def all_keys(session: Session) -> Sequence[ApiKey]:
    return session.exec(select(ApiKey)).all()


def by_name_or_id(
    session: Session, model: type[T], team_id: int, ref: str, named: Callable[[Session, int, str], T | None]
) -> T | None:
    """A team's row by its name (`named`), else by its id; None when neither is the team's."""
    row = named(session, team_id, ref)
    if row is None:
        try:
            row = session.get(model, UUID(ref))
        except ValueError:
            row = None
    return row if row is not None and getattr(row, "team_id", None) == team_id else None
