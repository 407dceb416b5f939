"""People sign in and hold API keys: password hashes, roles, team memberships, revocable keys.

The default user created by `init` becomes a member of the default team. An API key may now
belong to every team of its owner (`team_id` null) and can be revoked.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("password_hash", sa.Text(), nullable=True))
        batch.add_column(sa.Column("role", sa.String(length=16), nullable=False, server_default="member"))
        batch.add_column(sa.Column("is_active", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.create_table(
        "team_memberships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_team_memberships_team_id_teams")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_team_memberships_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_memberships")),
        sa.UniqueConstraint("team_id", "user_id", name=op.f("uq_team_memberships_team_id_user_id")),
    )
    op.create_index(op.f("ix_team_memberships_team_id"), "team_memberships", ["team_id"])
    op.create_index(op.f("ix_team_memberships_user_id"), "team_memberships", ["user_id"])
    with op.batch_alter_table("api_keys") as batch:
        batch.alter_column("team_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "INSERT INTO team_memberships (team_id, user_id, created_at) "
        "SELECT teams.id, users.id, users.created_at FROM teams, users WHERE users.email = 'admin@localhost'"
    )


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("revoked_at")
        batch.alter_column("team_id", existing_type=sa.Integer(), nullable=False)
    op.drop_index(op.f("ix_team_memberships_user_id"), table_name="team_memberships")
    op.drop_index(op.f("ix_team_memberships_team_id"), table_name="team_memberships")
    op.drop_table("team_memberships")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("is_active")
        batch.drop_column("role")
        batch.drop_column("password_hash")
