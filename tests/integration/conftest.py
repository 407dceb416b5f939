"""A real database at head per test: SQLite in tmp_path, or PostgreSQL from TEST_DATABASE_URL.

A SQLite database at head is a copy of one migrated once per test process (tests/support/migrated.py),
except in tests marked `real_migrations`; on PostgreSQL each is migrated from nothing.

On PostgreSQL each test gets its own schema (first on its search_path), dropped afterwards, so
tests never see each other's rows and may run in parallel against one database.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from sqlalchemy import Engine, make_url, text
from sqlmodel import Session

from models.db import make_engine, session_factory
from models.migrate import upgrade
from tests.support import migrated
from tests.support.s3 import fake_s3, s3_bucket, s3_env  # noqa: F401 (fixtures: the fake S3)


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database, never migrated."""
    server_url = os.environ.get("TEST_DATABASE_URL")
    if not server_url:
        yield f"sqlite:///{tmp_path / 'sightline.db'}"
        return
    schema = f"test_{uuid4().hex[:16]}"
    admin = make_engine(server_url)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(server_url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on a database migrated to head."""
    migrated.copy_to(database_url)
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on the migrated database; what the test leaves uncommitted is rolled back."""
    with session_factory(engine)() as session:
        yield session


@pytest.fixture
def world(sightline_home, database_url, monkeypatch):
    """Database, embedded Redis, a real Worker and a fake Gemini, with the scenarios imported."""
    from tests.support.world import build_world, close_world

    built = build_world(monkeypatch, database_url)
    yield built
    close_world(built)


@pytest.fixture
def sightline(sightline_home, database_url, monkeypatch):
    """Run the CLI in-process against this test's database (with a Gemini key set); `init` has run."""
    from typer.testing import CliRunner

    from cli.main import app
    from settings import get_settings

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("GEMINI_API_KEY", "test-key")
    get_settings.cache_clear()
    migrated.copy_to(database_url)  # `init` below then finds it at head; it still sets the modes
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    assert run("init").exit_code == 0
    return run


@pytest.fixture
def api(world):
    """A client of the real app on the world's deps, with a key of every scope (tests/integration/api_support.py)."""
    from tests.integration.api_support import api_for

    return api_for(world)
