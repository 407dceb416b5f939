"""Live ingest and late data: project ingest tokens, the batches received (a retried batch is stored
once; each waits in its own blob until merged), the origins a team's pages may send from, and sweeps in the order recordings
settled rather than the order they ended.

A scanner's watermark was `(end_time, session_id)`; it becomes `(last_ingested_at, session_id)`.
Each watermark is rebased so that nothing it had not walked is skipped: it moves to just before
the earliest-ingested recording after the old watermark (recordings walked again are skipped by
the unique (scanner, session) key), or to the last ingested recording when it had walked them all.

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence
from datetime import timedelta

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_TYPE = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "ingest_tokens",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.Column("token_hash", sa.String(length=128), nullable=False),
        sa.Column("mask_value", sa.String(length=32), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("last_used_at", WHEN, nullable=True),
        sa.Column("revoked_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_ingest_tokens_team_id_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_ingest_tokens_token_hash")),
    )
    op.create_index(op.f("ix_ingest_tokens_team_id"), "ingest_tokens", ["team_id"])
    op.create_table(
        "ingest_batches",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=128), nullable=False),
        sa.Column("batch_id", sa.String(length=128), nullable=False),
        sa.Column("distinct_id", sa.String(length=400), nullable=True),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("blob_ref", sa.String(length=1024), nullable=True),
        sa.Column("received_at", WHEN, nullable=False),
        sa.Column("merged_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_ingest_batches_team_id_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_batches")),
        sa.UniqueConstraint(
            "team_id", "session_id", "batch_id", name=op.f("uq_ingest_batches_team_id_session_id_batch_id")
        ),
    )
    op.create_index("ix_ingest_batches_merged_at_received_at", "ingest_batches", ["merged_at", "received_at"])
    with op.batch_alter_table("teams") as batch:
        batch.add_column(sa.Column("ingest_origins", JSON_TYPE, nullable=True))
    op.create_index(
        "ix_recordings_team_id_last_ingested_at", "recordings", ["team_id", "last_ingested_at", "session_id"]
    )
    _rebase_watermarks()


def _rebase_watermarks() -> None:
    scanners = sa.table(
        "scanners", sa.column("id"), sa.column("team_id"), sa.column("last_swept_at", WHEN),
        sa.column("last_seen_session_id", sa.String),
    )
    recordings = sa.table(
        "recordings", sa.column("team_id"), sa.column("session_id", sa.String), sa.column("end_time", WHEN),
        sa.column("last_ingested_at", WHEN),
    )
    connection = op.get_bind()
    rows = connection.execute(sa.select(scanners).where(scanners.c.last_swept_at.is_not(None))).all()
    for row in rows:
        ended, seen = row.last_swept_at, row.last_seen_session_id or ""
        team = recordings.c.team_id == row.team_id
        unwalked = sa.or_(
            recordings.c.end_time > ended,
            sa.and_(recordings.c.end_time == ended, recordings.c.session_id > seen),
        )
        first = connection.execute(sa.select(sa.func.min(recordings.c.last_ingested_at)).where(team, unwalked))
        earliest = first.scalar()
        if earliest is not None:
            new = (earliest - timedelta(microseconds=1), "")
        else:
            last = connection.execute(
                sa.select(recordings.c.last_ingested_at, recordings.c.session_id)
                .where(team)
                .order_by(recordings.c.last_ingested_at.desc(), recordings.c.session_id.desc())
                .limit(1)
            ).first()
            if last is None:
                continue
            new = (last.last_ingested_at, last.session_id)
        connection.execute(
            sa.update(scanners).where(scanners.c.id == row.id).values(last_swept_at=new[0], last_seen_session_id=new[1])
        )


def downgrade() -> None:
    op.drop_index("ix_recordings_team_id_last_ingested_at", table_name="recordings")
    with op.batch_alter_table("teams") as batch:
        batch.drop_column("ingest_origins")
    op.drop_index("ix_ingest_batches_merged_at_received_at", table_name="ingest_batches")
    op.drop_table("ingest_batches")
    op.drop_index(op.f("ix_ingest_tokens_team_id"), table_name="ingest_tokens")
    op.drop_table("ingest_tokens")
