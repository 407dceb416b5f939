"""The operators' pages count the last hour's failed attempts and filter the job history by outcome:
an index on job_runs (status, started_at, actor) answers both without reading the whole history.

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_job_runs_status_started_at_actor", "job_runs", ["status", "started_at", "actor"])


def downgrade() -> None:
    op.drop_index("ix_job_runs_status_started_at_actor", table_name="job_runs")
