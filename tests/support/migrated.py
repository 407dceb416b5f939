"""A SQLite database migrated to head once per test process, copied for each test that needs one.

Migrating an empty database runs every Alembic migration (about 0.15 s of CPU, and most of the setup
of a test with a `world`). The fixtures that promise a database at head (`engine`, `world` and
`build_world`, `sightline`) instead copy this process's template, made by the same `upgrade()` on
first use, to the test's database file before they use it; their own `upgrade()` then finds head and
changes nothing, so production code runs unchanged. The copy is 0600, as `sightline init` leaves it.

Nothing is copied for a database that is not a SQLite file (PostgreSQL from TEST_DATABASE_URL) or
that already exists, nor for a test marked `real_migrations` (the tests of the migrations and of
`init` migrating): `tests/conftest.py` turns copying on for the others, one test at a time.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from integrations.private_files import FILE_MODE, sqlite_files

# Set by tests/conftest.py around each test: a folder for the template, or None when not to copy.
folder: Path | None = None
_template: Path | None = None


def copy_to(url: str) -> bool:
    """Put a copy of the head template at the SQLite file of `url` unless it exists; True if copied."""
    files = sqlite_files(url)
    if folder is None or not files or any(path.exists() for path in files):
        return False
    template = _template or _make_template(folder)
    files[0].parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(files[0], os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE)
    with os.fdopen(descriptor, "wb") as target, template.open("rb") as source:
        shutil.copyfileobj(source, target)
    return True


def _make_template(where: Path) -> Path:
    global _template
    from models.db import make_engine
    from models.migrate import upgrade

    path = where / "head.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        upgrade(engine)
    finally:
        engine.dispose()  # the last connection closed: SQLite checkpoints and removes the -wal file
    leftovers = [companion for companion in sqlite_files(f"sqlite:///{path}")[1:] if companion.exists()]
    assert not leftovers, f"the template database left {leftovers} behind"
    _template = path
    return path
