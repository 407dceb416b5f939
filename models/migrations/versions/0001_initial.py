"""Initial schema: every table of DESIGN §3.

Generated with `alembic revision --autogenerate` against an empty SQLite database, then tidied:
enum columns are frozen as the VARCHARs they are (values are checked in Python, so adding one
needs no migration), JSON is JSONB on PostgreSQL, and indexes are created without batch mode.

Revision ID: 0001
Revises:
Create Date: 2026-11-22 13:02:08.418952
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_TYPE = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("message_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("queue", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("tokens", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_runs")),
    )
    op.create_index(op.f("ix_job_runs_actor"), "job_runs", ["actor"], unique=False)
    op.create_index(op.f("ix_job_runs_message_id"), "job_runs", ["message_id"], unique=False)
    op.create_index(op.f("ix_job_runs_started_at"), "job_runs", ["started_at"], unique=False)

    op.create_table(
        "organizations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("monthly_credit_limit", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organizations")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.Uuid(), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("first_name", sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
        sa.Column("last_name", sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
        sa.Column("distinct_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("distinct_id", name=op.f("uq_users_distinct_id")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
        sa.UniqueConstraint("uuid", name=op.f("uq_users_uuid")),
    )
    op.create_table(
        "teams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("timezone", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"], ["organizations.id"], name=op.f("fk_teams_organization_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
    )
    op.create_index(op.f("ix_teams_organization_id"), "teams", ["organization_id"], unique=False)

    op.create_table(
        "api_keys",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("key_hash", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("mask_value", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("scopes", JSON_TYPE, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_api_keys_team_id_teams")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_api_keys_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    op.create_index(op.f("ix_api_keys_team_id"), "api_keys", ["team_id"], unique=False)
    op.create_index(op.f("ix_api_keys_user_id"), "api_keys", ["user_id"], unique=False)

    op.create_table(
        "integrations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("config", JSON_TYPE, nullable=False),
        sa.Column("bot_token", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_integrations_created_by_users")),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_integrations_team_id_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integrations")),
    )
    op.create_index(op.f("ix_integrations_team_id"), "integrations", ["team_id"], unique=False)

    op.create_table(
        "processing_states",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("paused_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_processing_states_team_id_teams")),
        sa.PrimaryKeyConstraint("team_id", name=op.f("pk_processing_states")),
    )
    op.create_table(
        "recordings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("distinct_id", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=True),
        sa.Column("start_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("active_s", sa.Float(), nullable=False),
        sa.Column("click_count", sa.Integer(), nullable=False),
        sa.Column("keypress_count", sa.Integer(), nullable=False),
        sa.Column("console_error_count", sa.Integer(), nullable=False),
        sa.Column("start_url", sa.Text(), nullable=True),
        sa.Column("urls", JSON_TYPE, nullable=False),
        sa.Column("viewport", JSON_TYPE, nullable=True),
        sa.Column("device_type", sa.String(length=16), nullable=False),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("blob_ref", sqlmodel.sql.sqltypes.AutoString(length=1024), nullable=False),
        sa.Column("last_ingested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_recordings_team_id_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recordings")),
        sa.UniqueConstraint("team_id", "session_id", name=op.f("uq_recordings_team_id_session_id")),
    )
    op.create_index(
        "ix_recordings_team_id_end_time", "recordings", ["team_id", "end_time", "session_id"], unique=False
    )
    op.create_index("ix_recordings_team_id_start_time", "recordings", ["team_id", "start_time"], unique=False)

    op.create_table(
        "scanners",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("scanner_type", sa.String(length=32), nullable=False),
        sa.Column("scanner_config", JSON_TYPE, nullable=False),
        sa.Column("query", JSON_TYPE, nullable=False),
        sa.Column("sampling_rate", sa.Float(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("model", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("emits_signals", sa.Boolean(), nullable=False),
        sa.Column("scanner_version", sa.Integer(), nullable=False),
        sa.Column("credit_limit", sa.Integer(), nullable=True),
        sa.Column("estimated_monthly_observations", sa.Integer(), nullable=True),
        sa.Column("last_swept_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_seen_session_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "sampling_rate >= 0 AND sampling_rate <= 1", name=op.f("ck_scanners_sampling_rate_range")
        ),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_scanners_created_by_users")),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_scanners_team_id_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scanners")),
        sa.UniqueConstraint("team_id", "name", name=op.f("uq_scanners_team_id_name")),
    )
    op.create_index("ix_scanners_team_id_enabled", "scanners", ["team_id", "enabled"], unique=False)

    op.create_table(
        "signal_reports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("status_before_suppression", sa.String(length=32), nullable=True),
        sa.Column("total_weight", sa.Float(), nullable=False),
        sa.Column("signal_count", sa.Integer(), nullable=False),
        sa.Column("signals_at_run", sa.Integer(), nullable=False),
        sa.Column("run_count", sa.Integer(), nullable=False),
        sa.Column("promoted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_visible_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_signal_reports_team_id_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signal_reports")),
    )
    op.create_index(
        "ix_signal_reports_team_id_created_at", "signal_reports", ["team_id", "created_at"], unique=False
    )
    op.create_index("ix_signal_reports_team_id_status", "signal_reports", ["team_id", "status"], unique=False)

    op.create_table(
        "usage_receipts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("observation_id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("scanner_id", sa.Uuid(), nullable=False),
        sa.Column("model", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("credits", sa.Integer(), nullable=False),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("observation_created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_usage_receipts_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_usage_receipts_team_id_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_receipts")),
        sa.UniqueConstraint("observation_id", name=op.f("uq_usage_receipts_observation_id")),
    )
    op.create_index(
        "ix_usage_receipts_organization_id_observation_created_at",
        "usage_receipts",
        ["organization_id", "observation_created_at"],
        unique=False,
    )
    op.create_index(
        "ix_usage_receipts_scanner_id_observation_created_at",
        "usage_receipts",
        ["scanner_id", "observation_created_at"],
        unique=False,
    )
    op.create_index(op.f("ix_usage_receipts_team_id"), "usage_receipts", ["team_id"], unique=False)

    op.create_table(
        "observations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("scanner_id", sa.Uuid(), nullable=False),
        sa.Column("session_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("error_reason", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("workflow_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("scanner_snapshot", JSON_TYPE, nullable=False),
        sa.Column("scanner_result", JSON_TYPE, nullable=True),
        sa.Column("result_verdict", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("result_score", sa.Float(), nullable=True),
        sa.Column("result_tags", JSON_TYPE, nullable=True),
        sa.Column("triggered_by", sa.String(length=32), nullable=False),
        sa.Column("triggered_by_user", sa.Integer(), nullable=True),
        sa.Column("send_count", sa.Integer(), nullable=False),
        sa.Column("last_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(status IN ('pending', 'running')) = (completed_at IS NULL)",
            name=op.f("ck_observations_completed_at_when_terminal"),
        ),
        sa.ForeignKeyConstraint(
            ["scanner_id"], ["scanners.id"], name=op.f("fk_observations_scanner_id_scanners")
        ),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_observations_team_id_teams")),
        sa.ForeignKeyConstraint(
            ["triggered_by_user"], ["users.id"], name=op.f("fk_observations_triggered_by_user_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observations")),
        sa.UniqueConstraint("scanner_id", "session_id", name=op.f("uq_observations_scanner_id_session_id")),
    )
    op.create_index(op.f("ix_observations_created_at"), "observations", ["created_at"], unique=False)
    op.create_index(
        "ix_observations_scanner_id_completed_at",
        "observations",
        ["scanner_id", "completed_at"],
        unique=False,
    )
    op.create_index(
        "ix_observations_scanner_id_status", "observations", ["scanner_id", "status"], unique=False
    )
    op.create_index(op.f("ix_observations_status"), "observations", ["status"], unique=False)
    op.create_index("ix_observations_team_id_status", "observations", ["team_id", "status"], unique=False)

    op.create_table(
        "report_artefacts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Uuid(), nullable=False),
        sa.Column("type", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("content", JSON_TYPE, nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_report_artefacts_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["signal_reports.id"],
            name=op.f("fk_report_artefacts_report_id_signal_reports"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_report_artefacts_team_id_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_artefacts")),
    )
    op.create_index(
        "ix_report_artefacts_report_id_type_created_at",
        "report_artefacts",
        ["report_id", "type", "created_at"],
        unique=False,
    )
    op.create_index(op.f("ix_report_artefacts_team_id"), "report_artefacts", ["team_id"], unique=False)

    op.create_table(
        "signals",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("source_product", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("source_type", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("source_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("extra", JSON_TYPE, nullable=False),
        sa.Column("embedding", JSON_TYPE, nullable=True),
        sa.Column("embedding_model", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column("report_id", sa.Uuid(), nullable=True),
        sa.Column("match_metadata", JSON_TYPE, nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("grouped_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("weight >= 0 AND weight <= 1", name=op.f("ck_signals_weight_range")),
        sa.ForeignKeyConstraint(
            ["report_id"], ["signal_reports.id"], name=op.f("fk_signals_report_id_signal_reports")
        ),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_signals_team_id_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signals")),
        sa.UniqueConstraint("team_id", "source_id", name=op.f("uq_signals_team_id_source_id")),
    )
    op.create_index(op.f("ix_signals_report_id"), "signals", ["report_id"], unique=False)
    op.create_index("ix_signals_team_id_created_at", "signals", ["team_id", "created_at"], unique=False)
    op.create_index("ix_signals_team_id_grouped_at", "signals", ["team_id", "grouped_at"], unique=False)

    op.create_table(
        "vision_actions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("scanner_id", sa.Uuid(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("trigger_type", sa.String(length=32), nullable=False),
        sa.Column("mode", sa.String(length=32), nullable=False),
        sa.Column("trigger_config", JSON_TYPE, nullable=False),
        sa.Column("selection", JSON_TYPE, nullable=False),
        sa.Column("synthesis_config", JSON_TYPE, nullable=False),
        sa.Column("delivery_config", JSON_TYPE, nullable=False),
        sa.Column("alert_config", JSON_TYPE, nullable=True),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_vision_actions_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["scanner_id"], ["scanners.id"], name=op.f("fk_vision_actions_scanner_id_scanners")
        ),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_vision_actions_team_id_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vision_actions")),
        sa.UniqueConstraint("team_id", "name", name=op.f("uq_vision_actions_team_id_name")),
    )
    op.create_index(
        "ix_vision_actions_enabled_next_run_at", "vision_actions", ["enabled", "next_run_at"], unique=False
    )
    op.create_index(op.f("ix_vision_actions_scanner_id"), "vision_actions", ["scanner_id"], unique=False)

    op.create_table(
        "action_runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("action_id", sa.Uuid(), nullable=False),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("synthesized_markdown", sa.Text(), nullable=True),
        sa.Column("output", JSON_TYPE, nullable=True),
        sa.Column("observation_count", sa.Integer(), nullable=False),
        sa.Column("observation_ids", JSON_TYPE, nullable=False),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"], ["vision_actions.id"], name=op.f("fk_action_runs_action_id_vision_actions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_runs")),
        sa.UniqueConstraint("action_id", "scheduled_at", name=op.f("uq_action_runs_action_id_scheduled_at")),
    )
    op.create_index("ix_action_runs_status_started_at", "action_runs", ["status", "started_at"], unique=False)

    op.create_table(
        "deliveries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("action_run_id", sa.Uuid(), nullable=True),
        sa.Column("report_id", sa.Uuid(), nullable=True),
        sa.Column("target", sqlmodel.sql.sqltypes.AutoString(length=512), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(action_run_id IS NULL) <> (report_id IS NULL)", name=op.f("ck_deliveries_one_source")
        ),
        sa.ForeignKeyConstraint(
            ["action_run_id"], ["action_runs.id"], name=op.f("fk_deliveries_action_run_id_action_runs")
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["signal_reports.id"], name=op.f("fk_deliveries_report_id_signal_reports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("action_run_id", "target", name=op.f("uq_deliveries_action_run_id_target")),
        sa.UniqueConstraint("report_id", "target", name=op.f("uq_deliveries_report_id_target")),
    )
    op.create_index(op.f("ix_deliveries_status"), "deliveries", ["status"], unique=False)


def downgrade() -> None:
    op.drop_table("deliveries")
    op.drop_table("action_runs")
    op.drop_table("vision_actions")
    op.drop_table("signals")
    op.drop_table("report_artefacts")
    op.drop_table("observations")
    op.drop_table("usage_receipts")
    op.drop_table("signal_reports")
    op.drop_table("scanners")
    op.drop_table("recordings")
    op.drop_table("processing_states")
    op.drop_table("integrations")
    op.drop_table("api_keys")
    op.drop_table("teams")
    op.drop_table("users")
    op.drop_table("organizations")
    op.drop_table("job_runs")
