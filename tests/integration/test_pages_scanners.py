"""Scanners in Debian's Chromium: the list with estimates and credits, a scanner's stats as charts,
the create form refusing a bad value with the API's own message, then creating and editing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from api.app import create_app
from models import Scanner
from services.auth import create_user
from tests.integration.api_support import api_for
from tests.support.browser import browser_page, chromium_or_skip, screenshot_dir, served, sign_in, sign_in_to

pytestmark = [pytest.mark.db, pytest.mark.browser]
PASSWORD = "correct horse battery"


def test_list_stats_and_the_forms_say_what_the_api_says(world, tmp_path):
    rage = world.scanner(
        name="Rage",
        scanner_type="monitor",
        provider="heuristic",
        scanner_config={"prompt": "Rage?", "rule": "rage_click"},
    )
    world.observe(rage, "scenario-checkout-js-error", "scenario-smooth-signup")
    create_user(world.deps, "ada@example.com", password=PASSWORD)
    api = api_for(world)
    refused = api.post(
        f"/api/environments/{world.team_id}/vision/scanners",
        json={
            "name": "Tiny",
            "scanner_type": "monitor",
            "provider": "heuristic",
            "sampling_rate": 0.00001,
            "scanner_config": {"prompt": "?", "rule": "rage_click"},
        },
    ).json()["detail"]
    chromium = chromium_or_skip()
    with served(create_app(world.deps)) as base, browser_page(chromium) as page:
        sign_in_to(page, base, "/scanners", "ada@example.com", PASSWORD)
        assert "Rage" in page.inner_text("table.scanners")
        page.click("text=Rage")
        assert page.locator("svg.chart rect[data-bar=succeeded]").count() == 1
        assert page.locator("svg.chart rect[data-bar=no]").count() == 1  # the verdicts chart
        by_day = page.locator("svg.chart[aria-label^='By day'] polyline[data-series=yes]")
        points = [point.split(",") for point in by_day.get_attribute("points").split()]
        assert len(points) == 14 and points[-1][1] != points[0][1]  # today's one yes stands above the rest
        page.screenshot(path=str(screenshot_dir(tmp_path) / "scanner.png"), full_page=True)

        page.goto(base + "/scanners/new")
        page.fill("input[name=name]", "Tiny")
        page.fill("textarea[name=scanner_config]", '{"prompt": "?", "rule": "rage_click"}')
        page.fill("input[name=sampling_rate]", "0.00001")
        page.click("form.scanner-form button[type=submit]")
        assert refused in page.inner_text(".error")  # the same words as the API's 400
        page.fill("input[name=sampling_rate]", "0.5")
        page.fill("textarea[name=scanner_config]", "{not json")
        page.click("form.scanner-form button[type=submit]")
        assert "scanner_config: is not JSON" in page.inner_text(".error")
        page.fill("textarea[name=scanner_config]", '{"prompt": "Rage?", "rule": "rage_click"}')
        page.click("form.scanner-form button[type=submit]")
        page.wait_for_selector("h1 >> text=Tiny")
        page.fill("input[name=description]", "Clicks in anger")
        page.fill("textarea[name=scanner_config]", '{"prompt": "Rage now?", "rule": "rage_click"}')
        page.click("form.scanner-form button[type=submit]")
        page.wait_for_selector(".flash")
        assert "version 2" in page.inner_text(".flash")
    with world.deps.read() as session:
        tiny = session.exec(select(Scanner).where(Scanner.name == "Tiny")).one()
    assert (tiny.sampling_rate, tiny.description, tiny.scanner_version) == (0.5, "Clicks in anger", 2)


def test_another_teams_scanner_is_404_and_the_form_needs_its_token(world):
    from tests.integration.api_support import other_team_key

    other_team_key(world)
    rage = world.scanner(
        scanner_type="monitor", provider="heuristic", scanner_config={"prompt": "?", "rule": "rage_click"}
    )
    with world.deps.read() as session:
        from models import Team

        other = max(team.id for team in session.exec(select(Team)).all() if team.id != world.team_id)
    create_user(world.deps, "eve@example.com", password=PASSWORD, team_id=other)
    client = TestClient(create_app(world.deps), follow_redirects=False)
    sign_in(client, "eve@example.com", PASSWORD)
    assert client.get(f"/scanners/{rage.id}").status_code == 404
    assert client.get(f"/scanners/{rage.id}?team={world.team_id}").status_code == 404
    assert client.post(f"/scanners/{rage.id}", data={"name": "Mine"}).status_code == 403
