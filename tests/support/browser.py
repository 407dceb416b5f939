"""Pages in a real browser: the app served by uvicorn in a thread on the world's deps, and Debian's
Chromium driven headless by Playwright (never a downloaded browser).

Screenshots go to `$SIGHTLINE_SCREENSHOTS` when set (`.ci/run` sets and prints it), else to the
test's temporary folder.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("SIGHTLINE_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_or_skip() -> str:
    if not Path(CHROMIUM).is_file() and shutil.which("chromium") is None:
        pytest.skip(f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    return CHROMIUM if Path(CHROMIUM).is_file() else str(shutil.which("chromium"))


@contextmanager
def served(app) -> Iterator[str]:
    """The app on 127.0.0.1 at a free port, in a thread of this process; its base URL."""
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", log_config=None)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def browser_page(executable: str) -> Iterator:
    """A fresh headless Chromium page (its own profile: nothing carries over between tests)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=FLAGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            yield context.new_page()
        finally:
            browser.close()


def screenshot_dir(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("SIGHTLINE_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def wait_until(page, expression: str, timeout_s: float = 20) -> None:
    """Poll `expression` with `page.evaluate` until it is truthy. (Playwright's `wait_for_function`
    evaluates a string inside the page, which our Content-Security-Policy rightly refuses.)"""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout_s} s: {expression}")
        page.wait_for_timeout(50)


def form_token(html: str) -> str:
    """The CSRF token a page's form carries."""
    return html.split('name="csrf_token" value="')[1].split('"')[0]


def sign_in(client, email: str, password: str) -> None:
    """Sign `client` (an httpx or a TestClient, not following redirects) in through the form: its
    CSRF cookie and token, then the session cookie it keeps."""
    token = form_token(client.get("/signin").text)
    done = client.post(
        "/signin", data={"email": email, "password": password, "csrf_token": token, "next": "/"}
    )
    assert done.status_code == 303, done.text


def sign_in_to(page, base: str, path: str, email: str, password: str) -> None:
    """Open `path` signed out, which lands on the sign-in form; fill it in and arrive at `path`."""
    page.goto(base + path)
    assert "/signin" in page.url
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(base + path)
