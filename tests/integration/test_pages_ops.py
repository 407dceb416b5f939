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
from tests.support.browser import browser_page, chromium_or_skip, screenshot_dir, served

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


def sign_in(page, base: str, email: str, path: str) -> None:
    page.goto(base + path)
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + path)


def test_a_failed_observation_is_listed_retried_and_succeeds(world, failed, tmp_path):
    chromium = chromium_or_skip()
    with served(create_app(world.deps)) as base, browser_page(chromium) as page:
        sign_in(page, base, "ops@example.com", "/ops")
        assert page.locator("table.failed tbody tr").count() == 1
        assert "provider_rejected" in page.inner_text("table.failed")
        points = page.locator("svg.chart polyline[data-series=ready]").first.get_attribute("points")
        assert len(points.split()) == 3
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
                form = client.get("/signin")
                token = form.text.split('name="csrf_token" value="')[1].split('"')[0]
                client.post("/signin", data={"email": email, "password": PASSWORD, "csrf_token": token})
                assert client.get("/ops").status_code == expected
                assert client.get("/ops/jobs").status_code == expected
                assert client.post(f"/ops/observations/{failed.id}/retry").status_code == 403
    with world.deps.read() as session:
        assert str(session.get(Observation, failed.id).status) == "failed"
