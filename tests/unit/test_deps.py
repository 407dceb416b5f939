"""`Deps` builds each adapter once per process, however many threads ask at the same moment."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from services.context import Deps
from settings import Settings


def test_threads_asking_at_once_share_one_adapter():
    built: list[object] = []
    started = threading.Barrier(8)

    def slow_client() -> object:
        time.sleep(0.05)  # long enough for every thread to arrive while the first builds
        client = object()
        built.append(client)
        return client

    deps = Deps(Settings(), sessions=None, blobs=None, redis_factory=slow_client, sender_factory=None)  # type: ignore[arg-type]

    def ask(_: int) -> object:
        started.wait()
        return deps.redis()

    with ThreadPoolExecutor(8) as pool:
        clients = list(pool.map(ask, range(8)))
    assert len(built) == 1
    assert all(client is built[0] for client in clients)
