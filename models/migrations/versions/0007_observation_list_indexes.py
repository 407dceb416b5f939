"""Indexes for the API's observation lists: one scanner's, newest first, with or without a status.

`(scanner_id, status)` becomes `(scanner_id, status, created_at)`, and `(scanner_id, created_at)` is
new, so a page of a scanner's observations is read off an index instead of sorting every row of
that status across all scanners.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_observations_scanner_id_status", table_name="observations")
    op.create_index(
        "ix_observations_scanner_id_status_created_at", "observations", ["scanner_id", "status", "created_at", "id"]
    )
    op.create_index("ix_observations_scanner_id_created_at", "observations", ["scanner_id", "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_observations_scanner_id_created_at", table_name="observations")
    op.drop_index("ix_observations_scanner_id_status_created_at", table_name="observations")
    op.create_index("ix_observations_scanner_id_status", "observations", ["scanner_id", "status"])
