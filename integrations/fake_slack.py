"""A local fake of Slack for tests: `chat.postMessage`, `conversations.history`, `auth.test` and
incoming webhooks.

It speaks the shapes slack_sdk expects: a post answers `{"ok": true, "channel", "ts", "message"}` and
lands in its channel with its `metadata`; `conversations.history` answers the channel's messages
newest first, within `oldest`/`latest`, `limit` at a time with a `next_cursor`, their metadata only
with `include_all_metadata`; an error is `{"ok": false, "error"}`, a 429 carries `Retry-After`.
It can be scripted per test (`script(FakeSlackReply.rate_limited(1), …)`, optionally for one method),
including a reply that comes after a delay (`FakeSlackReply.slow(2)`): the post still lands, after
the delay, whether or not the client waited for it. It records every request; `join()` waits until
every request it took has been answered. Point `WebClient(base_url=fake.api_url)` at it (the
trailing slash matters).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from integrations.fake_server import LocalServer
from models.base import utcnow

POST, HISTORY, AUTH = "chat.postMessage", "conversations.history", "auth.test"
# What auth.test answers for the fake's token: the workspace and the bot user it belongs to.
AUTH_TEST = {
    "ok": True,
    "url": "https://acme.slack.com/",
    "team": "Acme",
    "team_id": "T0ACME",
    "user": "sightline",
    "user_id": "U0BOT",
    "bot_id": "B0BOT",
}
MAX_LIMIT = 999


@dataclass(frozen=True)
class FakeSlackReply:
    status: int = 200
    body: Any = None  # dict → JSON, str → text, None → the answer Slack would give
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # answer (and land a post) only after this long
    method: str | None = None  # scripted for this method only (`chat.postMessage`); None: the next request

    @classmethod
    def rate_limited(cls, retry_after_s: int = 1, method: str | None = None) -> FakeSlackReply:
        body = {"ok": False, "error": "ratelimited"}
        return cls(429, body, {"Retry-After": str(retry_after_s)}, method=method)

    @classmethod
    def error(cls, code: str, status: int = 200, method: str | None = None) -> FakeSlackReply:
        return cls(status, {"ok": False, "error": code}, method=method)

    @classmethod
    def slow(cls, delay_s: float, method: str | None = None) -> FakeSlackReply:
        """The usual answer, after `delay_s`: past the client's timeout, the post lands all the same."""
        return cls(delay_s=delay_s, method=method)


@dataclass
class SlackRequest:
    path: str
    headers: dict[str, str]
    body: Any  # the JSON body, or the form or query parameters
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
        self._idle = threading.Condition(self._lock)
        self._in_flight = 0
        self._last_ts = 0.0
        self.channels: dict[
            str, list[dict[str, Any]]
        ] = {}  # channel (or webhook path) → messages, oldest first

    def script(self, *replies: FakeSlackReply) -> FakeSlack:
        with self._lock:
            self._script.extend(replies)
        return self

    def posts(self) -> list[SlackRequest]:
        return [r for r in self.requests if r.path.endswith(POST)]

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """The messages that landed in `channel` (or at a webhook's path), oldest first."""
        with self._lock:
            return list(self.channels.get(channel, []))

    def join(self, timeout_s: float = 30.0) -> None:
        """Wait until every request taken so far was answered (a slow post has landed)."""
        with self._idle:
            if not self._idle.wait_for(lambda: self._in_flight == 0, timeout_s):
                raise TimeoutError(f"fake Slack still answering after {timeout_s} s")

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

    def _next(self, path: str) -> FakeSlackReply | None:
        with self._lock:
            for reply in self._script:
                if reply.method is None or path.endswith(reply.method):
                    self._script.remove(reply)
                    return reply
            return None

    def _reply(self, path: str, headers: dict[str, str]) -> FakeSlackReply:
        """The reply to a request, decided before its body is read: scripted, or what Slack would
        answer (a post's `{"ok": true, "ts"}`; body None when it depends on the request, as a
        history does). Subclasses inject faults here. A post answered ok lands in its channel."""
        scripted = self._next(path)
        if scripted is not None and scripted.body is not None:
            return scripted
        usual = self._usual(path, headers)
        return replace(usual, delay_s=scripted.delay_s) if scripted is not None else usual

    def _usual(self, path: str, headers: dict[str, str]) -> FakeSlackReply:
        if path.startswith("/services/"):
            return FakeSlackReply(200, "ok")
        if headers.get("authorization") != f"Bearer {self.token}":
            return FakeSlackReply.error("invalid_auth")
        if path.endswith(POST):
            return FakeSlackReply(200, {"ok": True, "ts": self._new_ts()})
        return FakeSlackReply()

    def _answer(self, path: str, body: dict[str, Any], reply: FakeSlackReply) -> FakeSlackReply:
        """The reply as sent, after its delay: a post answered ok lands (with its metadata), a history
        is read, `auth.test` names the workspace."""
        answer = reply.body
        if path.startswith("/services/") and answer == "ok":
            self._land(path, body, self._new_ts())
        if path.endswith(POST) and isinstance(answer, dict) and answer.get("ok") and answer.get("ts"):
            if not body.get("channel"):
                return FakeSlackReply.error("channel_not_found")
            message = self._land(str(body["channel"]), body, str(answer["ts"]))
            return replace(reply, body={**answer, "channel": body["channel"], "message": message})
        if answer is not None:
            return reply
        if path.endswith(HISTORY):
            return replace(reply, body=self._history(body))
        if path.endswith(AUTH):
            return replace(reply, body=AUTH_TEST)
        return FakeSlackReply.error("unknown_method", 404)

    def _new_ts(self) -> str:
        """A message ts: the wall clock in microseconds, as Slack's, and unique."""
        with self._lock:
            self._last_ts = max(utcnow().timestamp(), self._last_ts + 0.000_001)
            return f"{self._last_ts:.6f}"

    def _land(self, channel: str, body: dict[str, Any], ts: str) -> dict[str, Any]:
        with self._lock:
            message = {"type": "message", "subtype": "bot_message", "bot_id": "B0FAKE", "app_id": "A0FAKE"}
            message |= {"text": body.get("text", ""), "ts": ts}
            message |= {key: body[key] for key in ("blocks", "metadata") if body.get(key)}
            landed = self.channels.setdefault(channel, [])
            landed.append(message)
            landed.sort(key=lambda each: float(each["ts"]))  # a slow post lands after later ones
            return message

    def _history(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel") or "")
        if not channel or channel.startswith("#"):  # history takes a channel id, never a name
            return {"ok": False, "error": "channel_not_found"}
        inclusive = str(params.get("inclusive", "0")).lower() in ("1", "true")
        oldest, latest = (
            float(params.get("oldest") or 0),
            float(params.get("latest") or utcnow().timestamp() + 1),
        )
        within = [
            message
            for message in reversed(self.messages(channel))
            if (
                oldest <= float(message["ts"]) <= latest
                if inclusive
                else oldest < float(message["ts"]) < latest
            )
        ]
        start = int(str(params.get("cursor") or "offset:0").split(":")[1])
        limit = min(int(params.get("limit") or 100), MAX_LIMIT)
        page = within[start : start + limit]
        if str(params.get("include_all_metadata", "0")).lower() not in ("1", "true"):
            page = [{key: value for key, value in message.items() if key != "metadata"} for message in page]
        more = start + limit < len(within)
        cursor = f"offset:{start + limit}" if more else ""
        return {
            "ok": True,
            "messages": page,
            "has_more": more,
            "pin_count": 0,
            "response_metadata": {"next_cursor": cursor},
        }

    def _begin(self) -> None:
        with self._lock:
            self._in_flight += 1

    def _end(self) -> None:
        with self._idle:
            self._in_flight -= 1
            self._idle.notify_all()


def _handler(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def _serve(self) -> None:
            fake._begin()
            try:
                parts = urlsplit(self.path)
                headers = {key.lower(): value for key, value in self.headers.items()}
                body = {**dict(parse_qsl(parts.query)), **self._body(headers)}
                fake.requests.append(SlackRequest(parts.path, headers, body, time.monotonic()))
                reply = fake._reply(parts.path, headers)
                time.sleep(reply.delay_s)
                self._send(fake._answer(parts.path, body, reply))
            finally:
                fake._end()

        def _body(self, headers: dict[str, str]) -> dict[str, Any]:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
                return dict(parse_qsl(raw.decode()))
            try:
                parsed = json.loads(raw or b"{}")
            except json.JSONDecodeError:
                return {"raw": raw.decode(errors="replace")}
            return parsed if isinstance(parsed, dict) else {"raw": parsed}

        def _send(self, reply: FakeSlackReply) -> None:
            text = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
            data = text.encode()
            try:
                self.send_response(reply.status)
                content_type = "text/plain" if isinstance(reply.body, str) else "application/json"
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting: what a slow Slack is for

        def log_message(self, *args: object) -> None:
            """Quiet: tests read `requests`, not stderr."""

    return Handler
