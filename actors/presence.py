"""Workers announce themselves in Redis while they run, for `sightline status` ("workers seen alive").

Each worker process refreshes one key with a short expiry; a crashed worker's key simply expires.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading

import redis
import structlog
from dramatiq import Middleware

from models.base import utcnow
from pipeline.names import WORKER_EXPIRE_S, WORKER_REFRESH_S, workers_prefix

log = structlog.get_logger(__name__)


class WorkerPresence(Middleware):
    def __init__(self, client: redis.Redis, namespace: str):
        self.client = client
        self.key = f"{workers_prefix(namespace)}{socket.gethostname()}:{os.getpid()}"
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None
        # What this worker's threads are running now (message id → actor and start), for /ops.
        self.running: dict[str, dict] = {}
        self.lock = threading.Lock()

    def after_worker_boot(self, broker, worker):
        info = {
            "who": f"{socket.gethostname()}:{os.getpid()}",
            "threads": worker.worker_threads,
            "queues": sorted(worker.consumer_whitelist or broker.get_declared_queues()),
            "started_at": utcnow().timestamp(),
        }
        self.stop.clear()
        self.thread = threading.Thread(target=self._beat, args=(info,), name="worker-presence", daemon=True)
        self.thread.start()

    def before_process_message(self, broker, message):
        with self.lock:
            self.running[message.message_id] = {"actor": message.actor_name, "since": utcnow().timestamp()}

    def after_process_message(self, broker, message, *, result=None, exception=None):
        with self.lock:
            self.running.pop(message.message_id, None)

    after_skip_message = after_process_message

    def _beat(self, info: dict) -> None:
        while True:
            with self.lock:
                running = sorted(self.running.values(), key=lambda item: item["since"])
            try:
                self.client.set(self.key, json.dumps({**info, "running": running}), ex=WORKER_EXPIRE_S)
            except redis.RedisError:
                log.warning("worker_presence_not_written")
            if self.stop.wait(WORKER_REFRESH_S):
                return

    def before_worker_shutdown(self, broker, worker):
        self.stop.set()
        if self.thread is not None:
            self.thread.join(timeout=2)
        with contextlib.suppress(redis.RedisError):
            self.client.delete(self.key)
