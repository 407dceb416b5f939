"""The prompt library: `llm_prompts` (a team's named prompts, soft-deleted, a name unique among the
live ones) and `llm_prompt_versions` (every version of each, as written).

Revision ID: 0016
Revises: 0015
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "llm_prompts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_llm_prompts_team_id_teams")),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_llm_prompts_created_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_llm_prompts")),
    )
    op.create_index(
        "ix_llm_prompts_live_name",
        "llm_prompts",
        ["team_id", "name"],
        unique=True,
        sqlite_where=sa.text("NOT deleted"),
        postgresql_where=sa.text("NOT deleted"),
    )
    op.create_table(
        "llm_prompt_versions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("prompt_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["prompt_id"], ["llm_prompts.id"], name=op.f("fk_llm_prompt_versions_prompt_id_llm_prompts")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_llm_prompt_versions_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_llm_prompt_versions")),
        sa.UniqueConstraint("prompt_id", "version", name=op.f("uq_llm_prompt_versions_prompt_id_version")),
    )


def downgrade() -> None:
    op.drop_table("llm_prompt_versions")
    op.drop_index("ix_llm_prompts_live_name", table_name="llm_prompts")
    op.drop_table("llm_prompts")
