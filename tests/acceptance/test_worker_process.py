"""`sightline worker` as a real process: it starts, serves, and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

ROOT = Path(__file__).resolve().parents[2]


def sightline_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(SIGHTLINE_HOME=str(home), SIGHTLINE_LOG_FORMAT="json", PYTHONUNBUFFERED="1")
    return env


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
    pytest.fail(f"did not see {wanted} in the worker's log; saw {[e.get('event') for e in seen]}")


def socket_alive(socket_file: str) -> bool:
    try:
        return bool(redis.Redis(unix_socket_path=socket_file, socket_connect_timeout=0.5).ping())
    except (redis.ConnectionError, OSError):
        return False


@pytest.mark.parametrize("processes", [1, 2])
def test_worker_starts_serves_and_stops_on_sigterm(tmp_path, processes):
    env = sightline_env(tmp_path / "home")
    subprocess.run(
        [sys.executable, "-m", "cli.main", "init"], env=env, cwd=ROOT, check=True, capture_output=True
    )
    command = [sys.executable, "-m", "cli.main", "worker", "--threads", "1", "--processes", str(processes)]
    worker = subprocess.Popen(
        command, env=env, cwd=ROOT, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
    )
    try:
        log = wait_for_events(worker, {"worker_started": processes})
        url = next(entry["redis"] for entry in log if entry.get("event") == "worker_started")
        socket_file = url.removeprefix("unix://")
        assert socket_alive(socket_file)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=60) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
    deadline = time.monotonic() + 10
    while socket_alive(socket_file) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not socket_alive(socket_file), "the embedded Redis outlived the worker"
