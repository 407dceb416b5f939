"""`/healthz`, `/readyz` (503 when Redis does not answer) and `/metrics` (operators only)."""

from __future__ import annotations

import dataclasses

import pytest
import redis
from fastapi.testclient import TestClient

from api.app import create_app
from services.auth import create_key, create_user

pytestmark = pytest.mark.db


def test_liveness_needs_nothing_and_readiness_checks_the_database_and_redis(world):
    client = TestClient(create_app(world.deps))
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ok", "database": "ok", "redis": "ok"}
    nowhere = redis.Redis(host="127.0.0.1", port=9, socket_connect_timeout=0.5)
    cut_off = dataclasses.replace(world.deps, redis_factory=lambda: nowhere, _built={})
    down = TestClient(create_app(cut_off)).get("/readyz")
    assert down.status_code == 503
    assert down.json()["database"] == "ok" and down.json()["redis"].startswith("unreachable")


def test_metrics_are_for_operators_and_count_what_the_pipeline_did(world):
    scanner = world.scanner(
        scanner_type="monitor", provider="heuristic", scanner_config={"prompt": "Rage?", "rule": "rage_click"}
    )
    world.observe(scanner, "scenario-checkout-js-error", "scenario-smooth-signup")
    client = TestClient(create_app(world.deps))
    assert client.get("/metrics").status_code == 401
    create_user(world.deps, "member@example.com")
    member = create_key(world.deps, "m", ["*"], email="member@example.com").secret
    assert client.get("/metrics", headers={"Authorization": f"Bearer {member}"}).status_code == 404
    create_user(world.deps, "ops@example.com", operator=True)
    operator = create_key(world.deps, "o", ["*"], email="ops@example.com").secret
    scraped = client.get("/metrics", headers={"Authorization": f"Bearer {operator}"})
    assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
    text = scraped.text
    assert 'sightline_observations{status="succeeded"} 2.0' in text
    assert 'sightline_queue_messages{queue="observe",state="ready"} 0.0' in text
    assert 'sightline_jobs_total{actor="observe_batch",status="succeeded"} 1.0' in text  # 2, one message
    assert "sightline_workers_alive" in text and "sightline_scheduler_leader 0.0" in text
