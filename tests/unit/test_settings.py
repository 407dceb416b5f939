"""Settings come from SIGHTLINE_* names and the documented unprefixed ones, never from a field's name."""

from __future__ import annotations

from pathlib import Path

from settings import Settings


def test_unprefixed_names_that_happen_to_match_a_field_are_ignored(monkeypatch):
    for name, value in {
        "HOME": "/tmp/x",
        "LOG_LEVEL": "DEBUG",
        "SITE_URL": "http://x",
        "EMBEDDINGS": "gemini",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("SIGHTLINE_HOME", "SIGHTLINE_LOG_LEVEL", "SIGHTLINE_SITE_URL", "SIGHTLINE_EMBEDDINGS"):
        monkeypatch.delenv(name, raising=False)
    current = Settings()
    assert current.home == Path(".sightline")
    assert (current.log_level, current.site_url, current.embeddings) == (
        "INFO",
        "http://localhost:8000",
        "auto",
    )


def test_documented_names_are_read(monkeypatch):
    monkeypatch.setenv("SIGHTLINE_HOME", "/srv/sightline")
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/sightline")
    monkeypatch.setenv("SIGHTLINE_MAX_EVENT_BYTES", str(2**20))
    current = Settings()
    assert current.home == Path("/srv/sightline")
    assert current.database_url == "postgresql://db/sightline"
    assert current.max_event_bytes == 2**20


def test_code_builds_settings_with_the_same_names():
    assert Settings(SIGHTLINE_HOME="/a").home == Path("/a")
