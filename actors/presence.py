"""Workers announce themselves in Redis while they run, for `sightline status` ("workers seen alive"),
and report the messages they hold, for the scheduler's reaper.

Each worker process refreshes one key with a short expiry; a crashed worker's key simply expires.
Beside it, under the broker's id, it lists the Redis ids of every message it fetched and has not
acknowledged yet: prefetched (in a consumer's cache, the work queue or a delay queue), being
processed, or being acknowledged. An id in its ack set that it does not list was stranded there
(`pipeline.redelivery`). Finding the prefetched ones reads Dramatiq's worker internals, which have
no public API; `tests/integration/test_leases.py` covers them.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
from queue import Queue
from typing import Any

import redis
import structlog
from dramatiq import Middleware

from integrations.ack_sets import forget_holding, report_holding
from models.base import utcnow
from pipeline.names import WORKER_EXPIRE_S, WORKER_REFRESH_S, workers_prefix

log = structlog.get_logger(__name__)


class WorkerPresence(Middleware):
    def __init__(self, client: redis.Redis, namespace: str):
        self.client = client
        self.namespace = namespace
        self.key = f"{workers_prefix(namespace)}{socket.gethostname()}:{os.getpid()}"
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None
        # What this worker's threads are running now (message id → actor and start), for /ops.
        self.running: dict[str, dict] = {}
        # Redis ids of the messages taken by a worker thread and not yet acknowledged.
        self.taken: set[str] = set()
        self.lock = threading.Lock()
        self.worker: Any = None
        self.broker_id: str | None = None

    def after_worker_boot(self, broker, worker):
        info = {
            "who": f"{socket.gethostname()}:{os.getpid()}",
            "threads": worker.worker_threads,
            "queues": sorted(worker.consumer_whitelist or broker.get_declared_queues()),
            "started_at": utcnow().timestamp(),
        }
        self.worker, self.broker_id = worker, getattr(broker, "broker_id", None)
        self.stop.clear()
        self.thread = threading.Thread(target=self._beat, args=(info,), name="worker-presence", daemon=True)
        self.thread.start()

    def before_process_message(self, broker, message):
        with self.lock:
            self.running[message.message_id] = {"actor": message.actor_name, "since": utcnow().timestamp()}
            self.taken.add(_redis_id(message))

    def after_process_message(self, broker, message, *, result=None, exception=None):
        with self.lock:
            self.running.pop(message.message_id, None)

    after_skip_message = after_process_message

    def after_ack(self, broker, message):
        with self.lock:
            self.taken.discard(_redis_id(message))

    after_nack = after_ack

    def holding(self) -> set[str]:
        """The Redis ids of the messages this worker fetched and has not acknowledged."""
        with self.lock:
            held = set(self.taken)
        if self.worker is not None:
            held |= _prefetched(self.worker)
        held.discard("")
        return held

    def _beat(self, info: dict) -> None:
        while True:
            with self.lock:
                running = sorted(self.running.values(), key=lambda item: item["since"])
            try:
                self.client.set(self.key, json.dumps({**info, "running": running}), ex=WORKER_EXPIRE_S)
                self._report_holding()
            except redis.RedisError:
                log.warning("worker_presence_not_written")
            if self.stop.wait(WORKER_REFRESH_S):
                return

    def _report_holding(self) -> None:
        if not self.broker_id:
            return
        try:
            held = self.holding()
        except Exception:  # Dramatiq's internals changed: no report (the reaper judges by heartbeat)
            log.exception("worker_holding_not_reported")
            return
        report_holding(self.client, self.namespace, self.broker_id, held, WORKER_EXPIRE_S)

    def before_worker_shutdown(self, broker, worker):
        self.stop.set()
        if self.thread is not None:
            self.thread.join(timeout=2)
        with contextlib.suppress(redis.RedisError):
            self.client.delete(self.key)
            if self.broker_id:
                forget_holding(self.client, self.namespace, self.broker_id)


def _redis_id(message) -> str:
    return str(message.options.get("redis_message_id", ""))


def _prefetched(worker) -> set[str]:
    """Ids waiting in the worker's work queue, its consumers' delay queues and prefetch caches."""
    held = {_redis_id(item.message) for item in _items(worker.work_queue)}
    for consumer_thread in list(worker.consumers.values()):
        held |= {_redis_id(item.message) for item in _items(consumer_thread.delay_queue)}
        cache = list(getattr(consumer_thread.consumer, "message_cache", None) or [])
        held |= {_cached_id(data) for data in cache if data}
    return held


def _items(queue: Queue) -> list[Any]:
    with queue.mutex:
        return list(queue.queue)


def _cached_id(data: bytes) -> str:
    try:
        return str(json.loads(data)["options"]["redis_message_id"])
    except (ValueError, KeyError, TypeError):
        return ""
