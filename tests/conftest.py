"""Shared test fixtures: where the real recordings live, an isolated data folder, and one Redis per run.

`sightline_home` points `REDIS_URL` at one embedded redis-server started for the whole test process
(each xdist worker has its own) and gives the test a namespace of its own, so tests never see each
other's keys and no test waits for a server to start or stop. A test about the embedded server
itself is marked `embedded_redis`: `REDIS_URL` stays unset and it starts its own.

After each test the cyclic garbage collector runs once and what survives is frozen (`gc.freeze()`):
a test process keeps ~1,000 objects per test (caches, imports), a million by the end of a worker, and
Python's automatic full collections rescanned all of them, about a quarter of the suite's CPU time.
Frozen objects are never scanned again; objects freed by reference counting still are freed. The
youngest generation is collected every 10,000 allocations rather than 700: a test allocates
hundreds of thousands of objects, mostly freed by reference counting (~25% less collecting).
"""

from __future__ import annotations

import gc
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RECORDINGS_DIR = ROOT.parent / "shared" / "recordings"


def pytest_configure(config) -> None:
    gc.set_threshold(10_000, 10, 10)  # see the module's docstring


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """Collect this test's cyclic garbage, then freeze what is left (see the module's docstring)."""
    try:
        return (yield)
    finally:
        gc.collect()
        gc.freeze()


@pytest.fixture
def recordings_dir() -> Path:
    """The real recordings beside the repository; tests using them skip when it is absent."""
    if not RECORDINGS_DIR.is_dir():
        pytest.skip(f"real recordings not found at {RECORDINGS_DIR}")
    return RECORDINGS_DIR


@pytest.fixture(scope="session")
def shared_redis_url(tmp_path_factory) -> Iterator[str]:
    """The `REDIS_URL` of this test process's own embedded redis-server, stopped when the run ends."""
    from integrations.embedded_redis import EmbeddedRedis

    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    # Clients made from this URL carry the server's own name: connections a test leaves open are
    # then this process's, and do not keep the server alive past the run.
    yield f"{server.url}?client_name={server.name}"
    server.stop()


@pytest.fixture(scope="session")
def migrated_template_folder(tmp_path_factory) -> Path:
    """Where this test process keeps its database migrated to head (tests/support/migrated.py)."""
    return tmp_path_factory.mktemp("migrated")


@pytest.fixture(autouse=True)
def _migrated_copies(request) -> Iterator[None]:
    """Lets the fixtures that promise a database at head copy the migrated template (SQLite only),
    except in tests marked `real_migrations`, whose databases are migrated from nothing."""
    from tests.support import migrated

    real = os.environ.get("TEST_DATABASE_URL") or request.node.get_closest_marker("real_migrations")
    migrated.folder = None if real else request.getfixturevalue("migrated_template_folder")
    yield
    migrated.folder = None


@pytest.fixture
def sightline_home(tmp_path, monkeypatch, request) -> Iterator[Path]:
    """A private SIGHTLINE_HOME and Redis namespace, with the settings cache cleared around the test."""
    from settings import get_settings

    home = tmp_path / "home"
    monkeypatch.setenv("SIGHTLINE_HOME", str(home))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    if request.node.get_closest_marker("embedded_redis"):
        monkeypatch.delenv("REDIS_URL", raising=False)
    else:
        monkeypatch.setenv("REDIS_URL", request.getfixturevalue("shared_redis_url"))
    monkeypatch.setenv("SIGHTLINE_REDIS_NAMESPACE", f"test-{uuid.uuid4().hex[:8]}")
    # The fixtures set a fake GEMINI_API_KEY, which would turn `auto` embeddings into Gemini's: tests
    # group with the offline embedder and its thresholds unless they ask for another.
    monkeypatch.setenv("SIGHTLINE_EMBEDDINGS", "hashing")
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()
    from integrations.storage import forget_databases

    forget_databases()  # this test's database: its pooled connections are closed, not kept
