"""Small reads and get-or-creates. None of them commits: the caller owns the transaction."""

from collections.abc import Sequence

from sqlmodel import Session, col, select

from models.recordings import Recording
from models.tenancy import Organization, Team, User

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
        user = User(email=DEFAULT_USER_EMAIL, first_name="Admin")
        session.add(user)
    session.flush()
    return organization, team, user


def get_recording(session: Session, team_id: int, session_id: str) -> Recording | None:
    """The team's recording of `session_id`, or None."""
    return session.exec(
        select(Recording).where(Recording.team_id == team_id, Recording.session_id == session_id)
    ).first()


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
