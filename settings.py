"""The one settings object. Nothing here is read at import time: call `get_settings()`.

Every environment variable Sightline reads is a field of `Settings`; no other module reads
the environment.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class Settings(BaseSettings):
    """Configuration from the environment, with the embedded defaults of DESIGN §9."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    home: Path = Field(Path(".sightline"), validation_alias=_env("SIGHTLINE_HOME"))
    database_url: str | None = Field(None, validation_alias=_env("DATABASE_URL"))
    redis_url: str | None = Field(None, validation_alias=_env("REDIS_URL"))
    redis_namespace: str = Field("sightline", validation_alias=_env("SIGHTLINE_REDIS_NAMESPACE"))
    log_level: str = Field("INFO", validation_alias=_env("SIGHTLINE_LOG_LEVEL"))
    log_format: Literal["auto", "json", "console"] = Field(
        "auto", validation_alias=_env("SIGHTLINE_LOG_FORMAT")
    )
    timeline_budget_tokens: int = Field(6000, ge=200, validation_alias=_env("SIGHTLINE_TIMELINE_BUDGET"))
    default_timezone: str = Field("UTC", validation_alias=_env("SIGHTLINE_TIMEZONE"))

    @property
    def resolved_database_url(self) -> str:
        """`DATABASE_URL`, or the SQLite file in the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'sightline.db').resolve()}"

    @property
    def blob_dir(self) -> Path:
        return self.home / "blobs"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read from the environment once."""
    return Settings()
