"""Recording entries: `recording_entries` (log lines and events read from recordings, by version),
`recording_entry_indexes` (which version of each recording is indexed) and `log_explanations`
(cached explanations of log lines).

Revision ID: 0020
Revises: 0019
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0020"
down_revision: str | Sequence[str] | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


def upgrade() -> None:
    op.create_table(
        "recording_entries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=128), nullable=False),
        sa.Column("blob_ref", sa.String(length=1024), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("stream", sa.String(length=8), nullable=False),
        sa.Column("event", sa.String(length=200), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(length=32), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("distinct_id", sa.String(length=400), nullable=True),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("offset_s", sa.Float(), nullable=False),
        sa.Column("properties", JSON, nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_recording_entries_team_id_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recording_entries")),
    )
    op.create_index(
        "ix_recording_entries_team_stream_time", "recording_entries", ["team_id", "stream", "timestamp"]
    )
    op.create_index("ix_recording_entries_team_session", "recording_entries", ["team_id", "session_id"])
    op.create_table(
        "recording_entry_indexes",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=128), nullable=False),
        sa.Column("blob_ref", sa.String(length=1024), nullable=False),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.Column("indexed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_recording_entry_indexes_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("team_id", "session_id", name=op.f("pk_recording_entry_indexes")),
    )
    op.create_table(
        "log_explanations",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("model", sa.String(length=128), nullable=True),
        sa.Column("moments", JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_log_explanations_team_id_teams")),
        sa.PrimaryKeyConstraint("team_id", "entry_id", name=op.f("pk_log_explanations")),
    )


def downgrade() -> None:
    op.drop_table("log_explanations")
    op.drop_table("recording_entry_indexes")
    op.drop_index("ix_recording_entries_team_session", table_name="recording_entries")
    op.drop_index("ix_recording_entries_team_stream_time", table_name="recording_entries")
    op.drop_table("recording_entries")
