"""Sweeps to the headroom: a scanner remembers why its last sweep stopped (`sweep_stopped`: "full"
or "walked" means it left recordings it wants behind, and it is topped up on the next tick rather
than at its next slot), and a sweep holds the scanner for a short lease (`sweeping_until`), so two
schedulers never sweep one scanner at the same time, whichever kind of sweep each makes.

Existing scanners start as caught up: their next slot finds out whether they have a backlog.

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("scanners") as batch:
        batch.add_column(sa.Column("sweep_stopped", sa.String(length=16), nullable=False, server_default=""))
        batch.add_column(sa.Column("sweeping_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite has had it since 3.35): batch mode would copy `scanners` and drop
    # the original, which SQLite's enforced foreign keys (actions, observations) refuse.
    op.execute("ALTER TABLE scanners DROP COLUMN sweeping_until")
    op.execute("ALTER TABLE scanners DROP COLUMN sweep_stopped")
