"""Shared test fixtures: where the real recordings live, and an isolated data folder."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RECORDINGS_DIR = ROOT.parent / "shared" / "recordings"


@pytest.fixture
def recordings_dir() -> Path:
    """The real recordings beside the repository; tests using them skip when it is absent."""
    if not RECORDINGS_DIR.is_dir():
        pytest.skip(f"real recordings not found at {RECORDINGS_DIR}")
    return RECORDINGS_DIR


@pytest.fixture
def sightline_home(tmp_path, monkeypatch) -> Path:
    """A private SIGHTLINE_HOME with the settings cache cleared around the test."""
    from settings import get_settings

    home = tmp_path / "home"
    monkeypatch.setenv("SIGHTLINE_HOME", str(home))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()
