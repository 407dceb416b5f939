"""Translations: `llm_translations`, one per team, text (its SHA-256) and target language.

Revision ID: 0019
Revises: 0018
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "llm_translations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("text_sha256", sa.String(length=64), nullable=False),
        sa.Column("target_language", sa.String(length=35), nullable=False),
        sa.Column("translation", sa.Text(), nullable=False),
        sa.Column("detected_language", sa.String(length=35), nullable=True),
        sa.Column("model", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_llm_translations_team_id_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_llm_translations")),
        sa.UniqueConstraint(
            "team_id",
            "text_sha256",
            "target_language",
            name=op.f("uq_llm_translations_team_id_text_sha256_target_language"),
        ),
    )


def downgrade() -> None:
    op.drop_table("llm_translations")
