"""The lifecycle the local fake servers share: serve on 127.0.0.1, on a port of the system's choosing."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar, Self

HOST = "127.0.0.1"
POLL_INTERVAL_S = 0.02


class LocalServer:
    """A fake HTTP server on 127.0.0.1: `start()` (or `with`), read `url`, `stop()`.

    A subclass names its serving thread (`name`) and gives its request handler class (`handler()`).
    Requests are served on daemon threads; the serving loop looks for a shutdown every
    POLL_INTERVAL_S, so `stop()` is prompt (shutdown waits for the loop to look again), where the
    standard half second would add up over a test suite that starts a fake per test.
    """

    name: ClassVar[str]

    def __init__(self) -> None:
        self._server: ThreadingHTTPServer | None = None

    def handler(self) -> type[BaseHTTPRequestHandler]:
        """The request handler class, bound to this fake."""
        raise NotImplementedError

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake first"
        return f"http://{HOST}:{self._server.server_address[1]}"

    def start(self) -> Self:
        self._server = ThreadingHTTPServer((HOST, 0), self.handler())
        self._server.daemon_threads = True
        serve = threading.Thread(
            target=self._server.serve_forever, args=(POLL_INTERVAL_S,), name=self.name, daemon=True
        )
        serve.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
