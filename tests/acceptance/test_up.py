"""`sightline up`: scheduler, worker and API together observe imported sessions; Ctrl-C stops them all.

Run from a Django project's folder, whose own `settings.py` must not stand in for Sightline's in the
scheduler and worker `up` starts. The run from the project's own folder (`python -m cli.main`) is
`test_json_logs`, which checks the same and what the processes log.
"""

from __future__ import annotations

import json
import signal
import subprocess

import httpx
import pytest

from tests.acceptance.processes import ROOT, SIGHTLINE, observation_counter, sightline_env, wait_until

pytestmark = pytest.mark.acceptance
DJANGO_SETTINGS = 'SECRET_KEY = "not-sightline"\nINSTALLED_APPS = ["django.contrib.admin"]\n'


def api_get(env: dict[str, str], path: str, key: str) -> dict:
    """A GET to the API `up` serves, retried until it listens (it starts beside the others)."""
    url = f"http://127.0.0.1:{env['SIGHTLINE_API_PORT']}{path}"
    answer: list[dict] = []

    def answered() -> bool:
        try:
            response = httpx.get(url, headers={"Authorization": f"Bearer {key}"}, timeout=5)
        except httpx.TransportError:
            return False
        answer.append(response.json())
        return True

    wait_until(answered, 30, f"the API to answer {path}")
    return answer[0]


def test_up_observes_backfilled_sessions_and_stops_cleanly(tmp_path):
    home = tmp_path / "home"
    env = sightline_env(home)
    env.update(SIGHTLINE_SETTLE_S="0", SIGHTLINE_SCHEDULER_TICK_S="0.5")
    cli, cwd = [SIGHTLINE], tmp_path / "django"
    cwd.mkdir()
    (cwd / "settings.py").write_text(DJANGO_SETTINGS)

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*cli, *args], env=env, cwd=cwd, check=True, capture_output=True, text=True)

    run("init")
    run("scenarios", "write", str(tmp_path / "scenarios"), "--name", "checkout-js-error", "--name", "u-turn")
    run("import", str(tmp_path / "scenarios"))
    run("apply", str(ROOT / "examples" / "heuristic-scanners.yaml"))
    run("scanners", "backfill", "--all", "--since", "2000-01-01")
    up = subprocess.Popen(
        [*cli, "up", "--threads", "2"],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        observations = observation_counter(home)
        wait_until(
            lambda: observations().get("succeeded") == 8 or up.poll() is not None,
            90,
            "8 succeeded observations",
        )
        assert up.poll() is None, f"up stopped early:\n{up.communicate()[0]}"
        key = run("keys", "create", "--label", "acceptance", "--scope", "replay_scanner:read").stdout.split()[
            -1
        ]
        listed = api_get(env, "/api/environments/1/vision/scanners/", key)
        assert listed["count"] == 4, listed
        status = json.loads(run("status", "--json").stdout)
        assert status["observations"] == {"succeeded": 8}, status["observations"]
        assert status["scheduler"]["leader"] is not None
        assert len(status["workers"]) == 1 and status["workers"][0]["threads"] == 2
        assert "healthy: a leader and 1 live worker(s)" in run("status", "--check").stdout
        up.send_signal(signal.SIGINT)
        output, _ = up.communicate(timeout=60)
    finally:
        if up.poll() is None:
            up.kill()
    assert up.returncode == 0, output
    assert '"event": "up_stopped"' in output
    after = json.loads(run("status", "--json").stdout)
    assert after["scheduler"]["leader"] is None  # the scheduler released its lock on the way out
    assert after["workers"] == []
    probe = subprocess.run([*cli, "status", "--check"], env=env, cwd=cwd, capture_output=True, text=True)
    assert probe.returncode == 1
    assert "no scheduler is leading" in probe.stdout and "no worker is alive" in probe.stdout
