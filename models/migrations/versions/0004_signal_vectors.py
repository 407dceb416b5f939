"""Signal embeddings as float32 bytes instead of JSON lists: a grouping pass loads tens of
thousands of them, and decoding JSON numbers was most of its time. No vectors were stored before.
Signals also get a `fingerprint` (what a deterministic source detected, e.g. pattern and element).

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_TYPE = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("signals") as batch:
        batch.drop_column("embedding")
    with op.batch_alter_table("signals") as batch:
        batch.add_column(sa.Column("embedding", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("fingerprint", sa.String(length=255), nullable=True))
    op.create_index("ix_signals_team_id_report_id_created_at", "signals", ["team_id", "report_id", "created_at"])
    op.create_index("ix_signals_team_id_fingerprint", "signals", ["team_id", "fingerprint"])


def downgrade() -> None:
    op.drop_index("ix_signals_team_id_fingerprint", table_name="signals")
    op.drop_index("ix_signals_team_id_report_id_created_at", table_name="signals")
    with op.batch_alter_table("signals") as batch:
        batch.drop_column("fingerprint")
        batch.drop_column("embedding")
    with op.batch_alter_table("signals") as batch:
        batch.add_column(sa.Column("embedding", JSON_TYPE, nullable=True))
