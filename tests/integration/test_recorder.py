"""The recorder snippet in Debian's Chromium: a page served by the test loads /static/recorder.js from
Sightline (another origin), a person clicks and types, and the session arrives through live ingest,
replays on its page, and is observed."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlmodel import select

from api.app import create_app
from models import IngestBatch, Recording
from services.auth import create_user
from services.ingest import create_token, set_origins
from services.recordings import timeline
from tests.support.browser import (
    browser_page,
    chromium_or_skip,
    screenshot_dir,
    served,
    sign_in_to,
    wait_until,
)

pytestmark = [pytest.mark.db, pytest.mark.browser]
PASSWORD = "correct horse battery"
SHOP = """<!doctype html>
<html><head><title>Tiny shop</title>
<script src="{base}/static/recorder.js" data-token="{token}" data-project="{team}" data-flush-ms="300"></script>
</head><body>
<h1>Tiny shop</h1>
<label for="email">Email</label> <input id="email" name="email" type="email">
<button id="add" onclick="document.getElementById('cart').textContent = 'Cart: 1 item'">Add to cart</button>
<button id="broken" onclick="console.error('checkout failed: 502')">Check out</button>
<p id="cart">Cart: empty</p>
</body></html>
"""


class Shop:
    """The customer's site: one page on its own origin, with the recorder snippet installed."""

    def __init__(self, html: str):
        page = html.encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


def test_the_snippet_records_clicks_and_typing_that_replay_and_are_observed(world, tmp_path):
    chromium = chromium_or_skip()
    token = create_token(world.deps, world.team_id, "tiny shop").secret
    create_user(world.deps, "ada@example.com", password=PASSWORD)
    with served(create_app(world.deps)) as base, browser_page(chromium) as page:
        shop = Shop(SHOP.format(base=base, token=token, team=world.team_id))
        set_origins(world.deps, world.team_id, add=[shop.url])
        try:
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(shop.url)
            wait_until(page, "window.__sightlineRecorder !== undefined")
            session_id = page.evaluate("window.__sightlineRecorder.session")
            page.wait_for_timeout(400)
            page.click("#email")
            # Long and busy enough to be eligible for a scanner (15 s, 10 s of them active).
            for chunk in ("ada@", "exam", "ple.", "com"):
                page.keyboard.type(chunk, delay=30)
                page.wait_for_timeout(900)
            for _ in range(8):
                page.mouse.move(100, 300)
                page.mouse.move(400, 200, steps=5)
                page.wait_for_timeout(1200)
            page.click("#add")
            page.wait_for_timeout(200)
            page.click("#broken")
            page.wait_for_timeout(1200)
            page.evaluate("window.__sightlineRecorder.flush()")
            wait_until(page, "window.__sightlineRecorder.pending() === 0")
            page.goto("about:blank")  # the page goes away: what is left leaves by beacon
        finally:
            shop.close()
        recording = wait_for_recording(world, session_id)
        assert recording.click_count >= 3 and recording.keypress_count >= 5
        assert recording.console_error_count >= 1
        assert recording.skipped_events == 0, recording.intake
        assert len(batches(world, session_id)) >= 2
        text = timeline(world.deps, world.team_id, session_id).text
        assert "Add to cart" in text and "Check out" in text and "checkout failed: 502" in text
        assert "ada@example.com" not in text  # typed into an input: never shown
        sign_in_to(page, base, f"/sessions/{session_id}", "ada@example.com", PASSWORD)
        wait_until(page, "window.sightlineReplay !== undefined")
        assert page.locator(".rr-player").count() == 1
        page.screenshot(path=str(screenshot_dir(tmp_path) / "recorded-session.png"), full_page=True)
        assert errors == []
    scanner = world.scanner(scanner_type="monitor", provider="heuristic",
                            scanner_config={"prompt": "Did an error follow a click?", "rule": "error_click"})  # fmt: skip
    [observation] = world.observe(scanner, session_id)
    assert str(observation.status) == "succeeded", observation.error_reason


def wait_for_recording(world, session_id: str, timeout_s: float = 30) -> Recording:
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with world.deps.read() as session:
            found = session.exec(select(Recording).where(Recording.session_id == session_id)).first()
        if found is not None and found.click_count >= 3:
            return found
        time.sleep(0.1)
    raise AssertionError(f"no recording of {session_id} with its clicks arrived")


def batches(world, session_id: str) -> list[IngestBatch]:
    with world.deps.read() as session:
        return list(session.exec(select(IngestBatch).where(IngestBatch.session_id == session_id)))
