"""Scouts: `scout_configs` (one per team and scout: enabled, emit, schedule, a custom scout's
definition), `scout_runs` (one per config and scheduled time, with what it emitted or would have)
and `scout_project_profiles` (a team's cached inventory, with its expiry).

Revision ID: 0018
Revises: 0017
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


def upgrade() -> None:
    op.create_table(
        "scout_configs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("skill_name", sa.String(length=128), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("scout_origin", sa.String(length=32), nullable=False),
        sa.Column("definition", JSON, nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("emit", sa.Boolean(), nullable=False),
        sa.Column("run_interval_minutes", sa.Integer(), nullable=False),
        sa.Column("enabled_by", sa.Integer(), nullable=True),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_scout_configs_team_id_teams")),
        sa.ForeignKeyConstraint(["enabled_by"], ["users.id"], name=op.f("fk_scout_configs_enabled_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scout_configs")),
        sa.UniqueConstraint("team_id", "skill_name", name=op.f("uq_scout_configs_team_id_skill_name")),
    )
    op.create_table(
        "scout_runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("config_id", sa.Uuid(), nullable=False),
        sa.Column("skill_name", sa.String(length=128), nullable=False),
        sa.Column("skill_version", sa.Integer(), nullable=False),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("emit", sa.Boolean(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("failure_reason", sa.String(length=64), nullable=True),
        sa.Column("emitted_count", sa.Integer(), nullable=False),
        sa.Column("emitted_finding_ids", JSON, nullable=False),
        sa.Column("findings", JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_scout_runs_team_id_teams")),
        sa.ForeignKeyConstraint(
            ["config_id"], ["scout_configs.id"], name=op.f("fk_scout_runs_config_id_scout_configs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scout_runs")),
        sa.UniqueConstraint("config_id", "scheduled_at", name=op.f("uq_scout_runs_config_id_scheduled_at")),
    )
    op.create_index("ix_scout_runs_team_id_created_at", "scout_runs", ["team_id", "created_at"])
    op.create_table(
        "scout_project_profiles",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("source_version", sa.String(length=32), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_scout_project_profiles_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scout_project_profiles")),
    )
    op.create_index(
        "ix_scout_project_profiles_team_id_computed_at", "scout_project_profiles", ["team_id", "computed_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_scout_project_profiles_team_id_computed_at", table_name="scout_project_profiles")
    op.drop_table("scout_project_profiles")
    op.drop_index("ix_scout_runs_team_id_created_at", table_name="scout_runs")
    op.drop_table("scout_runs")
    op.drop_table("scout_configs")
