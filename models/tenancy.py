"""Who owns what: organisations, teams (the API's project/environment id), users, API keys, integrations."""

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid4

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import JSONType, UTCDateTime, str_enum, utcnow

DEFAULT_MONTHLY_CREDIT_LIMIT = 15_000


class Organization(SQLModel, table=True):
    """The billing unit: its teams share one monthly credit limit."""

    __tablename__ = "organizations"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    name: str = Field(max_length=255)
    # None means uncapped.
    monthly_credit_limit: int | None = Field(default=DEFAULT_MONTHLY_CREDIT_LIMIT)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Team(SQLModel, table=True):
    """A tenant: every recording, scanner, signal and action belongs to one team."""

    __tablename__ = "teams"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: UUID = Field(foreign_key="organizations.id", index=True)
    name: str = Field(max_length=255)
    timezone: str = Field(default="UTC", max_length=64)
    # Web origins (`https://shop.example`) whose pages may send recordings with an ingest token.
    ingest_origins: list[str] | None = Field(default=None, sa_type=JSONType)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Role(StrEnum):
    """What a person may do beyond their teams' data: operators also see the operator pages."""

    MEMBER = "member"
    OPERATOR = "operator"


class User(SQLModel, table=True):
    """A person who creates scanners and actions, triggers observations, signs in and owns API keys."""

    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    uuid: UUID = Field(default_factory=uuid4, unique=True)
    email: str = Field(max_length=254, unique=True)
    first_name: str = Field(default="", max_length=150)
    last_name: str = Field(default="", max_length=150)
    distinct_id: str = Field(default_factory=lambda: str(uuid4()), max_length=200, unique=True)
    # An argon2 hash (never the password); None: the person cannot sign in with a password.
    password_hash: str | None = Field(default=None, repr=False, sa_type=sa.Text)
    role: Role = Field(default=Role.MEMBER, sa_type=str_enum(Role, length=16))
    is_active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TeamMembership(SQLModel, table=True):
    """A person's access to a team: every API call and page checks it (another team's data is a 404)."""

    __tablename__ = "team_memberships"
    __table_args__ = (sa.UniqueConstraint("team_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="teams.id", index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ApiKey(SQLModel, table=True):
    """A personal API key: a person's, limited to scopes and optionally to one team.

    Only its SHA-256 is stored (the key is 256 random bits, shown once); `mask_value` is what a list
    shows. A revoked key stays, so its id and label still explain old audit lines.
    """

    __tablename__ = "api_keys"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    # None: every team the owner is a member of.
    team_id: int | None = Field(default=None, foreign_key="teams.id", index=True)
    user_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    label: str = Field(default="", max_length=255)
    key_hash: str = Field(max_length=128, unique=True)
    mask_value: str = Field(default="", max_length=32)
    scopes: list[str] = Field(default_factory=list, sa_type=JSONType)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class IntegrationKind(StrEnum):
    SLACK = "slack"


class Integration(SQLModel, table=True):
    """A team's connection to an outside service, by a name unique in the team. The token is stored
    encrypted (integrations/secrets.py), never logged nor returned: lists show `config.token_mask`."""

    __tablename__ = "integrations"
    __table_args__ = (sa.UniqueConstraint("team_id", "name"),)

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    team_id: int = Field(foreign_key="teams.id", index=True)
    name: str = Field(default="slack", max_length=255)
    kind: IntegrationKind = Field(default=IntegrationKind.SLACK, sa_type=str_enum(IntegrationKind))
    # The workspace's name, id and address, the bot's name, the report channel, the token's mask:
    # safe to show.
    config: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    # Fernet ciphertext of the bot token (a row written by hand before migration 0014 may still hold
    # an `xox…` token in clear: it is read as it is, and `sightline secrets rotate` encrypts it).
    bot_token: str = Field(default="", repr=False, sa_type=sa.Text)
    created_by: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WebSession(SQLModel, table=True):
    """A person signed in to the web pages: the cookie holds a random token, only its SHA-256 is here.

    `csrf_token` is what every form of the session must send back. Signing out deletes the row.
    """

    __tablename__ = "web_sessions"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    token_hash: str = Field(max_length=128, unique=True)
    csrf_token: str = Field(max_length=64, repr=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
