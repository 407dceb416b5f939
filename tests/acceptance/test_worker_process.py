"""`sightline worker` as a real process: it starts, serves, and stops cleanly on SIGTERM."""

from __future__ import annotations

import signal
import subprocess

import pytest

from tests.acceptance.processes import CLI, ROOT, sightline_env, socket_alive, wait_for_events, wait_until

pytestmark = pytest.mark.acceptance


@pytest.mark.parametrize("processes", [1, 2])
def test_worker_starts_serves_and_stops_on_sigterm(tmp_path, processes):
    env = sightline_env(tmp_path / "home")
    subprocess.run([*CLI, "init"], env=env, cwd=ROOT, check=True, capture_output=True)
    command = [*CLI, "worker", "--threads", "1", "--processes", str(processes)]
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
    wait_until(lambda: not socket_alive(socket_file), 10, "the embedded Redis stopping with the worker")
