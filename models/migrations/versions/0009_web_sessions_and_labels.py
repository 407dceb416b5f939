"""The web pages: signed-in sessions (a token's SHA-256 and the session's CSRF token) and people's
thumbs up/down on observations.

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=128), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_web_sessions_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_web_sessions_token_hash")),
    )
    op.create_index(op.f("ix_web_sessions_user_id"), "web_sessions", ["user_id"])
    op.create_table(
        "observation_labels",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("scanner_id", sa.Uuid(), nullable=False),
        sa.Column("observation_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("rating", sa.String(length=8), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_observation_labels_team_id_teams")),
        sa.ForeignKeyConstraint(
            ["scanner_id"], ["scanners.id"], name=op.f("fk_observation_labels_scanner_id_scanners")
        ),
        sa.ForeignKeyConstraint(
            ["observation_id"], ["observations.id"], name=op.f("fk_observation_labels_observation_id_observations")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_observation_labels_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observation_labels")),
        sa.UniqueConstraint(
            "observation_id", "user_id", name=op.f("uq_observation_labels_observation_id_user_id")
        ),
    )
    op.create_index(op.f("ix_observation_labels_scanner_id"), "observation_labels", ["scanner_id"])
    op.create_index(op.f("ix_observation_labels_observation_id"), "observation_labels", ["observation_id"])


def downgrade() -> None:
    op.drop_table("observation_labels")
    op.drop_table("web_sessions")
