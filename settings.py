"""The one settings object. Nothing here is read at import time: call `get_settings()`.

Every environment variable Sightline reads is a field of `Settings`; no other module reads
the environment.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Configuration from the environment, with the embedded defaults of DESIGN §9."""

    # Only the names below are read: never a field's own name (`home` would read $HOME), so every
    # variable is `SIGHTLINE_*` except the documented DATABASE_URL, REDIS_URL and GEMINI_*.
    # Code that builds settings passes the same names: `Settings(SIGHTLINE_HOME=path)`.
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=False)

    home: Path = Field(Path(".sightline"), validation_alias=AliasChoices("SIGHTLINE_HOME"))
    database_url: str | None = Field(None, validation_alias=AliasChoices("DATABASE_URL"))
    redis_url: str | None = Field(None, validation_alias=AliasChoices("REDIS_URL"))
    redis_namespace: str = Field("sightline", validation_alias=AliasChoices("SIGHTLINE_REDIS_NAMESPACE"))
    log_level: str = Field("INFO", validation_alias=AliasChoices("SIGHTLINE_LOG_LEVEL"))
    log_format: Literal["auto", "json", "console"] = Field(
        "auto", validation_alias=AliasChoices("SIGHTLINE_LOG_FORMAT")
    )
    timeline_budget_tokens: int = Field(
        6000, ge=200, validation_alias=AliasChoices("SIGHTLINE_TIMELINE_BUDGET")
    )
    default_timezone: str = Field("UTC", validation_alias=AliasChoices("SIGHTLINE_TIMEZONE"))
    # Recording input bounds (issue [1/9]): what one event or one file may inflate to in memory.
    max_event_bytes: int = Field(
        64 * 2**20, ge=2**16, validation_alias=AliasChoices("SIGHTLINE_MAX_EVENT_BYTES")
    )
    max_recording_bytes: int = Field(
        512 * 2**20, ge=2**20, validation_alias=AliasChoices("SIGHTLINE_MAX_RECORDING_BYTES")
    )

    # Gemini (issue [2/5]): unset key ⇒ google scanners are refused, heuristic ones still work.
    gemini_api_key: SecretStr | None = Field(None, validation_alias=AliasChoices("GEMINI_API_KEY"))
    gemini_base_url: str | None = Field(None, validation_alias=AliasChoices("GEMINI_BASE_URL"))
    gemini_api_version: str = Field("v1beta", validation_alias=AliasChoices("SIGHTLINE_GEMINI_API_VERSION"))
    gemini_timeout_s: float = Field(120.0, gt=0, validation_alias=AliasChoices("SIGHTLINE_GEMINI_TIMEOUT_S"))
    gemini_requests_per_minute: int = Field(60, ge=1, validation_alias=AliasChoices("SIGHTLINE_GEMINI_RPM"))
    gemini_concurrency: int = Field(8, ge=1, validation_alias=AliasChoices("SIGHTLINE_GEMINI_CONCURRENCY"))
    gemini_max_output_tokens: int = Field(
        8192, ge=256, validation_alias=AliasChoices("SIGHTLINE_GEMINI_MAX_OUTPUT_TOKENS")
    )
    default_model: str = Field(
        "gemini-3-flash-preview", validation_alias=AliasChoices("SIGHTLINE_DEFAULT_MODEL")
    )
    model_prices: dict[str, int] = Field(
        default_factory=lambda: {
            "gemini-3.5-flash-lite": 2,
            "gemini-3-flash-preview": 5,
            "gemini-3.6-flash": 15,
        },
        validation_alias=AliasChoices("SIGHTLINE_MODEL_PRICES"),
    )

    # Observations (DESIGN §5, §10).
    observe_retries: int = Field(4, ge=0, le=10, validation_alias=AliasChoices("SIGHTLINE_OBSERVE_RETRIES"))
    observe_backoff_min_s: float = Field(
        15.0, ge=0, validation_alias=AliasChoices("SIGHTLINE_OBSERVE_BACKOFF_MIN_S")
    )
    observe_backoff_max_s: float = Field(
        60.0, ge=0, validation_alias=AliasChoices("SIGHTLINE_OBSERVE_BACKOFF_MAX_S")
    )
    in_flight_per_scanner: int = Field(
        150, ge=1, validation_alias=AliasChoices("SIGHTLINE_IN_FLIGHT_PER_SCANNER")
    )
    in_flight_per_team: int = Field(300, ge=1, validation_alias=AliasChoices("SIGHTLINE_IN_FLIGHT_PER_TEAM"))

    # Scheduler (DESIGN §6, §10).
    scheduler_tick_s: float = Field(10.0, gt=0, validation_alias=AliasChoices("SIGHTLINE_SCHEDULER_TICK_S"))
    sweep_interval_s: int = Field(300, ge=1, validation_alias=AliasChoices("SIGHTLINE_SWEEP_INTERVAL_S"))
    # A recording is swept once nothing was ingested for it for this long (0 in the demo).
    settle_s: int = Field(2100, ge=0, validation_alias=AliasChoices("SIGHTLINE_SETTLE_S"))
    sweep_limit: int = Field(1000, ge=1, validation_alias=AliasChoices("SIGHTLINE_SWEEP_LIMIT"))
    leader_ttl_s: float = Field(30.0, gt=0, validation_alias=AliasChoices("SIGHTLINE_LEADER_TTL_S"))
    pending_resend_after_s: int = Field(
        600, ge=1, validation_alias=AliasChoices("SIGHTLINE_PENDING_RESEND_AFTER_S")
    )
    pending_max_sends: int = Field(3, ge=1, validation_alias=AliasChoices("SIGHTLINE_PENDING_MAX_SENDS"))
    # A claimed observation is leased for this long, renewed every third of it while the attempt runs;
    # once the lease lapses (the worker stopped) the row is taken over, at most this many times, and
    # the next lapse fails it `orphaned`.
    observation_lease_s: int = Field(
        90, ge=15, le=3600, validation_alias=AliasChoices("SIGHTLINE_OBSERVATION_LEASE_S")
    )
    observation_max_takeovers: int = Field(
        2, ge=0, le=20, validation_alias=AliasChoices("SIGHTLINE_OBSERVATION_MAX_TAKEOVERS")
    )
    stuck_run_after_s: int = Field(7200, ge=1, validation_alias=AliasChoices("SIGHTLINE_STUCK_RUN_AFTER_S"))
    estimate_max_age_s: int = Field(
        86_400, ge=1, validation_alias=AliasChoices("SIGHTLINE_ESTIMATE_MAX_AGE_S")
    )

    # Signals and reports (DESIGN §7).
    # auto: Gemini embeddings when GEMINI_API_KEY is set, else the offline hashing (integrations.embeddings).
    embeddings: Literal["auto", "hashing", "gemini", "wordllama"] = Field(
        "auto", validation_alias=AliasChoices("SIGHTLINE_EMBEDDINGS")
    )
    # Who decides the gray zone between the thresholds: Gemini when a key is set (auto), or nobody (join).
    grouping_judge: Literal["auto", "none"] = Field(
        "auto", validation_alias=AliasChoices("SIGHTLINE_GROUPING_JUDGE")
    )
    # {"model": [match, new]} overriding pipeline.grouping.THRESHOLDS.
    grouping_thresholds: dict[str, tuple[float, float]] = Field(
        default_factory=dict, validation_alias=AliasChoices("SIGHTLINE_GROUPING_THRESHOLDS")
    )
    signals_model: str = Field(
        "gemini-3.5-flash-lite", validation_alias=AliasChoices("SIGHTLINE_SIGNALS_MODEL")
    )
    stranded_report_after_s: int = Field(
        3_600, ge=1, validation_alias=AliasChoices("SIGHTLINE_STRANDED_REPORT_AFTER_S")
    )

    # Actions and delivery (DESIGN §8).
    site_url: str = Field("http://localhost:8000", validation_alias=AliasChoices("SIGHTLINE_SITE_URL"))
    slack_base_url: str = Field(
        "https://slack.com/api/", validation_alias=AliasChoices("SIGHTLINE_SLACK_BASE_URL")
    )
    # Webhook targets on private, loopback or link-local addresses are refused unless this is set.
    webhook_allow_private: bool = Field(
        False, validation_alias=AliasChoices("SIGHTLINE_WEBHOOK_ALLOW_PRIVATE")
    )
    delivery_timeout_s: float = Field(
        30.0, gt=0, validation_alias=AliasChoices("SIGHTLINE_DELIVERY_TIMEOUT_S")
    )
    # A delivery being posted is leased for this long, renewed every third of it while the post runs;
    # once it lapses (the worker stopped) the reaper or a redelivered message takes the post over,
    # after looking for it in the channel.
    delivery_lease_s: int = Field(
        60, ge=5, le=3600, validation_alias=AliasChoices("SIGHTLINE_DELIVERY_LEASE_S")
    )

    # The HTTP API (issue [3/9]).
    api_host: str = Field("127.0.0.1", validation_alias=AliasChoices("SIGHTLINE_API_HOST"))
    api_port: int = Field(8000, ge=1, le=65535, validation_alias=AliasChoices("SIGHTLINE_API_PORT"))
    # A `limits` expression per API key, e.g. "480/minute;4800/hour".
    api_rate_limit: str = Field(
        "480/minute;4800/hour", validation_alias=AliasChoices("SIGHTLINE_API_RATE_LIMIT")
    )

    # Recording intake (issue [5/9]).
    # Where recording blobs live: unset ⇒ the `blobs` folder in SIGHTLINE_HOME; `s3://bucket/prefix`
    # ⇒ S3-compatible object storage (credentials from the usual AWS_* variables or these).
    blob_url: str | None = Field(None, validation_alias=AliasChoices("SIGHTLINE_BLOB_URL"))
    s3_endpoint_url: str | None = Field(
        None, validation_alias=AliasChoices("SIGHTLINE_S3_ENDPOINT_URL", "AWS_ENDPOINT_URL")
    )
    s3_region: str | None = Field(
        None, validation_alias=AliasChoices("SIGHTLINE_S3_REGION", "AWS_DEFAULT_REGION")
    )
    s3_access_key_id: str | None = Field(
        None, validation_alias=AliasChoices("SIGHTLINE_S3_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID")
    )
    s3_secret_access_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SIGHTLINE_S3_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY")
    )
    # Live ingest: what one HTTP batch may weigh (compressed body, and decompressed), and how many
    # batches a minute one ingest token may send (a `limits` expression).
    ingest_max_body_bytes: int = Field(
        2 * 2**20, ge=2**10, validation_alias=AliasChoices("SIGHTLINE_INGEST_MAX_BODY_BYTES")
    )
    ingest_max_batch_bytes: int = Field(
        16 * 2**20, ge=2**10, validation_alias=AliasChoices("SIGHTLINE_INGEST_MAX_BATCH_BYTES")
    )
    ingest_max_event_bytes: int = Field(
        4 * 2**20, ge=2**10, validation_alias=AliasChoices("SIGHTLINE_INGEST_MAX_EVENT_BYTES")
    )
    ingest_rate_limit: str = Field(
        "1200/minute", validation_alias=AliasChoices("SIGHTLINE_INGEST_RATE_LIMIT")
    )
    # A live session's batches are merged into its recording at most this long after they arrive.
    ingest_merge_delay_s: float = Field(
        5.0, ge=0, validation_alias=AliasChoices("SIGHTLINE_INGEST_MERGE_DELAY_S")
    )
    # Recordings older than this many days (by end time) are deleted with what was derived from them.
    retention_days: int = Field(90, ge=1, validation_alias=AliasChoices("SIGHTLINE_RETENTION_DAYS"))
    # How often the scheduler polls each PostHog source, and how many requests a minute it sends one.
    posthog_poll_interval_s: int = Field(
        300, ge=1, validation_alias=AliasChoices("SIGHTLINE_POSTHOG_POLL_INTERVAL_S")
    )
    posthog_requests_per_minute: int = Field(60, ge=1, validation_alias=AliasChoices("SIGHTLINE_POSTHOG_RPM"))
    # Encrypts stored secrets (a PostHog API key); unset ⇒ a key file created in SIGHTLINE_HOME.
    secret_key: SecretStr | None = Field(None, validation_alias=AliasChoices("SIGHTLINE_SECRET_KEY"))

    @property
    def resolved_database_url(self) -> str:
        """`DATABASE_URL`, or the SQLite file in the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'sightline.db').resolve()}"

    @property
    def blob_dir(self) -> Path:
        return self.home / "blobs"


def child_environment(**overrides: str) -> dict[str, str]:
    """This process's environment with `overrides`, for child processes (`sightline up`)."""
    import os

    return {**os.environ, **overrides}


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read from the environment once."""
    return Settings()
