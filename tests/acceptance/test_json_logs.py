"""A demo-like run of `sightline up` from the project's folder, with JSON logs: scheduler, worker and
API observe, answer and report themselves healthy, Ctrl-C stops them all and they leave no trace in
`status`; every line they write is JSON, and no log line of any process holds a secret (the Gemini key, a Slack webhook's secret path, the
PostHog key, an ingest token, an API key) or a recording's content (a console error, what was
typed), although all of them went through these processes: Gemini observed and digested, PostHog was
polled, a batch was ingested, the API was read and a digest was posted to the Slack webhook."""

from __future__ import annotations

import json
import secrets
import signal
import subprocess
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import httpx
import pytest

from integrations.fake_gemini import FakeGemini, FakeReply, RecordedRequest
from integrations.fake_posthog import FakePostHog
from integrations.fake_server import LocalServer
from scenarios.stories import _PAY_ERROR, JANE_CARD, JANE_EMAIL
from tests.acceptance.processes import CLI, ROOT, observation_counter, sightline_env, wait_until

pytestmark = pytest.mark.acceptance
GEMINI_KEY = "AIzaSy" + secrets.token_urlsafe(24)
HOOK_SECRET = "hook" + secrets.token_hex(12)
RECORDING_TEXT = (_PAY_ERROR, "reading 'token'", JANE_EMAIL, JANE_CARD)
SCANNERS = """
scanners:
  - name: Pay failed
    scanner_type: monitor
    scanner_config: {prompt: "Did the visitor fail to pay?"}
    query: {url_contains: [/checkout]}
  - name: Rage clicks
    scanner_type: monitor
    provider: heuristic
    scanner_config: {prompt: "Rage?", rule: rage_click}
"""


def gemini_answer(request: RecordedRequest) -> FakeReply:
    """The model echoes what it read (recording text, a link) into what it writes."""
    if "You write a digest" in request.text():
        return FakeReply.json({"markdown": f"## Pay\n- {_PAY_ERROR} see https://evil.example/login [obs 0]"})
    return FakeReply.json(
        {"reasoning": f"Pay threw {_PAY_ERROR} (t 5).", "verdict": "yes", "confidence": 0.9}
    )


class SlackWebhook(LocalServer):
    """An incoming webhook that takes every message (its path carries the secret, as Slack's do)."""

    name = "fake-slack-webhook"

    def __init__(self) -> None:
        super().__init__()
        self.paths: list[str] = []

    def handler(self) -> type[BaseHTTPRequestHandler]:
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                hook.paths.append(self.path)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        return Handler


class Output:
    """Every line a stream carries, read as it comes."""

    def __init__(self, stream) -> None:
        self.lines: list[str] = []
        self.thread = threading.Thread(
            target=lambda: self.lines.extend(iter(stream.readline, "")), daemon=True
        )
        self.thread.start()


def test_a_demo_run_logs_only_json_and_no_secret_and_no_recording_text(tmp_path):
    with FakeGemini(default=gemini_answer) as gemini, FakePostHog() as posthog, SlackWebhook() as slack:
        run_demo(tmp_path, gemini, posthog, slack)


def run_demo(tmp_path: Path, gemini: FakeGemini, posthog: FakePostHog, slack: SlackWebhook) -> None:
    home = tmp_path / "home"
    env = sightline_env(home)
    env.update(
        GEMINI_API_KEY=GEMINI_KEY,
        GEMINI_BASE_URL=gemini.url,
        SIGHTLINE_SETTLE_S="0",
        SIGHTLINE_SCHEDULER_TICK_S="0.5",
        SIGHTLINE_WEBHOOK_ALLOW_PRIVATE="1",
        SIGHTLINE_LOG_LEVEL="DEBUG",  # the most a process says: the HTTP clients' request lines too
    )
    logs: list[str] = []  # every CLI command's stderr: its log lines, and its messages to people

    def run(*args: str) -> str:
        done = subprocess.run([*CLI, *args], env=env, cwd=ROOT, check=True, capture_output=True, text=True)
        logs.append(done.stderr)
        return done.stdout

    hook = f"{slack.url}/services/T0LOGS/B0LOGS/{HOOK_SECRET}"
    ingest_token, api_key = prepare(run, tmp_path, posthog, hook)
    up = subprocess.Popen(
        [*CLI, "up", "--threads", "2"],
        env=env,
        cwd=ROOT,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = Output(up.stdout), Output(up.stderr)
    try:
        observations = observation_counter(home)
        wait_until(lambda: observations() == {"succeeded": 3} or up.poll() is not None, 60, "3 observations")
        api = f"http://127.0.0.1:{env['SIGHTLINE_API_PORT']}"
        wait_until(lambda: answers(f"{api}/healthz"), 30, "the API answering")
        assert_ingests(api, ingest_token)
        listed = httpx.get(f"{api}/api/environments/1/vision/scanners/", headers=bearer(api_key), timeout=10)
        assert listed.status_code == 200
        run("actions", "run-now", "Pay digest", "--wait", "--timeout", "60")
        assert slack.paths == [f"/services/T0LOGS/B0LOGS/{HOOK_SECRET}"]
        wait_until(lambda: posthog.paths("list"), 30, "the scheduler polling PostHog")
        status = json.loads(run("status", "--json"))
        assert status["scheduler"]["leader"] is not None
        assert len(status["workers"]) == 1 and status["workers"][0]["threads"] == 2
        assert "healthy: a leader and 1 live worker(s)" in run("status", "--check")
        assert gemini.generate_requests() and all(
            r.headers.get("x-goog-api-key") == GEMINI_KEY for r in gemini.generate_requests()
        )
        up.send_signal(signal.SIGINT)
        up.wait(timeout=60)
    finally:
        if up.poll() is None:
            up.kill()
    out.thread.join(timeout=10)
    err.thread.join(timeout=10)
    assert up.returncode == 0
    daemons = out.lines + err.lines
    entries = [json.loads(line) for line in daemons]  # every line `up` and its children wrote is JSON
    assert {"up_started", "scheduler_started", "worker_started", "api_serving", "up_stopped"} <= {
        entry["event"] for entry in entries
    }
    after = json.loads(run("status", "--json"))
    assert after["scheduler"]["leader"] is None  # the scheduler released its lock on the way out
    assert after["workers"] == []
    text = "".join(daemons) + "".join(logs)
    for secret in (GEMINI_KEY, HOOK_SECRET, posthog.api_key, ingest_token, api_key, *RECORDING_TEXT):
        assert secret not in text, f"{secret!r} is in the logs"


def prepare(run, tmp_path: Path, posthog: FakePostHog, hook: str) -> tuple[str, str]:
    """Sessions, a Gemini and a heuristic scanner backfilled, a digest to the webhook, a PostHog source;
    the ingest token and the API key created."""
    run("init")
    run("scenarios", "write", str(tmp_path / "scenarios"), "--name", "checkout-js-error", "--name", "u-turn")
    run("import", str(tmp_path / "scenarios"))
    (tmp_path / "scanners.yaml").write_text(SCANNERS)
    run("apply", str(tmp_path / "scanners.yaml"))
    run("scanners", "backfill", "--all", "--since", "2000-01-01")
    target = json.dumps({"type": "slack_webhook", "url": hook})
    run("actions", "create", "--name", "Pay digest", "--scanner", "Pay failed", "--target", target)
    run("sources", "add-posthog", "--host", posthog.url, "--project-id", "1", "--api-key", posthog.api_key)
    ingest_token = run("tokens", "create").splitlines()[-1]
    api_key = run("keys", "create", "--label", "logs", "--scope", "replay_scanner:read").split()[-1]
    return ingest_token, api_key


def assert_ingests(api: str, token: str) -> None:
    batch = {
        "session_id": "live-logs",
        "batch_id": "b0",
        "window_id": "w1",
        "events": [
            {
                "type": 4,
                "timestamp": 1_767_607_200_000,
                "data": {"href": "https://shop.example/", "width": 800, "height": 600},
            },
        ],
    }
    response = httpx.post(f"{api}/api/environments/1/recordings/ingest", json=batch, headers=bearer(token))
    assert response.status_code == 200, response.text


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code < 500
    except httpx.TransportError:
        return False
