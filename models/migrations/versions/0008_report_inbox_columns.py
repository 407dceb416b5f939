"""Reports keep what their newest judgments say (`priority`, `actionability`) in columns, so the
inbox sorts and filters a page in SQL instead of reading every report's artefacts; this migration
fills them from the artefacts written before. The `(team_id, status)` index becomes
`(team_id, status, actionability, updated_at DESC, id)`: all the default list reads, in its order.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence
from itertools import groupby

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INBOX_INDEX = "ix_signal_reports_team_id_status_actionability_updated_at"
JSON_TYPE = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("signal_reports") as batch:
        batch.add_column(sa.Column("priority", sa.String(length=2), nullable=True))
        batch.add_column(sa.Column("actionability", sa.String(length=32), nullable=True))
    op.drop_index("ix_signal_reports_team_id_status", table_name="signal_reports")
    op.create_index(
        INBOX_INDEX,
        "signal_reports",
        ["team_id", "status", "actionability", sa.text("updated_at DESC"), "id"],
    )
    _backfill()


def _backfill() -> None:
    """Each report's columns from its judgments, read as the application reads them."""
    from pipeline.artefacts import derived
    from pipeline.inbox import JUDGMENTS, inbox_columns

    artefacts = sa.table(
        "report_artefacts",
        sa.column("report_id", sa.Uuid()),
        sa.column("type", sa.String),
        sa.column("content", JSON_TYPE),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    reports = sa.table(
        "signal_reports", sa.column("id", sa.Uuid()), sa.column("priority"), sa.column("actionability")
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(artefacts)
        .where(artefacts.c.type.in_(JUDGMENTS))
        .order_by(artefacts.c.report_id, artefacts.c.created_at)
    ).all()
    changes = []
    for report_id, judgments in groupby(rows, key=lambda row: row.report_id):
        columns = inbox_columns(derived(judgments))
        changes.append(
            {
                "report": report_id,
                "set_priority": columns["priority"],
                "set_actionability": columns["actionability"],
            }
        )
    if changes:  # the bind names differ from the columns': SQLAlchemy reserves those for SET
        statement = (
            sa.update(reports)
            .where(reports.c.id == sa.bindparam("report", type_=sa.Uuid()))
            .values(priority=sa.bindparam("set_priority"), actionability=sa.bindparam("set_actionability"))
        )
        connection.execute(statement, changes)


def downgrade() -> None:
    op.drop_index(INBOX_INDEX, table_name="signal_reports")
    op.create_index("ix_signal_reports_team_id_status", "signal_reports", ["team_id", "status"])
    with op.batch_alter_table("signal_reports") as batch:
        batch.drop_column("actionability")
        batch.drop_column("priority")
