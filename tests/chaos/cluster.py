"""A Sightline deployment made of real processes: `sightline worker`s and `sightline scheduler`s on one
database and one real Redis, with fast settings, each process's JSON log kept in a file and read
as it comes. The test process holds a `Deps` of its own on the same database and blob folder, to
store recordings and create scanners through the use cases, as an importing user would.
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from pathlib import Path

import redis
from sqlalchemy import Engine

from integrations.blobstore import blob_store
from integrations.queues import Sender
from integrations.storage import database
from services.context import Deps
from settings import Settings
from tests.acceptance.processes import CLI, ROOT, sightline_env

STOP_TIMEOUT_S = 40
NAMESPACE = "chaos"

# Fast enough that a scenario's recovery is measured in seconds, not the production minutes.
FAST = {
    "SIGHTLINE_REDIS_NAMESPACE": NAMESPACE,
    "SIGHTLINE_SETTLE_S": "0",
    "SIGHTLINE_SCHEDULER_TICK_S": "0.5",
    "SIGHTLINE_SWEEP_INTERVAL_S": "2",
    "SIGHTLINE_LEADER_TTL_S": "3",
    "SIGHTLINE_PENDING_RESEND_AFTER_S": "5",
    "SIGHTLINE_OBSERVATION_LEASE_S": "15",
    "SIGHTLINE_DELIVERY_LEASE_S": "10",
    "SIGHTLINE_OBSERVE_BACKOFF_MIN_S": "0.2",
    "SIGHTLINE_OBSERVE_BACKOFF_MAX_S": "1",
    "SIGHTLINE_GEMINI_RPM": "100000",
    "SIGHTLINE_GEMINI_CONCURRENCY": "32",
    "SIGHTLINE_GROUPING_JUDGE": "none",
    "SIGHTLINE_LOG_LEVEL": "INFO",
}


class Process:
    """One `sightline` child process; its stderr (JSON log lines) goes to a file and to `events`."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_path: Path):
        self.name, self.log_path, self.events = name, log_path, []
        self.popen = subprocess.Popen(
            [*CLI, *args], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        self._reader = threading.Thread(target=self._read, name=f"log-{name}", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        with self.log_path.open("a") as out:
            for line in self.popen.stderr:
                out.write(line)
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    continue
                entry["_read_at"] = time.monotonic()
                self.events.append(entry)

    def times(self, event: str) -> list[float]:
        return [entry["_read_at"] for entry in list(self.events) if entry.get("event") == event]

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """`kill -9`: the process gets no chance to finish, release or acknowledge anything."""
        if self.alive():
            self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM (a clean stop), then SIGKILL if it does not end in time."""
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.kill()
        self._reader.join(timeout=5)


class Cluster:
    """The processes of one scenario, their shared environment, and the test's own `Deps`."""

    def __init__(self, folder: Path, database_url: str, redis_url: str, **env: str):
        self.folder, self.home = folder, folder / "home"
        self.logs = folder / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.database_url, self.redis_url = database_url, redis_url
        self.env = sightline_env(self.home)
        self.env.update(FAST, DATABASE_URL=database_url, REDIS_URL=redis_url, **env)
        self.processes: list[Process] = []
        # The processes' own settings: the same variables, read by the same class.
        ours = ("SIGHTLINE_", "DATABASE_URL", "REDIS_URL", "GEMINI_")
        self.settings = Settings(**{key: value for key, value in self.env.items() if key.startswith(ours)})
        self._deps: Deps | None = None

    def cli(self, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
        """Run one `sightline` command to its end."""
        return subprocess.run(
            [*CLI, *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=check,
            timeout=timeout,
        )

    def start(self, kind: str, *args: str) -> Process:
        """Start `sightline worker` or `sightline scheduler` (with `args`)."""
        name = f"{kind}-{sum(p.name.startswith(kind) for p in self.processes) + 1}"
        process = Process(name, [kind, *args], self.env, self.logs / f"{name}.log")
        self.processes.append(process)
        return process

    def worker(self, threads: int = 4) -> Process:
        return self.start("worker", "--threads", str(threads))

    def scheduler(self) -> Process:
        return self.start("scheduler")

    def alive(self, kind: str) -> list[Process]:
        return [p for p in self.processes if p.name.startswith(kind) and p.alive()]

    def stop(self) -> None:
        """Stop every process still running: all asked at once, then each waited for."""
        for process in self.processes:
            if process.alive():
                process.popen.send_signal(signal.SIGTERM)
        for process in self.processes:
            process.stop()

    @property
    def deps(self) -> Deps:
        """Use cases in the test process, on the processes' database and blob folder."""
        if self._deps is None:
            self._deps = Deps(
                settings=self.settings,
                sessions=database(self.settings).sessions,
                blobs=blob_store(self.settings),
                redis_factory=lambda: redis.Redis.from_url(self.redis_url),
                sender_factory=self._sender,
            )
        return self._deps

    def _sender(self) -> Sender:
        """A sender on the shared Redis that is not Dramatiq's global broker (this is no worker)."""
        from dramatiq.brokers.redis import RedisBroker

        return Sender(RedisBroker(url=self.redis_url, namespace=NAMESPACE))

    @property
    def engine(self) -> Engine:
        """The engine the audit's SQL runs on: the very database the processes use."""
        return database(self.settings).engine

    def log_tail(self, lines: int = 15) -> str:
        """The last log lines of every process, for a failure message."""
        parts = []
        for process in self.processes:
            text = (
                process.log_path.read_text(errors="replace").splitlines() if process.log_path.exists() else []
            )
            parts.append(f"--- {process.name} (exit {process.popen.poll()}):\n" + "\n".join(text[-lines:]))
        return "\n".join(parts)
