"""Secrets at rest: Slack bot tokens and the secrets of action targets (Slack webhook URLs, webhook URLs
and signing secrets) are encrypted with the process's key (integrations/secrets.py, the same key
PostHog API keys use since 0012), and an integration has a name unique in its team.

An integration's name moves out of `config` into its own column; duplicates in a team become
`name (2)`, `name (3)`… (oldest first keeps the name). A token's mask (`xoxb-…abcd`) is kept in
`config` for lists. The key is read only when there is something to encrypt, so migrating an empty
database never creates a key file.

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_TYPE = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
NAME_LENGTH = 255
INTEGRATIONS = sa.table(
    "integrations",
    sa.column("id", sa.Uuid()),
    sa.column("team_id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("config", JSON_TYPE),
    sa.column("bot_token", sa.Text),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
ACTIONS = sa.table("vision_actions", sa.column("id", sa.Uuid()), sa.column("delivery_config", JSON_TYPE))


def upgrade() -> None:
    with op.batch_alter_table("integrations") as batch:
        batch.add_column(sa.Column("name", sa.String(length=NAME_LENGTH), nullable=True))
    boxes = _Boxes()
    _name_and_encrypt_integrations(boxes)
    _seal_action_targets(boxes)
    with op.batch_alter_table("integrations") as batch:
        batch.alter_column("name", existing_type=sa.String(length=NAME_LENGTH), nullable=False)
        batch.create_unique_constraint(op.f("uq_integrations_team_id_name"), ["team_id", "name"])


def downgrade() -> None:
    boxes = _Boxes()
    connection = op.get_bind()
    for row in connection.execute(sa.select(INTEGRATIONS)).all():
        config = {key: value for key, value in (row.config or {}).items() if key != "token_mask"}
        token = row.bot_token or ""
        if token and not token.startswith("xox"):  # a token written in clear by hand stays as it is
            token = boxes.get().decrypt(token)
        values = {"config": {**config, "name": row.name}, "bot_token": token}
        connection.execute(sa.update(INTEGRATIONS).where(INTEGRATIONS.c.id == row.id).values(**values))
    for row in connection.execute(sa.select(ACTIONS)).all():
        if _has_sealed(row.delivery_config):
            from integrations.secrets import open_targets

            opened = open_targets(boxes.get(), row.delivery_config)
            statement = sa.update(ACTIONS).where(ACTIONS.c.id == row.id)
            connection.execute(statement.values(delivery_config=opened))
    with op.batch_alter_table("integrations") as batch:
        batch.drop_constraint(op.f("uq_integrations_team_id_name"), type_="unique")
        batch.drop_column("name")


class _Boxes:
    """The process's secret box, built on first need (`settings.get_settings()`, as every process)."""

    def __init__(self) -> None:
        self._box: Any = None

    def get(self) -> Any:
        if self._box is None:
            from integrations.secrets import secret_box
            from settings import get_settings

            self._box = secret_box(get_settings())
        return self._box


def _name_and_encrypt_integrations(boxes: _Boxes) -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.select(INTEGRATIONS).order_by(INTEGRATIONS.c.created_at)).all()
    taken: set[tuple[int, str]] = set()
    for row in rows:
        config = dict(row.config or {})
        name = _unique_name(str(config.pop("name", "") or "slack").strip() or "slack", row.team_id, taken)
        token = row.bot_token or ""
        if token:
            config["token_mask"] = f"{token[:5]}…{token[-4:] if len(token) >= 24 else ''}"
            token = boxes.get().encrypt(token)
        values = {"name": name, "config": config, "bot_token": token}
        connection.execute(sa.update(INTEGRATIONS).where(INTEGRATIONS.c.id == row.id).values(**values))


def _unique_name(wanted: str, team_id: int, taken: set[tuple[int, str]]) -> str:
    name, number = wanted[:NAME_LENGTH], 1
    while (team_id, name) in taken:
        number += 1
        suffix = f" ({number})"
        name = wanted[: NAME_LENGTH - len(suffix)] + suffix
    taken.add((team_id, name))
    return name


def _seal_action_targets(boxes: _Boxes) -> None:
    from integrations.secrets import seal_targets
    from pipeline.masking import SECRET_KEYS

    connection = op.get_bind()
    for row in connection.execute(sa.select(ACTIONS)).all():
        targets = row.delivery_config or []
        if not any(str(target.get("type")) in SECRET_KEYS for target in targets):
            continue
        sealed = seal_targets(boxes.get(), targets)
        connection.execute(sa.update(ACTIONS).where(ACTIONS.c.id == row.id).values(delivery_config=sealed))


def _has_sealed(targets: list[dict[str, Any]] | None) -> bool:
    from integrations.secrets import SEALED

    return any(SEALED in target for target in targets or [])
