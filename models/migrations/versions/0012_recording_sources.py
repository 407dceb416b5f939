"""Recording sources: a team's PostHog projects, each with its encrypted API key, the watermark of
the recordings already taken, and when it is next polled (or backed off until, after a 429).

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "recording_sources",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("api_key_encrypted", sa.Text(), nullable=False),
        sa.Column("api_key_mask", sa.String(length=32), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("watermark_start_time", WHEN, nullable=True),
        sa.Column("watermark_session_id", sa.String(length=128), nullable=True),
        sa.Column("next_poll_at", WHEN, nullable=True),
        sa.Column("last_polled_at", WHEN, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("backoff_until", WHEN, nullable=True),
        sa.Column("imported_count", sa.Integer(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_recording_sources_team_id_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recording_sources")),
        sa.UniqueConstraint(
            "team_id", "kind", "host", "project_id",
            name=op.f("uq_recording_sources_team_id_kind_host_project_id"),
        ),
    )
    op.create_index(op.f("ix_recording_sources_team_id"), "recording_sources", ["team_id"])
    op.create_index(
        "ix_recording_sources_enabled_next_poll_at", "recording_sources", ["enabled", "next_poll_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_recording_sources_enabled_next_poll_at", table_name="recording_sources")
    op.drop_index(op.f("ix_recording_sources_team_id"), table_name="recording_sources")
    op.drop_table("recording_sources")
