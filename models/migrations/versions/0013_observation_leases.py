"""Observation leases: a claimed observation holds a lease its worker renews while the attempt runs,
so a row whose worker stopped is taken over (or re-sent by the reaper) once the lease lapses, instead
of waiting out the time limit plus a grace period. Claims are counted (`attempts`, which also fences
an attempt's writes), and so are takeovers (bounded); a transient failure keeps when its retry is due.

Rows running when this migration runs were claimed without a lease: theirs ends when the old rule
(the 10-minute time limit plus the 30-minute grace) would have orphaned them.

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence
from datetime import timedelta

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)
OLD_CUTOFF = timedelta(minutes=10 + 30)


def upgrade() -> None:
    with op.batch_alter_table("observations") as batch:
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("takeovers", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("lease_until", WHEN, nullable=True))
        batch.add_column(sa.Column("next_attempt_at", WHEN, nullable=True))
    _lease_running_rows()


def _lease_running_rows() -> None:
    observations = sa.table(
        "observations", sa.column("id", sa.Uuid()), sa.column("status", sa.String),
        sa.column("started_at", WHEN), sa.column("attempts", sa.Integer), sa.column("lease_until", WHEN),
    )
    connection = op.get_bind()
    running = observations.c.status == "running"
    rows = connection.execute(sa.select(observations.c.id, observations.c.started_at).where(running)).all()
    for row in rows:
        if row.started_at is None:
            continue
        connection.execute(
            sa.update(observations)
            .where(observations.c.id == row.id)
            .values(attempts=1, lease_until=row.started_at + OLD_CUTOFF)
        )


def downgrade() -> None:
    with op.batch_alter_table("observations") as batch:
        batch.drop_column("next_attempt_at")
        batch.drop_column("lease_until")
        batch.drop_column("takeovers")
        batch.drop_column("attempts")
