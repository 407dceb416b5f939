"""The prompt library (`llm_prompts`): a team's named prompts and every version of each.

A prompt's row holds its current name, text and version; `llm_prompt_versions` keeps each version
as it was, so an observation or a run that froze "version 3" can always be read back. `deleted` is
a soft delete: the rows stay. A name is unique among a team's live (not deleted) prompts only, so a
deleted prompt's name may be taken again.
"""

from datetime import datetime
from uuid import UUID, uuid4

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, utcnow

MAX_PROMPT_NAME = 255


class LlmPrompt(SQLModel, table=True):
    """A named prompt; `version` is its latest version (the first is 1)."""

    __tablename__ = "llm_prompts"
    __table_args__ = (
        sa.Index(
            "ix_llm_prompts_live_name",
            "team_id",
            "name",
            unique=True,
            sqlite_where=sa.text("NOT deleted"),
            postgresql_where=sa.text("NOT deleted"),
        ),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    team_id: int = Field(foreign_key="teams.id")
    name: str = Field(max_length=MAX_PROMPT_NAME)
    prompt: str = Field(sa_type=sa.Text)
    version: int = 1
    deleted: bool = False
    created_by: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LlmPromptVersion(SQLModel, table=True):
    """One version of a prompt, as it was written: never changed, never deleted."""

    __tablename__ = "llm_prompt_versions"
    __table_args__ = (sa.UniqueConstraint("prompt_id", "version"),)

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    prompt_id: UUID = Field(foreign_key="llm_prompts.id")
    version: int
    name: str = Field(max_length=MAX_PROMPT_NAME)
    prompt: str = Field(sa_type=sa.Text)
    created_by: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
