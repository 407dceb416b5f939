"""The Gemini limiter on a real (embedded) Redis: a per-minute window and a concurrency cap."""

from __future__ import annotations

import threading
import time
from contextlib import ExitStack

import pytest

from integrations.embedded_redis import EmbeddedRedis
from integrations.ratelimit import GeminiLimiter
from pipeline.errors import ProviderTransient
from pipeline.names import gemini_rpm_key


@pytest.fixture
def redis_server(tmp_path):
    server = EmbeddedRedis(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def redis_client(redis_server):
    return redis_server.client()


def test_requests_past_the_minute_limit_wait_then_give_up(redis_client):
    limiter = GeminiLimiter(redis_client, namespace="t1", per_minute=3, concurrency=10, max_wait_s=0.5)
    for _ in range(3):
        with limiter.slot():
            pass
    with pytest.raises(ProviderTransient, match="rate limit"), limiter.slot():
        pass


def test_a_second_limiter_on_the_same_redis_shares_the_count(redis_client):
    first = GeminiLimiter(redis_client, namespace="t2", per_minute=2, concurrency=10, max_wait_s=0.3)
    second = GeminiLimiter(redis_client, namespace="t2", per_minute=2, concurrency=10, max_wait_s=0.3)
    with first.slot(), second.slot():
        pass
    with pytest.raises(ProviderTransient), second.slot():
        pass


def test_concurrency_is_capped_while_a_slot_is_held(redis_client):
    limiter = GeminiLimiter(redis_client, namespace="t3", per_minute=100, concurrency=1, max_wait_s=0.3)
    with limiter.slot(), pytest.raises(ProviderTransient), limiter.slot():
        pass
    with limiter.slot():  # released: free again
        pass


def test_no_window_holds_more_than_the_limit_across_clients_and_threads(redis_server):
    """Two clients (as two processes would), four threads each, a 0.5 s window of 3 requests.

    Each request "reaches the provider" at a moment inside its slot, read on Redis's clock, some
    late (as over a cold connection): still no 0.5 s span holds more than 3 of them.
    """
    limit, window_us = 3, 500_000
    limiters = [
        GeminiLimiter(
            redis_server.client(),
            namespace="t4",
            per_minute=limit,
            concurrency=100,
            window_s=0.5,
            max_wait_s=30,
        )
        for _ in range(2)
    ]
    reader = redis_server.client()
    arrived: list[int] = []

    def call(limiter: GeminiLimiter, serial: int) -> None:
        for index in range(3):
            with limiter.slot():
                time.sleep(0.05 * ((serial + index) % 3))
                seconds, micros = reader.time()
                arrived.append(seconds * 1_000_000 + micros)

    threads = [
        threading.Thread(target=call, args=(limiter, serial)) for limiter in limiters for serial in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(arrived) == 24
    busiest = max(sum(1 for other in arrived if start <= other < start + window_us) for start in arrived)
    assert busiest == limit


def test_a_full_window_admits_again_once_its_oldest_request_leaves(redis_client):
    limiter = GeminiLimiter(
        redis_client, namespace="t5", per_minute=2, concurrency=10, window_s=0.3, max_wait_s=10
    )
    for _ in range(5):
        with limiter.slot():
            pass
    assert redis_client.zcard(gemini_rpm_key("t5")) <= 2


def test_waiters_for_a_concurrent_call_go_on_as_holders_release(redis_client):
    limiter = GeminiLimiter(redis_client, namespace="t6", per_minute=1000, concurrency=2, max_wait_s=30)
    holding, most, lock = 0, 0, threading.Lock()
    both_held, release = threading.Event(), threading.Event()

    def call() -> None:
        nonlocal holding, most
        with limiter.slot():
            with lock:
                holding += 1
                most = max(most, holding)
                if holding == 2:
                    both_held.set()
            release.wait(5)
            with lock:
                holding -= 1

    threads = [threading.Thread(target=call) for _ in range(6)]
    for thread in threads:
        thread.start()
    assert both_held.wait(10)
    release.set()  # from here each release lets a waiter in
    for thread in threads:
        thread.join()
    assert most == 2
    assert holding == 0


def test_a_hold_never_released_lapses_after_the_call_ttl(redis_server):
    """A process that died mid-call never releases its slot; the slot frees itself after `call_ttl_s`."""
    dead = GeminiLimiter(redis_server.client(), namespace="t7", per_minute=100, concurrency=1, call_ttl_s=0.3)
    alive = GeminiLimiter(
        redis_server.client(), namespace="t7", per_minute=100, concurrency=1, call_ttl_s=0.3, max_wait_s=10
    )
    stack = ExitStack()
    stack.enter_context(dead.slot())  # never closed
    with alive.slot():
        pass


def test_the_script_is_loaded_again_after_a_script_flush(redis_client):
    limiter = GeminiLimiter(redis_client, namespace="t8", per_minute=100, concurrency=1)
    with limiter.slot():
        pass
    redis_client.script_flush()
    with limiter.slot():
        pass
    assert redis_client.zcard(gemini_rpm_key("t8")) == 2
