"""The scouts page in Debian's Chromium and over HTTP: the configs with their forms, the limits the
scheduler enforces, recent runs with each finding's evidence, an example opening the replay at its
moment; a form without its token is refused; another team's scouts and runs are never shown."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from api.app import create_app
from models import ScoutConfig, ScoutRun, Team
from pipeline.names import RUN_SCOUT
from services import scout_runs, scouts
from services.auth import create_user
from tests.integration.api_support import api_for, other_team_key
from tests.support.browser import (
    browser_page,
    chromium_or_skip,
    form_token,
    screenshot_dir,
    served,
    sign_in,
    sign_in_to,
    wait_until,
)
from tests.support.scout_sessions import recent_checkout_errors

pytestmark = [pytest.mark.db, pytest.mark.browser]
PASSWORD = "correct horse battery"
SPIKES = "signals-scout-error-spikes"
UNTRUSTED = '<img src=x onerror="document.title=1">'


def config_named(world, name: str) -> ScoutConfig:
    """The world's team's config of `name`."""
    with world.deps.read() as session:
        mine = select(ScoutConfig).where(ScoutConfig.team_id == world.team_id, ScoutConfig.skill_name == name)
        return session.exec(mine).one()


@pytest.fixture
def ran(world):
    """The canonical fleet with error spikes in dry run, run by the worker over three recent sessions
    that each end in a console error."""
    now = datetime.now(UTC)
    session_ids = recent_checkout_errors(world, now)
    scouts.sync(world.deps, world.team_id, now=now)
    scouts.update(world.deps, world.team_id, config_named(world, SPIKES).id, {"emit": False})
    claimed = scout_runs.claim_due_scouts(world.deps, now=now)
    world.broker.join(RUN_SCOUT.queue, timeout=60_000)
    world.worker.join()
    create_user(world.deps, "ada@example.com", password=PASSWORD)
    return claimed, session_ids


def test_the_page_shows_limits_and_evidence_saves_a_config_and_an_example_opens_the_replay_there(
    world, ran, tmp_path
):
    claimed, session_ids = ran
    spikes = config_named(world, SPIKES)
    refused = api_for(world).patch(
        f"/api/environments/{world.team_id}/signals/scout/configs/{spikes.id}",
        json={"run_interval_minutes": 5},
    )
    chromium = chromium_or_skip()
    with served(create_app(world.deps)) as base, browser_page(chromium) as page:
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        sign_in_to(page, base, "/scouts", "ada@example.com", PASSWORD)
        limits = scouts.limits(world.deps, world.team_id)
        assert limits.runs_today == claimed.claimed
        for name in ("runs_today", "runs_remaining_today", "max_runs_per_day", "max_runs_per_tick"):
            assert page.inner_text(f"dd[data-limit={name}]") == str(getattr(limits, name))
        assert page.locator("table.scouts tbody tr").count() == 4

        run = page.locator("article.scout-run", has=page.locator(f"code:text-is('{SPIKES}')"))
        assert "dry run: would emit 1" in run.inner_text()
        assert run.locator("[data-evidence=sessions]").inner_text() == "3 sessions"
        assert run.locator("[data-evidence=distinct_users]").inner_text() == "3 distinct users"
        examples = run.locator("a.replay-link")
        assert examples.count() == 3
        href = examples.first.get_attribute("href")
        assert href.split("#t=")[0] in {f"/sessions/{each}" for each in session_ids}
        page.screenshot(path=str(screenshot_dir(tmp_path) / "scouts.png"), full_page=True)

        row = page.locator(f"tr[data-scout='{SPIKES}']")
        row.locator("input[name=emit]").check()
        row.locator("input[name=run_interval_minutes]").fill("30")
        row.locator("button[type=submit]").click()
        page.wait_for_selector(".flash")
        assert f"saved {SPIKES}: enabled, emitting, every 30 minutes" in page.inner_text(".flash")
        row = page.locator(f"tr[data-scout='{SPIKES}']")
        row.locator("input[name=run_interval_minutes]").fill("5")
        row.locator("button[type=submit]").click()
        page.wait_for_selector(".error")
        assert refused.status_code == 400 and refused.json()["detail"] in page.inner_text(".error")

        page.goto(base + "/scouts")
        moment = float(href.split("#t=")[1])
        page.locator(f"a.replay-link[href='{href}']").first.click()
        wait_until(page, "window.sightlineReplay !== undefined")
        page.wait_for_timeout(300)
        assert abs(page.evaluate("window.sightlineReplay.currentSecond()") - moment) <= 1
        assert errors == []
    spikes = config_named(world, SPIKES)
    assert (spikes.emit, spikes.run_interval_minutes, spikes.enabled) == (True, 30, True)


def _other_team(world) -> int:
    other_team_key(world)
    with world.deps.read() as session:
        return max(team.id for team in session.exec(select(Team)).all() if team.id != world.team_id)


def test_recording_text_is_escaped_a_form_needs_its_token_and_another_team_sees_none_of_it(world):
    now = datetime.now(UTC)
    fleet = scouts.sync(world.deps, world.team_id, now=now)
    finding = {
        "source_id": "scout:x",
        "description": f"typed {UNTRUSTED}",
        "evidence": {
            "count": 2,
            "sessions": 2,
            "distinct_users": 2,
            "examples": [{"session_id": "ours-secret-session", "t": 4.5, "moment": UNTRUSTED}],
        },
    }
    with world.deps.transaction() as session:
        session.add(
            ScoutRun(
                team_id=world.team_id,
                config_id=fleet[0].id,
                skill_name=fleet[0].skill_name,
                scheduled_at=now,
                status="completed",
                emit=False,
                findings=[finding],
            )
        )
        session.add(
            ScoutRun(
                team_id=world.team_id,
                config_id=fleet[1].id,
                skill_name=fleet[1].skill_name,
                scheduled_at=now,
                status="failed",
                error=f"ValueError: {UNTRUSTED}",
                failure_reason="detector_error",
            )
        )
    other = _other_team(world)
    scouts.sync(world.deps, other, now=now)
    create_user(world.deps, "ada@example.com", password=PASSWORD)
    create_user(world.deps, "eve@example.com", password=PASSWORD, team_id=other)
    app = create_app(world.deps)

    ada = TestClient(app, follow_redirects=False)
    sign_in(ada, "ada@example.com", PASSWORD)
    ours = ada.get("/scouts").text
    assert 'href="/sessions/ours-secret-session#t=4.5"' in ours
    assert "&lt;img src=x onerror=" in ours and "<img src=x" not in ours
    assert "detector_error: ValueError: &lt;img" in ours and "dry run: would emit 1" in ours
    target = fleet[0]
    assert ada.post(f"/scouts/{target.id}", data={"team": world.team_id}).status_code == 403
    assert config_named(world, target.skill_name).enabled
    token = form_token(ours)
    bad = ada.post(
        f"/scouts/{target.id}",
        data={"team": world.team_id, "csrf_token": token, "run_interval_minutes": "hourly"},
    )
    assert bad.status_code == 400 and "run_interval_minutes: must be whole minutes" in bad.text
    done = ada.post(
        f"/scouts/{target.id}",
        data={"team": world.team_id, "csrf_token": token, "emit": "on", "run_interval_minutes": "45"},
    )
    assert done.status_code == 303
    changed = config_named(world, target.skill_name)
    assert (changed.enabled, changed.emit, changed.run_interval_minutes) == (False, True, 45)

    eve = TestClient(app, follow_redirects=False)
    sign_in(eve, "eve@example.com", PASSWORD)
    for theirs in (eve.get("/scouts").text, eve.get(f"/scouts?team={world.team_id}").text):
        assert "ours-secret-session" not in theirs and str(target.id) not in theirs
        assert "detector_error" not in theirs and "No runs yet" in theirs
        assert SPIKES in theirs  # their own fleet
    eve_token = form_token(eve.get("/scouts").text)
    stolen = eve.post(
        f"/scouts/{target.id}",
        data={"team": world.team_id, "csrf_token": eve_token, "enabled": "on", "run_interval_minutes": "10"},
    )
    assert stolen.status_code == 404
    assert not config_named(world, target.skill_name).enabled
