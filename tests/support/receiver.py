"""A webhook receiver on 127.0.0.1 for tests: answers each POST with `status` (and a `Location`), the
first `slow_first` of them only after `delay_s`, and keeps every request it took."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from integrations.fake_server import LocalServer


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver(LocalServer):
    name = "webhook-receiver"

    def __init__(
        self, status: int = 204, location: str | None = None, *, delay_s: float = 0, slow_first: int = 0
    ):
        super().__init__()
        self.status, self.location = status, location
        self.delay_s, self.slow_first = delay_s, slow_first
        self.received: list[Received] = []

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append(Received(self.path, dict(self.headers), body))
                if len(receiver.received) <= receiver.slow_first:
                    time.sleep(receiver.delay_s)  # taken, but answered after the client gave up
                try:
                    self.send_response(receiver.status)
                    if receiver.location:
                        self.send_header("Location", receiver.location)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args: object) -> None:
                pass

        return Handler
