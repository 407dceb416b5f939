"""A local fake of Slack for tests: `chat.postMessage` (bearer token) and incoming webhooks.

It speaks the shapes slack_sdk expects (`{"ok": true, "ts": …}`; a 429 with `Retry-After`), can be
scripted per test (`script(FakeSlackReply.rate_limited(1), …)`), and records every request.
Point `WebClient(base_url=fake.api_url)` at it (the trailing slash matters).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from integrations.fake_server import LocalServer


@dataclass(frozen=True)
class FakeSlackReply:
    status: int = 200
    body: Any = None  # dict → JSON, str → text
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def rate_limited(cls, retry_after_s: int = 1) -> FakeSlackReply:
        return cls(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after_s)})

    @classmethod
    def error(cls, code: str, status: int = 200) -> FakeSlackReply:
        return cls(status, {"ok": False, "error": code})


@dataclass
class SlackRequest:
    path: str
    headers: dict[str, str]
    body: Any
    at: float


@dataclass
class FakeSlack(LocalServer):
    name = "fake-slack"

    token: str = "xoxb-test"
    requests: list[SlackRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()
        self._script: deque[FakeSlackReply] = deque()
        self._lock = threading.Lock()
        self._ts = 0

    def script(self, *replies: FakeSlackReply) -> FakeSlack:
        with self._lock:
            self._script.extend(replies)
        return self

    def posts(self) -> list[SlackRequest]:
        return [r for r in self.requests if r.path.endswith("chat.postMessage")]

    @property
    def base(self) -> str:
        return self.url

    @property
    def api_url(self) -> str:
        return f"{self.base}/api/"

    def webhook_url(self, name: str = "T000/B000/XXXX") -> str:
        return f"{self.base}/services/{name}"

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _handler(self)

    def _next(self) -> FakeSlackReply | None:
        with self._lock:
            return self._script.popleft() if self._script else None

    def _reply(self, path: str, headers: dict[str, str]) -> FakeSlackReply:
        scripted = self._next()
        if scripted is not None:
            return scripted
        if path.startswith("/services/"):
            return FakeSlackReply(200, "ok")
        if headers.get("authorization") != f"Bearer {self.token}":
            return FakeSlackReply.error("invalid_auth")
        with self._lock:
            self._ts += 1
            ts = f"1700000000.{self._ts:06d}"
        return FakeSlackReply(200, {"ok": True, "ts": ts, "channel": "C"})


def _handler(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            size = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(size)
            try:
                body = json.loads(raw or b"{}")
            except json.JSONDecodeError:
                body = raw.decode(errors="replace")
            headers = {key.lower(): value for key, value in self.headers.items()}
            fake.requests.append(SlackRequest(self.path, headers, body, time.monotonic()))
            reply = fake._reply(self.path, headers)
            payload = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
            data = payload.encode()
            self.send_response(reply.status)
            content_type = "text/plain" if isinstance(reply.body, str) else "application/json"
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for key, value in reply.headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            """Quiet: tests read `requests`, not stderr."""

    return Handler
