"""Evaluations of our own answers: `evaluations` (an LLM judge's or deterministic checks, soft-deleted,
with the automatic pass's watermark), `evaluation_runs` (a person's "evaluate these now") and
`evaluation_results` (one per evaluation and observation).

Revision ID: 0017
Revises: 0016
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_TYPE = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


def upgrade() -> None:
    op.create_table(
        "evaluations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=400), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("evaluation_type", sa.String(length=32), nullable=False),
        sa.Column("evaluation_config", JSON_TYPE, nullable=True),
        sa.Column("output_type", sa.String(length=32), nullable=False),
        sa.Column("output_config", JSON_TYPE, nullable=True),
        sa.Column("conditions", JSON_TYPE, nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("evaluated_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_observation_id", sa.Uuid(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_evaluations_team_id_teams")),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_evaluations_created_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluations")),
    )
    op.create_index(
        "ix_evaluations_team_id_deleted_enabled", "evaluations", ["team_id", "deleted", "enabled"]
    )
    op.create_table(
        "evaluation_runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("evaluation_id", sa.Uuid(), nullable=False),
        sa.Column("target", JSON_TYPE, nullable=False),
        sa.Column("observations", sa.Integer(), nullable=False),
        sa.Column("truncated", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_evaluation_runs_team_id_teams")),
        sa.ForeignKeyConstraint(
            ["evaluation_id"], ["evaluations.id"], name=op.f("fk_evaluation_runs_evaluation_id_evaluations")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_evaluation_runs_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_runs")),
    )
    op.create_index(
        op.f("ix_evaluation_runs_evaluation_id"), "evaluation_runs", ["evaluation_id"], unique=False
    )
    op.create_table(
        "evaluation_results",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("evaluation_id", sa.Uuid(), nullable=False),
        sa.Column("observation_id", sa.Uuid(), nullable=False),
        sa.Column("scanner_id", sa.Uuid(), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("reasoning", sa.Text(), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=True),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_evaluation_results_team_id_teams")),
        sa.ForeignKeyConstraint(
            ["evaluation_id"],
            ["evaluations.id"],
            name=op.f("fk_evaluation_results_evaluation_id_evaluations"),
        ),
        sa.ForeignKeyConstraint(
            ["observation_id"],
            ["observations.id"],
            name=op.f("fk_evaluation_results_observation_id_observations"),
        ),
        sa.ForeignKeyConstraint(
            ["scanner_id"], ["scanners.id"], name=op.f("fk_evaluation_results_scanner_id_scanners")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["evaluation_runs.id"], name=op.f("fk_evaluation_results_run_id_evaluation_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_results")),
        sa.UniqueConstraint(
            "evaluation_id",
            "observation_id",
            name=op.f("uq_evaluation_results_evaluation_id_observation_id"),
        ),
    )
    op.create_index(
        op.f("ix_evaluation_results_observation_id"), "evaluation_results", ["observation_id"], unique=False
    )
    op.create_index(op.f("ix_evaluation_results_run_id"), "evaluation_results", ["run_id"], unique=False)
    op.create_index(
        "ix_evaluation_results_scanner_id_created_at", "evaluation_results", ["scanner_id", "created_at"]
    )


def downgrade() -> None:
    op.drop_table("evaluation_results")
    op.drop_table("evaluation_runs")
    op.drop_index("ix_evaluations_team_id_deleted_enabled", table_name="evaluations")
    op.drop_table("evaluations")
