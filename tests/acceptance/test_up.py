"""`sightline up`: scheduler and worker together observe imported sessions; Ctrl-C stops both."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

from tests.acceptance.test_worker_process import ROOT, sightline_env


def test_up_observes_backfilled_sessions_and_stops_cleanly(tmp_path):
    env = sightline_env(tmp_path / "home")
    env.update(SIGHTLINE_SETTLE_S="0", SIGHTLINE_SCHEDULER_TICK_S="0.5")
    cli = [sys.executable, "-m", "cli.main"]

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*cli, *args], env=env, cwd=ROOT, check=True, capture_output=True, text=True)

    run("init")
    run("scenarios", "write", str(tmp_path / "scenarios"), "--name", "checkout-js-error", "--name", "u-turn")
    run("import", str(tmp_path / "scenarios"))
    run("apply", "examples/heuristic-scanners.yaml")
    run("scanners", "backfill", "--all", "--since", "2000-01-01")
    up = subprocess.Popen([*cli, "up", "--threads", "2"], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        status = {}
        while time.monotonic() < deadline:
            status = json.loads(run("status", "--json").stdout)
            if status["observations"].get("succeeded") == 8:
                break
            time.sleep(0.5)
        assert status["observations"] == {"succeeded": 8}, status["observations"]
        assert status["scheduler"]["leader"] is not None
        assert len(status["workers"]) == 1 and status["workers"][0]["threads"] == 2
        up.send_signal(signal.SIGINT)
        output, _ = up.communicate(timeout=60)
    finally:
        if up.poll() is None:
            up.kill()
    assert up.returncode == 0, output
    assert "stopped at" in output
    after = json.loads(run("status", "--json").stdout)
    assert after["scheduler"]["leader"] is None  # the scheduler released its lock on the way out
    assert after["workers"] == []
