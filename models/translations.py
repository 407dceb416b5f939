"""Translations made through the model (`llm_translations`): one per team, text and target language.

The text is kept only as its SHA-256 (`text_sha256`): the cache answers "was this exact text already
translated into this language for this team?" without holding a second copy of recording-derived
text. It is per team, so one team can never learn from a cache hit what another team translated.
"""

from datetime import datetime
from uuid import UUID, uuid4

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, utcnow

MAX_LANGUAGE = 35  # the longest BCP 47 tags we accept are far shorter


class Translation(SQLModel, table=True):
    """A text's translation into `target_language` (UNIQUE per team, text and language)."""

    __tablename__ = "llm_translations"
    __table_args__ = (sa.UniqueConstraint("team_id", "text_sha256", "target_language"),)

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    team_id: int = Field(foreign_key="teams.id")
    text_sha256: str = Field(max_length=64)
    target_language: str = Field(max_length=MAX_LANGUAGE)
    translation: str = Field(sa_type=sa.Text)
    detected_language: str | None = Field(default=None, max_length=MAX_LANGUAGE)
    model: str = Field(max_length=128)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
