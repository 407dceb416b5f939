"""The operators' pages in Debian's Chromium: a failed observation (the fake Gemini answers 400)
shows in the job history and the failed list; Retry re-runs it to succeeded once the fake is fixed;
the queue chart has points. Anyone but an operator gets 404, and a retry without its token 403."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlmodel import select

from api.app import create_app
from integrations.fake_gemini import FakeReply
from models import Observation
from services import ops
from services.auth import create_user
from tests.support.browser import (
    browser_page,
    chromium_or_skip,
    form_token,
    screenshot_dir,
    served,
    sign_in,
    sign_in_to,
)

pytestmark = [pytest.mark.db, pytest.mark.browser]
PASSWORD = "correct horse battery"
CHECKOUT = "scenario-checkout-js-error"
YES = FakeReply.json({"reasoning": "Pay threw (t 25).", "verdict": "yes", "confidence": 0.8})


@pytest.fixture
def failed(world):
    world.fake.default = lambda request: FakeReply.error(400, "scripted: bad request")
    scanner = world.scanner(scanner_type="monitor", scanner_config={"prompt": "Did payment fail?"})
    [row] = world.observe(scanner, CHECKOUT)
    assert str(row.status) == "failed"
    create_user(world.deps, "ops@example.com", password=PASSWORD, operator=True)
    create_user(world.deps, "member@example.com", password=PASSWORD)
    start = world.deps.now()
    for minute in range(3):  # three scheduler ticks a minute apart
        assert ops.sample_queues(world.deps, now=start + timedelta(minutes=minute), every_s=0)
    return row


def test_a_failed_observation_is_listed_retried_and_succeeds(world, failed, tmp_path):
    chromium = chromium_or_skip()
    with served(create_app(world.deps)) as base, browser_page(chromium) as page:
        sign_in_to(page, base, "/ops", "ops@example.com", PASSWORD)
        assert page.locator("table.failed tbody tr").count() == 1
        assert "provider_rejected" in page.inner_text("table.failed")
        points = page.locator("svg.chart polyline[data-series=ready]").first.get_attribute("points")
        assert len(points.split()) == 3
        # the per-minute attempts of the observe actor (its one failure came before the samples)
        assert (
            page.locator("svg.chart[aria-label^='observe_session'] polyline[data-series=failed]").count() == 1
        )
        page.screenshot(path=str(screenshot_dir(tmp_path) / "ops.png"), full_page=True)
        page.goto(base + "/ops/jobs?status=failed")
        assert page.locator("table.jobs tr.job-failed").count() >= 1
        assert "observe_session" in page.inner_text("table.jobs")
        world.fake.default = lambda request: YES
        page.goto(base + "/ops")
        page.click("table.failed button[type=submit]")
        page.wait_for_selector(".flash")
        assert "retrying as" in page.inner_text(".flash")
        world.drain()
        page.goto(base + "/ops")
        assert page.locator("table.failed").count() == 0
    with world.deps.read() as session:
        rows = session.exec(select(Observation)).all()
    assert [(str(row.status), str(row.triggered_by)) for row in rows] == [("succeeded", "retry")]
    assert rows[0].id != failed.id


def test_only_operators_see_the_operators_pages_and_a_retry_needs_its_token(world, failed):
    with served(create_app(world.deps)) as base:
        for email, expected in (("member@example.com", 404), ("ops@example.com", 200)):
            with httpx.Client(base_url=base) as client:
                sign_in(client, email, PASSWORD)
                assert client.get("/ops").status_code == expected
                assert client.get("/ops/jobs").status_code == expected
                assert client.post(f"/ops/observations/{failed.id}/retry").status_code == 403
                if expected == 200:
                    scraped = client.get("/metrics").text
                    assert 'sightline_gemini_requests_total{kind="generate",outcome="ok"}' not in scraped
                    assert 'sightline_gemini_requests_total{kind="generate",outcome="Provider' in scraped
    with world.deps.read() as session:
        assert str(session.get(Observation, failed.id).status) == "failed"


def test_a_dead_lettered_message_is_listed_retried_or_deleted(world):
    import json
    import uuid as uuid_module

    from fastapi.testclient import TestClient

    world.fake.default = lambda request: YES
    scanner = world.scanner(scanner_type="monitor", scanner_config={"prompt": "Did payment fail?"})
    world.stop_worker()
    [requested] = world.request(scanner, CHECKOUT)
    namespace = world.settings.redis_namespace
    client = world.deps.redis()
    client.delete(f"{namespace}:observe", f"{namespace}:observe.msgs")  # as if the message had died
    dead = {}
    for name, args in (("keep", [str(requested.observation_id)]), ("drop", ["not-an-observation"])):
        message_id = str(uuid_module.uuid4())
        body = {
            "queue_name": "observe",
            "actor_name": "observe_session",
            "args": args,
            "kwargs": {},
            "options": {},
            "message_id": message_id,
            "message_timestamp": 1,
        }
        client.zadd(f"{namespace}:observe.XQ", {message_id: 1_700_000_000_000})
        client.hset(f"{namespace}:observe.XQ.msgs", message_id, json.dumps(body))
        dead[name] = message_id
    create_user(world.deps, "ops@example.com", password=PASSWORD, operator=True)
    http = TestClient(create_app(world.deps), follow_redirects=False)
    sign_in(http, "ops@example.com", PASSWORD)
    page = http.get("/ops").text
    assert dead["keep"] in page and dead["drop"] in page and "not-an-observation" in page
    session_token = form_token(page)
    dropped = http.post(
        f"/ops/dead/observe/{dead['drop']}", data={"action": "delete", "csrf_token": session_token}
    )
    assert "deleted" in dropped.headers["location"]
    resent = http.post(
        f"/ops/dead/observe/{dead['keep']}", data={"action": "retry", "csrf_token": session_token}
    )
    assert "sent+again" in resent.headers["location"]
    assert client.zcard(f"{namespace}:observe.XQ") == 0
    world.start_worker()
    world.drain()
    assert str(world.observation(requested.observation_id).status) == "succeeded"
    missing = http.post(
        f"/ops/dead/observe/{dead['keep']}", data={"action": "retry", "csrf_token": session_token}
    )
    assert "no+such+message" in missing.headers["location"]
