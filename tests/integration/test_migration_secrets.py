"""Migration 0014 on a database that already holds secrets in clear and integrations sharing a name."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from integrations.secrets import SEALED, open_targets, secret_box
from models import Scanner, ScannerType, VisionAction, make_engine, session_factory, session_scope
from models.migrate import alembic_config, upgrade
from models.queries import ensure_defaults
from settings import get_settings

pytestmark = [pytest.mark.db, pytest.mark.real_migrations]
TOKENS = ("xoxb-first-1111-2222-3333-aaaa", "xoxb-second-4444-5555-6666-bbbb", "xoxb-third-7777-8888-cccc")
TARGETS = [
    {"type": "log"},
    {"type": "slack_webhook", "url": "https://hooks.slack.com/services/T1/B1/cLeArHoOk"},
    {"secret": "cLeArSiGnInG", "type": "webhook", "url": "https://example.com/in?token=cLeArUrL"},
]


@pytest.fixture
def at_0013(sightline_home, database_url, monkeypatch) -> Engine:
    monkeypatch.setenv("SIGHTLINE_SECRET_KEY", f"migration test key {uuid.uuid4().hex}")
    get_settings.cache_clear()
    engine = make_engine(database_url)
    upgrade(engine, "0013")
    yield engine
    engine.dispose()


def integration(connection, team_id: int, name: str, token: str, **config) -> None:
    values = {"id": uuid.uuid4().hex, "team": team_id, "token": token, "now": datetime.now(UTC)}
    values["config"] = json.dumps({"name": name, **config})
    connection.execute(
        text(
            "INSERT INTO integrations (id, team_id, kind, config, bot_token, created_at, updated_at) "
            "VALUES (:id, :team, 'slack', :config, :token, :now, :now)"
        ),
        values,
    )


def as_of_0013(connection, row) -> None:
    """Insert a model's row with only the columns its table has at 0013 (the models have grown since)."""
    model = type(row).__table__
    present = {column["name"] for column in sa.inspect(connection).get_columns(model.name)}
    columns = [column for column in model.columns if column.name in present]
    table = sa.table(model.name, *(sa.column(column.name, column.type) for column in columns))
    connection.execute(
        sa.insert(table).values({column.name: getattr(row, column.name) for column in columns})
    )


def seed(engine: Engine) -> int:
    """Three integrations in clear, two named alike, and an action whose targets hold secrets."""
    with session_scope(session_factory(engine)) as session:
        _, team, _ = ensure_defaults(session)
        team_id = int(team.id or 0)
        scanner = Scanner(team_id=team_id, name="Rage", scanner_type=ScannerType.MONITOR, model="m")
        action = VisionAction(
            team_id=team_id,
            scanner_id=scanner.id,
            name="Alerts",
            trigger_config={"rrule": "FREQ=DAILY", "timezone": "UTC"},
            delivery_config=TARGETS,
        )
        for row in (scanner, action):
            as_of_0013(session.connection(), row)
        for name, token in zip(("acme", "acme", "ops"), TOKENS, strict=True):
            integration(session.connection(), team_id, name, token, report_channel="C1")
        return team_id


def test_0014_encrypts_what_was_in_clear_and_dedupes_names(at_0013, sightline_home):
    team_id = seed(at_0013)

    upgrade(at_0013)

    box = secret_box(get_settings())
    with at_0013.connect() as connection:
        rows = connection.execute(
            text("SELECT name, config, bot_token FROM integrations ORDER BY name")
        ).all()
        targets = decoded(connection.execute(text("SELECT delivery_config FROM vision_actions")).scalar())
        raw = json.dumps([[str(cell) for cell in row] for row in rows]) + json.dumps(targets)
    assert [row.name for row in rows] == ["acme", "acme (2)", "ops"]
    assert sorted(box.decrypt(row.bot_token) for row in rows) == sorted(TOKENS)
    assert all(set(decoded(row.config)) == {"report_channel", "token_mask"} for row in rows)
    assert decoded(rows[2].config)["token_mask"] == "xoxb-…cccc"
    assert not [secret for secret in (*TOKENS, "cLeArHoOk", "cLeArSiGnInG", "cLeArUrL") if secret in raw]
    assert [SEALED in target for target in targets] == [False, True, True]
    assert open_targets(box, targets) == TARGETS
    with pytest.raises(IntegrityError), at_0013.begin() as connection:
        integration(connection, team_id, "ops", "xoxb-again")


def test_0014_and_back_restores_the_secrets_in_clear(at_0013):
    seed(at_0013)
    upgrade(at_0013)

    config = alembic_config()
    with at_0013.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0013")

    with at_0013.connect() as connection:
        rows = connection.execute(text("SELECT config, bot_token FROM integrations")).all()
        targets = decoded(connection.execute(text("SELECT delivery_config FROM vision_actions")).scalar())
    assert sorted(row.bot_token for row in rows) == sorted(TOKENS)
    assert sorted(decoded(row.config)["name"] for row in rows) == ["acme", "acme (2)", "ops"]
    assert targets == TARGETS


def test_migrating_an_empty_database_reads_no_key(sightline_home, database_url, monkeypatch):
    monkeypatch.delenv("SIGHTLINE_SECRET_KEY", raising=False)
    get_settings.cache_clear()

    upgrade(database_url)

    assert not (sightline_home / "secret.key").exists()


def decoded(value):
    """A JSON column read with plain SQL: text on SQLite, already decoded by psycopg on PostgreSQL."""
    return json.loads(value) if isinstance(value, str | bytes) else value
