"""Recordings remember the events left out at import (`skipped_events`, and why in `intake`).

Stored page URLs and event names are display columns; from now on they are redacted at import
(a `?password=` in a URL query never reaches a column), and this migration redacts the ones
imported before.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_TYPE = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("recordings") as batch:
        batch.add_column(sa.Column("skipped_events", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("intake", JSON_TYPE, nullable=True))
    _redact_display_columns()


def _redact_display_columns() -> None:
    from pipeline.redact import Redactor

    recordings = sa.table(
        "recordings", sa.column("id"), sa.column("start_url", sa.Text), sa.column("urls", JSON_TYPE),
        sa.column("custom_events", JSON_TYPE),
    )
    connection, redactor = op.get_bind(), Redactor()
    rows = connection.execute(sa.select(recordings)).all()
    for row in rows:
        changes = {
            "start_url": redactor.redact_url(row.start_url) if row.start_url else row.start_url,
            "urls": [redactor.redact_url(url) for url in row.urls or []],
            "custom_events": [redactor.redact(name) for name in row.custom_events or []] or row.custom_events,
        }
        if changes != {"start_url": row.start_url, "urls": row.urls or [], "custom_events": row.custom_events}:
            connection.execute(sa.update(recordings).where(recordings.c.id == row.id).values(**changes))


def downgrade() -> None:
    with op.batch_alter_table("recordings") as batch:
        batch.drop_column("intake")
        batch.drop_column("skipped_events")
