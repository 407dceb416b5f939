"""The scheduler's bookkeeping on scanners: the sweep slot claimed last, when it ran, and when the
monthly estimate was computed.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("scanners") as batch:
        batch.add_column(sa.Column("sweep_slot", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("last_sweep_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("estimated_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_observations_status_created_at", "observations", ["status", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_observations_status_created_at", table_name="observations")
    with op.batch_alter_table("scanners") as batch:
        batch.drop_column("estimated_at")
        batch.drop_column("last_sweep_at")
        batch.drop_column("sweep_slot")
