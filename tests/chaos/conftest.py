"""Fixtures of the chaos suite, and the table it prints at the end of the session.

Run it with `pytest -m chaos tests/chaos` (SQLite), or with `TEST_DATABASE_URL` set to a PostgreSQL
server (each scenario gets a schema of its own there). `SIGHTLINE_CHAOS_SCALE` sets the
observations per scenario (60 unless set; `.ci/run` sets 1,000).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from sqlalchemy import make_url, text

from models.db import make_engine
from tests.chaos.harness import ChaosRun, Row

TABLE = pytest.StashKey[list[Row]]()
COLUMNS = ("scenario", "database", "load", "fault", "lost", "duplicated", "stuck", "recovery", "verdict")
HEADERS = ("scenario", "db", "load", "fault", "lost", "duplicated", "stuck", "recovery s", "verdict")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[TABLE] = []


@pytest.fixture
def chaos_table(request) -> list[Row]:
    return request.config.stash[TABLE]


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """An empty database for the processes: SQLite in the scenario's folder, or a schema of its own
    on the PostgreSQL server of TEST_DATABASE_URL."""
    server_url = os.environ.get("TEST_DATABASE_URL")
    if not server_url:
        yield f"sqlite:///{tmp_path / 'home' / 'sightline.db'}"
        return
    schema = f"chaos_{uuid4().hex[:12]}"
    admin = make_engine(server_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = make_url(server_url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def chaos(tmp_path: Path, database_url: str, chaos_table: list[Row]):
    """`chaos(scenario, **options)` → a `ChaosRun` in this test's folder, closed after the test."""
    runs: list[ChaosRun] = []

    def start(scenario: str, url: str | None = None, **options) -> ChaosRun:
        run = ChaosRun(scenario, tmp_path, url or database_url, chaos_table, **options)
        runs.append(run)
        return run

    yield start
    for run in runs:
        run.close()


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    rows = config.stash.get(TABLE, [])
    if not rows:
        return
    cells = [HEADERS] + [tuple(str(getattr(row, column)) for column in COLUMNS) for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(HEADERS))]
    terminalreporter.section("chaos: what each fault cost")
    for number, line in enumerate(cells):
        terminalreporter.write_line(
            " | ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        )
        if number == 0:
            terminalreporter.write_line("-+-".join("-" * width for width in widths))
