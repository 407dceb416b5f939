"""Symbol sets: `error_tracking_symbol_sets`, one uploaded source map per (team, ref), with its
release, where its content is in the blob store, its content hash once finished, why it failed,
and the hashed one-time upload token with its expiry.

Revision ID: 0021
Revises: 0020
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | Sequence[str] | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "error_tracking_symbol_sets",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=1000), nullable=False),
        sa.Column("release_id", sa.String(length=255), nullable=True),
        sa.Column("blob_ref", sa.String(length=255), nullable=True),
        sa.Column("content_hash", sa.String(length=255), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("upload_token_hash", sa.String(length=64), nullable=True),
        sa.Column("upload_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_error_tracking_symbol_sets_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_error_tracking_symbol_sets")),
        sa.UniqueConstraint("team_id", "ref", name=op.f("uq_error_tracking_symbol_sets_team_id_ref")),
    )


def downgrade() -> None:
    op.drop_table("error_tracking_symbol_sets")
