"""The Gemini limiter on a real (embedded) Redis: a per-minute window and a concurrency cap."""

from __future__ import annotations

import pytest

from integrations.embedded_redis import EmbeddedRedis
from integrations.ratelimit import GeminiLimiter
from pipeline.errors import ProviderTransient


@pytest.fixture
def redis_client(tmp_path):
    server = EmbeddedRedis(tmp_path)
    yield server.client()
    server.stop()


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
