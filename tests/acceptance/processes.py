"""What the acceptance tests share: the environment of a `sightline` process, reading its JSON log,
and waiting for a condition with a deadline instead of sleeping a fixed time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

ROOT = Path(__file__).resolve().parents[2]
# `python -m cli.main` run from ROOT; the installed console script runs from anywhere.
CLI = [sys.executable, "-m", "cli.main"]
SIGHTLINE = str(Path(sys.executable).parent / "sightline")
POLL_S = 0.05


def sightline_env(home: Path) -> dict[str, str]:
    """This environment without our database and Redis, with a data folder of its own, JSON logs, and
    this checkout first on the import path (so the processes run the code under test)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    path = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env.update(SIGHTLINE_HOME=str(home), SIGHTLINE_LOG_FORMAT="json", PYTHONUNBUFFERED="1", PYTHONPATH=path)
    env["SIGHTLINE_API_PORT"] = str(free_port())
    return env


def free_port() -> int:
    """A TCP port nothing listens on now (for a process of the test to bind)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition: Callable[[], object], timeout: float, what: str) -> None:
    """Poll `condition` until it holds; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {timeout:g} s")
        time.sleep(POLL_S)


def wait_for_events(process: subprocess.Popen, wanted: dict[str, int], timeout: float = 60) -> list[dict]:
    """Read JSON log lines from stderr until each wanted event was seen often enough."""
    seen: list[dict] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        try:
            seen.append(json.loads(line))
        except json.JSONDecodeError:
            continue
        counts = {name: sum(entry.get("event") == name for entry in seen) for name in wanted}
        if all(counts[name] >= number for name, number in wanted.items()):
            return seen
    pytest.fail(f"did not see {wanted} in the process's log; saw {[e.get('event') for e in seen]}")


def socket_alive(socket_file: str) -> bool:
    """Whether a Redis answers on `socket_file` (asked once: a dead socket is not retried)."""
    client = redis.Redis(
        unix_socket_path=socket_file, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0)
    )
    try:
        return bool(client.ping())
    except (redis.ConnectionError, OSError):
        return False
    finally:
        client.close()


def observation_counter(home: Path) -> Callable[[], Counter]:
    """Observations by status, read from the database `up` works on (no process started per look)."""
    from sqlmodel import select

    from integrations.storage import database
    from models import Observation
    from settings import Settings

    db = database(Settings(SIGHTLINE_HOME=home, DATABASE_URL=None))

    def counts() -> Counter:
        with db.sessions() as session:
            return Counter(str(status) for status in session.exec(select(Observation.status)))

    return counts
