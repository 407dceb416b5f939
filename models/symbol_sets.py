"""Symbol sets: a release's source maps, uploaded for de-minifying console error stack traces.

One row per (team, ref): `ref` is the chunk id the build injected, or the minified file's URL.
The upload is two-step, as the reference's: start (a row and a one-time upload token, stored
hashed) → the upload (`blob_ref`: where the content is, in the blob store beside recordings, so
retention's orphan check knows it) → finish (`content_hash`: the set is in use from then on).
"""

from datetime import datetime
from uuid import UUID, uuid4

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, utcnow


class SymbolSet(SQLModel, table=True):
    """One uploaded (or being uploaded) source map of a team; see the module docstring."""

    __tablename__ = "error_tracking_symbol_sets"
    __table_args__ = (sa.UniqueConstraint("team_id", "ref"),)

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    team_id: int = Field(foreign_key="teams.id")
    ref: str = Field(max_length=1000)
    release_id: str | None = Field(default=None, max_length=255)
    blob_ref: str | None = Field(default=None, max_length=255)
    content_hash: str | None = Field(default=None, max_length=255)
    failure_reason: str | None = Field(default=None, sa_type=sa.Text)
    upload_token_hash: str | None = Field(default=None, max_length=64)
    upload_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_used: datetime | None = Field(default=None, sa_type=UTCDateTime)
